// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/core/address.h"

namespace rtcgate::app::doctor {

// A UDP socket for one probe (STUN, TURN, SIP OPTIONS), closed on destruction. Thread: the doctor's only thread.
class UdpProbe {
public:
  // Bound to local:port (port 0: any). errno-style error in `error` when it fails.
  static std::optional<UdpProbe> bind(const IpAddress& local, uint16_t port, int& error);
  UdpProbe(UdpProbe&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UdpProbe& operator=(UdpProbe&&) = delete;
  UdpProbe(const UdpProbe&) = delete;
  ~UdpProbe();

  uint16_t localPort() const;
  // Sends `request` to `to` and waits for a datagram from `to` that `accept` takes, retransmitting after 250 ms,
  // then doubling (RFC 5389 7.2.1 / RFC 3261 17.1.2.1 style) until `timeout` is spent. nullopt: no answer.
  std::optional<std::vector<uint8_t>> exchange(const IpAddress& to, uint16_t port, const std::vector<uint8_t>& request,
                                               std::chrono::milliseconds timeout,
                                               const std::function<bool(const std::vector<uint8_t>&)>& accept);

private:
  explicit UdpProbe(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The port of an AF_INET/AF_INET6 socket address (0 for another family).
uint16_t sockaddrPort(const sockaddr_storage& address);

// Whether UDP `port` on `local` can be bound now (errno in `error` when not).
bool udpBindable(const IpAddress& local, uint16_t port, int& error);

// "pid 1234 (sipp)" for the process holding UDP `port` (from /proc/net/udp{,6} and /proc/*/fd), "" when unknown
// (another user's process, or no /proc).
std::string udpPortOwner(uint16_t port);

}  // namespace rtcgate::app::doctor

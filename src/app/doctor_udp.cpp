// SPDX-License-Identifier: Apache-2.0
#include "doctor_udp.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rtcgate/core/port_owner.h"

namespace rtcgate::app::doctor {

std::optional<UdpProbe> UdpProbe::bind(const IpAddress& local, uint16_t port, int& error) {
  int fd = ::socket(local.isV6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno;
    return std::nullopt;
  }
  sockaddr_storage sa{};
  socklen_t len = local.toSockaddr(port, sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    error = errno;
    ::close(fd);
    return std::nullopt;
  }
  return UdpProbe(fd);
}

UdpProbe::~UdpProbe() {
  if (fd_ >= 0) ::close(fd_);
}

uint16_t UdpProbe::localPort() const {
  sockaddr_storage sa{};
  socklen_t len = sizeof(sa);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return sockaddrPort(sa);
}

std::optional<std::vector<uint8_t>> UdpProbe::exchange(
    const IpAddress& to, uint16_t port, const std::vector<uint8_t>& request, std::chrono::milliseconds timeout,
    const std::function<bool(const std::vector<uint8_t>&)>& accept) {
  using Clock = std::chrono::steady_clock;
  sockaddr_storage dest{};
  socklen_t destLen = to.toSockaddr(port, dest);
  const auto deadline = Clock::now() + timeout;
  auto rto = std::chrono::milliseconds(250);
  auto nextSend = Clock::now();
  for (int round = 0; round < 64; ++round) {  // bounded: the deadline ends it long before
    auto now = Clock::now();
    if (now >= deadline) break;
    if (now >= nextSend) {
      // An ICMP unreachable from an earlier send surfaces here as ECONNREFUSED on unconnected sockets too;
      // the retransmission goes out anyway and the deadline decides.
      (void)::sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&dest), destLen);
      nextSend = now + rto;
      rto *= 2;
    }
    auto wait = std::min(nextSend, deadline) - Clock::now();
    pollfd p{fd_, POLLIN, 0};
    int ms = static_cast<int>(std::max<long long>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()));
    if (::poll(&p, 1, ms) <= 0) continue;
    std::vector<uint8_t> buf(65536);
    sockaddr_storage from{};
    socklen_t fromLen = sizeof(from);
    ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
    if (n <= 0) continue;
    auto src = IpAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&from));
    uint16_t srcPort = sockaddrPort(from);
    if (!src || !(*src == to) || srcPort != port) continue;  // only the server we asked
    buf.resize(static_cast<size_t>(n));
    if (accept(buf)) return buf;
  }
  return std::nullopt;
}

uint16_t sockaddrPort(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  return 0;
}

bool udpBindable(const IpAddress& local, uint16_t port, int& error) {
  return UdpProbe::bind(local, port, error).has_value();
}

std::string udpPortOwner(uint16_t port) { return portOwner(PortProtocol::Udp, port); }

}  // namespace rtcgate::app::doctor

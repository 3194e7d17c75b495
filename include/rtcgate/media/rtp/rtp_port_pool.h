// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rtcgate::media {

// A bound UDP socket; closes on destruction.
class UdpSocket {
public:
  UdpSocket() = default;
  explicit UdpSocket(int fd) : fd_(fd) {}
  ~UdpSocket();
  UdpSocket(UdpSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  int fd() const { return fd_; }

private:
  int fd_ = -1;
};

struct RtpSocketPair {
  UdpSocket rtp;   // even port
  UdpSocket rtcp;  // rtp + 1
  uint16_t port = 0;
};

// One worker's share of the RTP port range. Thread: the owning media worker only, so no lock is needed; a port is
// free exactly when bind() succeeds, so closing the sockets is all the release there is.
class RtpPortSlice {
public:
  RtpPortSlice(uint16_t first, uint16_t last) : first_(first), last_(last), next_(first) {}
  // Binds an even RTP port and the odd RTCP port above it on `address` (non-blocking sockets).
  std::optional<RtpSocketPair> bindPair(const std::string& address);
  uint16_t first() const { return first_; }
  uint16_t last() const { return last_; }

private:
  uint16_t first_, last_, next_;
};

// media.rtp_port_min..max split into one disjoint slice per media worker (even-aligned).
// Thread: build on the control thread before the workers start; each slice then belongs to one worker.
class RtpPortPool {
public:
  RtpPortPool(uint16_t min, uint16_t max, unsigned workers);
  RtpPortSlice& slice(unsigned worker) { return slices_.at(worker); }
  size_t size() const { return slices_.size(); }

private:
  std::vector<RtpPortSlice> slices_;
};

}  // namespace rtcgate::media

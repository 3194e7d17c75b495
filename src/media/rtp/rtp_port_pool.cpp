// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/rtp_port_pool.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "rtcgate/core/address.h"

namespace rtcgate::media {
namespace {

UdpSocket bindUdp(const std::string& address, uint16_t port) {
  auto a = IpAddress::parse(address);
  if (!a) return UdpSocket();
  sockaddr_storage ss{};
  socklen_t len = a->toSockaddr(port, ss);
  UdpSocket s(socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.fd() < 0 || bind(s.fd(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return UdpSocket();
  return s;
}

}  // namespace

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

std::optional<RtpSocketPair> RtpPortSlice::bindPair(const std::string& address) {
  unsigned pairs = (unsigned{last_} - first_ + 1) / 2;
  for (unsigned i = 0; i < pairs; ++i) {
    uint16_t port = next_;
    // Round-robin through the slice so a port just released is not handed out again at once.
    next_ = static_cast<uint16_t>(next_ + 2 > last_ - 1 ? first_ : next_ + 2);
    UdpSocket rtp = bindUdp(address, port);
    if (rtp.fd() < 0) continue;
    UdpSocket rtcp = bindUdp(address, static_cast<uint16_t>(port + 1));
    if (rtcp.fd() < 0) continue;
    return RtpSocketPair{std::move(rtp), std::move(rtcp), port};
  }
  return std::nullopt;
}

RtpPortPool::RtpPortPool(uint16_t min, uint16_t max, unsigned workers) {
  uint16_t first = static_cast<uint16_t>((min + 1) & ~1u);  // RTP on even ports (RFC 3550 §11)
  if (workers == 0 || max <= first) throw std::invalid_argument("rtp port range too small");
  unsigned pairs = (unsigned{max} - first + 1) / 2;
  if (pairs < workers) throw std::invalid_argument("rtp port range smaller than one pair per worker");
  unsigned per = pairs / workers;
  for (unsigned w = 0; w < workers; ++w) {
    auto lo = static_cast<uint16_t>(first + w * per * 2);
    auto hi = static_cast<uint16_t>(w + 1 == workers ? first + pairs * 2 - 1 : lo + per * 2 - 1);
    slices_.emplace_back(lo, hi);
  }
}

}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
#include "udp_socket.h"

#include <glib-unix.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "rtcgate/core/address.h"

namespace rtcgate::load {

UdpSocket::UdpSocket(EventLoop& loop, const std::string& ip, uint16_t port, std::function<void()> readable)
    : ip_(ip), readable_(std::move(readable)) {
  auto address = IpAddress::parse(ip);
  if (!address) throw std::runtime_error("not an IP address: " + ip);
  sockaddr_storage sa{};
  socklen_t len = address->toSockaddr(port, sa);
  fd_ = ::socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    const int e = errno;
    ::close(fd_);
    throw std::runtime_error("bind " + ip + ":" + std::to_string(port) + ": " + std::strerror(e));
  }
  socklen_t got = sizeof(sa);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &got);
  port_ = ntohs(sa.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&sa)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port);
  // A generous receive buffer: 50 calls × 50 packets/s arrive in bursts when the generator's loop is busy.
  int rcvbuf = 1 << 20;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  GSource* source = g_unix_fd_source_new(fd_, G_IO_IN);
  g_source_set_callback(source, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(&UdpSocket::onReadable)),
                        this, nullptr);
  sourceId_ = g_source_attach(source, loop.context());
  g_source_unref(source);
  sourceContext_ = loop.context();
}

UdpSocket::~UdpSocket() {
  if (sourceId_ != 0) {
    GSource* s = g_main_context_find_source_by_id(sourceContext_, sourceId_);
    if (s != nullptr) g_source_destroy(s);
  }
  if (fd_ >= 0) ::close(fd_);
}

int UdpSocket::onReadable(int, unsigned, void* self) {
  auto* s = static_cast<UdpSocket*>(self);
  if (s->readable_) s->readable_();
  return G_SOURCE_CONTINUE;
}

ssize_t UdpSocket::receive(uint8_t* buf, size_t cap, sockaddr_storage* from) {
  socklen_t len = sizeof(sockaddr_storage);
  return ::recvfrom(fd_, buf, cap, 0, reinterpret_cast<sockaddr*>(from), from != nullptr ? &len : nullptr);
}

// The kernel switches receive stamping on system-wide through a deferred static key: the first datagrams after the
// first socket asks may be stamped at recvmsg time instead (a run's first packets, when nothing else had it on).
bool UdpSocket::enableArrivalTimestamps() {
  int on = 1;
  return ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0;
}

ssize_t UdpSocket::receive(uint8_t* buf, size_t cap, std::chrono::steady_clock::time_point& arrival) {
  iovec iov{buf, cap};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = ::recvmsg(fd_, &msg, 0);
  arrival = std::chrono::steady_clock::now();
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec stamp{}, now{};
    std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
    // The stamp is CLOCK_REALTIME (socket(7)): carried over to the steady clock by how long ago it was, which a
    // clock step between the two reads could only distort by the step itself (never across a run's packets).
    ::clock_gettime(CLOCK_REALTIME, &now);
    const auto waited = std::chrono::seconds(now.tv_sec - stamp.tv_sec) + std::chrono::nanoseconds(now.tv_nsec - stamp.tv_nsec);
    if (waited >= std::chrono::nanoseconds(0)) arrival -= std::chrono::duration_cast<std::chrono::steady_clock::duration>(waited);
  }
  return n;
}

bool UdpSocket::sendTo(const uint8_t* data, size_t len, const sockaddr_storage& to, socklen_t toLen) {
  return ::sendto(fd_, data, len, 0, reinterpret_cast<const sockaddr*>(&to), toLen) == static_cast<ssize_t>(len);
}

bool UdpSocket::sendTo(const std::string& text, const std::string& ip, uint16_t port) {
  auto address = IpAddress::parse(ip);
  if (!address) return false;
  sockaddr_storage sa{};
  socklen_t len = address->toSockaddr(port, sa);
  return sendTo(reinterpret_cast<const uint8_t*>(text.data()), text.size(), sa, len);
}

}  // namespace rtcgate::load

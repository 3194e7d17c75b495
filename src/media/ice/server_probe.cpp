// SPDX-License-Identifier: Apache-2.0
#include "ice/server_probe.h"

#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "rtcgate/core/address.h"

namespace rtcgate::media {

namespace {

constexpr uint32_t kMagicCookie = 0x2112A442;  // RFC 5389 §6

bool unreachableError(int e) { return e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH; }

}  // namespace

ServerProbe::ServerProbe(EventLoop& loop, const std::string& host, uint16_t port,
                         std::function<void(Result, int)> done)
    : done_(std::move(done)) {
  RTCGATE_ASSERT_ON_LOOP(loop);
  auto ip = IpAddress::parse(host);
  if (!ip) return;
  sockaddr_storage to{};
  socklen_t len = ip->toSockaddr(port, to);
  fd_ = ::socket(to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  std::random_device rd;
  for (auto& b : transaction_) b = static_cast<uint8_t>(rd());
  // Binding request, no attributes: type 0x0001, length 0, magic cookie, transaction ID.
  uint8_t req[20] = {0x00, 0x01, 0x00, 0x00,
                     static_cast<uint8_t>(kMagicCookie >> 24), static_cast<uint8_t>(kMagicCookie >> 16),
                     static_cast<uint8_t>(kMagicCookie >> 8), static_cast<uint8_t>(kMagicCookie)};
  std::memcpy(req + 8, transaction_, sizeof transaction_);
  watch_ = g_unix_fd_source_new(fd_, static_cast<GIOCondition>(G_IO_IN | G_IO_ERR));
  g_source_set_callback(watch_, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(&ServerProbe::onReadable)),
                        this, nullptr);
  g_source_attach(watch_, loop.context());
  // A failure here is reported from the loop, never from inside the constructor (the owner is not ready yet).
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), len) != 0 || ::send(fd_, req, sizeof req, 0) < 0) {
    const int e = errno;
    if (!unreachableError(e)) {
      stop();
      return;
    }
    // No route at all: known now, reported from the loop (the owner is still constructing us).
    failNow_ = Timer(loop, std::chrono::milliseconds(0), [this, e] {
      stop();
      if (done_) finish(Result::Unreachable, e);
      return false;
    });
  }
}

ServerProbe::~ServerProbe() { stop(); }

void ServerProbe::stop() {
  // Also from the watch's own callback: GLib keeps the source alive until that returns.
  if (watch_ != nullptr) {
    g_source_destroy(watch_);
    g_source_unref(watch_);
    watch_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void ServerProbe::finish(Result r, int error) {
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(r, error);
}

gboolean ServerProbe::onReadable(gint fd, GIOCondition, gpointer self) noexcept {
  auto* me = static_cast<ServerProbe*>(self);
  uint8_t buf[548];
  for (int i = 0; i < 8; ++i) {  // bounded: a flood on this port must not hold the loop
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      const int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) return G_SOURCE_CONTINUE;
      if (unreachableError(e)) {
        me->stop();
        me->finish(Result::Unreachable, e);
        return G_SOURCE_REMOVE;
      }
      continue;
    }
    // Binding success (0x0101) or error (0x0111) response to our transaction: the server answers.
    if (n >= 20 && buf[0] == 0x01 && (buf[1] == 0x01 || buf[1] == 0x11) &&
        std::memcmp(buf + 8, me->transaction_, sizeof me->transaction_) == 0) {
      me->stop();
      me->finish(Result::Answered, 0);
      return G_SOURCE_REMOVE;
    }
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/proxy_header_reader.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "rtcgate/core/log.h"
#include "rtcgate/signaling/proxy_protocol.h"

namespace rtcgate::signaling {
namespace {

constexpr const char* kMetric = "rtcgate_wss_proxy_headers_rejected_total";
constexpr const char* kMetricHelp =
    "Connections from a trusted proxy closed before TLS because of their PROXY protocol header, by reason";
// Every reason, so that each series is rendered (at 0) from the start.
constexpr const char* kReasons[] = {"missing",    "truncated",   "timeout",    "bad_signature", "bad_version",
                                    "bad_command", "bad_family", "bad_address", "too_long",      "no_crlf",
                                    "overload"};

}  // namespace

struct ProxyHeaderReader::Pending {
  ProxyHeaderReader* reader = nullptr;
  int fd = -1;
  IpAddress proxy;
  bool required = true;
  std::string header;  // the header bytes consumed so far
  GSource* watch = nullptr;
  Timer deadline;
  Done done;

  ~Pending() {
    if (watch != nullptr) {
      // Also from the watch's own callback: GLib keeps the source alive until that returns.
      g_source_destroy(watch);
      g_source_unref(watch);
    }
  }
};

ProxyHeaderReader::ProxyHeaderReader(EventLoop& loop, Metrics& metrics) : loop_(loop), metrics_(metrics) {
  for (const char* reason : kReasons) metrics_.counter(kMetric, kMetricHelp, {{"reason", reason}});
}

ProxyHeaderReader::~ProxyHeaderReader() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  for (auto& [fd, p] : pending_) ::close(fd);
  pending_.clear();
}

void ProxyHeaderReader::start(int fd, const IpAddress& proxy, bool required, std::chrono::milliseconds timeout,
                              Done done) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  auto p = std::make_unique<Pending>();
  p->reader = this;
  p->fd = fd;
  p->proxy = proxy;
  p->required = required;
  p->done = std::move(done);
  p->watch = g_unix_fd_source_new(fd, static_cast<GIOCondition>(G_IO_IN | G_IO_ERR | G_IO_HUP));
  g_source_set_callback(p->watch, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(&onReadable)),
                        p.get(), nullptr);
  g_source_attach(p->watch, loop_.context());
  // A proxy that opens a connection and sends nothing holds a socket: bounded like a TLS handshake.
  p->deadline = Timer(loop_, timeout, [this, fd] {
    fail(fd, "timeout");
    return false;
  });
  pending_[fd] = std::move(p);
}

gboolean ProxyHeaderReader::onReadable(gint, GIOCondition, gpointer self) {
  auto* p = static_cast<Pending*>(self);
  p->reader->advance(*p);
  // Either still waiting (the source stays) or finished, and then the source was destroyed already.
  return G_SOURCE_CONTINUE;
}

bool ProxyHeaderReader::advance(Pending& p) {
  char peeked[kProxyHeaderMaxBytes];
  const size_t room = kProxyHeaderMaxBytes - p.header.size();
  ssize_t n = ::recv(p.fd, peeked, room, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
  if (n <= 0) {
    fail(p.fd, "truncated");
    return true;
  }
  std::string candidate = p.header;
  candidate.append(peeked, static_cast<size_t>(n));
  const ProxyHeader h = parseProxyHeader(candidate);
  switch (h.status) {
    case ProxyHeader::Status::NeedMore:
      // Every byte seen belongs to the header: take them out of the socket, or the watch would fire again.
      if (::recv(p.fd, peeked, static_cast<size_t>(n), 0) != n) {
        fail(p.fd, "truncated");
        return true;
      }
      p.header = std::move(candidate);
      return false;
    case ProxyHeader::Status::Done: {
      const size_t rest = h.length - p.header.size();
      if (::recv(p.fd, peeked, rest, 0) != static_cast<ssize_t>(rest)) {
        fail(p.fd, "truncated");
        return true;
      }
      finish(p.fd, h.source);
      return true;
    }
    case ProxyHeader::Status::NotProxy:
      if (p.required) {
        fail(p.fd, "missing");
      } else {
        finish(p.fd, std::nullopt);
      }
      return true;
    case ProxyHeader::Status::Invalid:
      fail(p.fd, h.reason);
      return true;
  }
  return true;
}

void ProxyHeaderReader::reject(const IpAddress& proxy, const char* reason) {
  metrics_.counter(kMetric, kMetricHelp, {{"reason", reason}}).fetch_add(1, std::memory_order_relaxed);
  if (logLimit_.take(std::chrono::steady_clock::now()))
    log::get(log::Component::Wss)
        ->warn("connection from trusted proxy {} closed before TLS: PROXY protocol header {} (further ones counted in "
               "{}, logged at most once a second)",
               proxy.toString(), reason, kMetric);
}

void ProxyHeaderReader::fail(int fd, const char* reason) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  const IpAddress proxy = it->second->proxy;
  pending_.erase(it);
  ::close(fd);
  reject(proxy, reason);
}

void ProxyHeaderReader::finish(int fd, std::optional<IpAddress> client) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  Done done = std::move(it->second->done);
  pending_.erase(it);
  done(fd, client);
}

}  // namespace rtcgate::signaling

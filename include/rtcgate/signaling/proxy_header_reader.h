// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <glib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "rtcgate/core/address.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/core/token_bucket.h"

namespace rtcgate::signaling {

// Reads the PROXY protocol header (proxy_protocol.h) of sockets accepted from a trusted load balancer, before
// anything else reads them: without blocking the loop, within a deadline, and never a byte past the header (it
// peeks, then consumes only header bytes), so the TLS ClientHello that follows in the same segment stays in the
// socket for libwebsockets. A socket whose header is missing, malformed, too long, cut short or late is closed
// and counted in rtcgate_wss_proxy_headers_rejected_total{reason}. Thread: the loop given; create, use and destroy
// it there.
class ProxyHeaderReader {
public:
  // fd: the socket, now the caller's again; client: the header's source address, empty for LOCAL / UNKNOWN /
  // UNSPEC (and for no header at all when it is not required).
  using Done = std::function<void(int fd, std::optional<IpAddress> client)>;

  ProxyHeaderReader(EventLoop& loop, Metrics& metrics);
  ~ProxyHeaderReader();  // closes the sockets still being read
  ProxyHeaderReader(const ProxyHeaderReader&) = delete;
  ProxyHeaderReader& operator=(const ProxyHeaderReader&) = delete;

  // Takes ownership of `fd` (an accepted TCP socket; made non-blocking here). `proxy` is its peer (for logs).
  // required = false: a connection whose first byte starts no header goes on without one.
  void start(int fd, const IpAddress& proxy, bool required, std::chrono::milliseconds timeout, Done done);
  size_t pending() const { return pending_.size(); }
  // Counts a connection refused before reading (for the caller's own bounds), under `reason`.
  void reject(const IpAddress& proxy, const char* reason);

private:
  struct Pending;
  static gboolean onReadable(gint fd, GIOCondition condition, gpointer self);
  // Reads what can be read; returns true when the connection is finished (handed over or closed).
  bool advance(Pending& p);
  void fail(int fd, const char* reason);
  void finish(int fd, std::optional<IpAddress> client);

  EventLoop& loop_;
  Metrics& metrics_;
  std::unordered_map<int, std::unique_ptr<Pending>> pending_;
  TokenBucket logLimit_{1, 1};
};

}  // namespace rtcgate::signaling

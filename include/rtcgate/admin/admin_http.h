// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"

struct lws_context;

namespace rtcgate::admin {

// Operator HTTP endpoint on libwebsockets over the control loop: /healthz (process alive), /readyz (accepting
// calls), /metrics (Prometheus text), and the JSON admin API under /api/v1/ (docs/admin-api.md) once setApi() is
// called. Plain HTTP: bind it to loopback or a management network only; beyond loopback the configuration
// requires listeners.admin.token_file and every /api/v1 request must carry it as a bearer token.
// Thread: control; create, use and destroy it there.
class AdminHttp {
public:
  // `ready`: why the gateway is not ready, one line per failing condition; empty when ready (/readyz 200).
  AdminHttp(EventLoop& control, const config::Endpoint& bind, Metrics& metrics,
            std::function<std::vector<std::string>()> ready);
  ~AdminHttp();
  AdminHttp(const AdminHttp&) = delete;
  AdminHttp& operator=(const AdminHttp&) = delete;

  uint16_t port() const { return port_; }

  // Answer an HTTP GET for `path`: status code, content type and body. Public for unit tests.
  struct Response {
    int status;
    std::string contentType;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers = {};
  };
  Response handle(const std::string& path) const;

  // One /api/v1 request, already authorised. `reply` may run later (after the media workers answered), on the
  // control loop; it does nothing once the client went away.
  struct ApiRequest {
    std::string method;  // "GET" / "POST"
    std::string path;    // below /api/v1/, e.g. "calls/abc" (no query string)
    std::string body;    // at most kMaxBody bytes
  };
  using Reply = std::function<void(Response)>;
  using ApiHandler = std::function<void(const ApiRequest&, Reply)>;
  // `token` returns the bearer token in force (reloaded with the configuration); empty: none required.
  void setApi(ApiHandler handler, std::function<std::string()> token);

  static constexpr size_t kMaxBody = 4096;

  // Internal: routes one request of the listener (called from the lws callback).
  void dispatch(const std::string& method, const std::string& path, const std::string& authorization,
                const std::string& body, Reply reply) const;

private:
  EventLoop& control_;
  Metrics& metrics_;
  std::function<std::vector<std::string>()> ready_;
  ApiHandler api_;
  std::function<std::string()> token_;
  lws_context* context_ = nullptr;
  uint16_t port_ = 0;
};

// Constant-time comparison of a presented token with the configured one (length leaks, content does not).
bool tokenMatches(const std::string& presented, const std::string& expected);

}  // namespace rtcgate::admin

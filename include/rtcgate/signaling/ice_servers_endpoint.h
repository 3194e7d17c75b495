// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/signaling/agent_authenticator.h"

namespace rtcgate::signaling {

// GET /rtcgate/ice-servers on the WSS listeners: the ICE servers a browser page should use (browser.ice_servers),
// with short-lived TURN REST credentials for the authenticated agent, and the gathering cap the page applies
// (docs/network.md "The browser side"). Authenticated like the agent's REGISTER (digest or signed token, same
// nonces and failure limiter); Origin checked against security.allowed_origins as for the WebSocket handshake; CORS
// for pages served elsewhere. No lws here: requests and replies are values. Thread: control.
class IceServersEndpoint {
public:
  static constexpr std::string_view kPath = "/rtcgate/ice-servers";

  struct Request {
    std::string method;  // GET, OPTIONS (CORS preflight), anything else gets 405
    std::string uri;     // the request target as sent (path and query)
    std::string origin;  // empty when absent
    std::string host;    // Host (HTTP/1.1) or :authority (HTTP/2), already checked as host[:port]; empty when not
    std::string authorization;
    std::string sourceIp;
  };
  struct Reply {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string contentType = "application/json";
    std::string body;
  };

  IceServersEndpoint(const config::Config& config, AgentAuthenticator& auth, Metrics& metrics);
  void applyConfig(const config::Config& config);

  // True when `path` (the URI's path, without query) is this endpoint's.
  static bool handles(std::string_view path);
  Reply handle(const Request& request, std::chrono::system_clock::time_point now);

private:
  bool originAllowed(const std::string& origin) const;
  std::string json(const std::string& agent, std::chrono::system_clock::time_point now) const;

  AgentAuthenticator& auth_;
  config::Browser browser_;
  std::vector<std::string> allowedOrigins_;
  Secret turnSecret_;
  std::atomic<uint64_t>& served_;
  std::atomic<uint64_t>& refused_;
};

}  // namespace rtcgate::signaling

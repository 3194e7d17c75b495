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
// calls), /metrics (Prometheus text). Plain HTTP: bind it to loopback or a management network only.
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
  };
  Response handle(const std::string& path) const;

private:
  EventLoop& control_;
  Metrics& metrics_;
  std::function<std::vector<std::string>()> ready_;
  lws_context* context_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace rtcgate::admin

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "drain.h"
#include "rtcgate/admin/admin_http.h"
#include "rtcgate/config/config_store.h"

namespace rtcgate::session {
class SessionManager;
}
namespace rtcgate::signaling {
class WssServer;
}
namespace rtcgate::sip {
class SipStack;
}

namespace rtcgate::app {

// The routes of the JSON admin API under /api/v1/ (docs/admin-api.md). What it reads lives on the control loop,
// except the calls' media counters, which Session::snapshot copies on each call's media worker.
// Thread: control.
class AdminApi {
public:
  struct Deps {
    const config::ConfigStore& store;
    session::SessionManager* sessions;  // null without a WSS listener
    signaling::WssServer* wss;          // null without a WSS listener
    sip::SipStack* sip;
    Drain& drain;
    std::function<config::ConfigStore::ReloadResult()> reload;
  };
  explicit AdminApi(Deps deps) : d_(std::move(deps)) {}

  void handle(const admin::AdminHttp::ApiRequest& req, admin::AdminHttp::Reply reply);

private:
  admin::AdminHttp::Response status() const;
  admin::AdminHttp::Response agents() const;
  admin::AdminHttp::Response dns() const;
  admin::AdminHttp::Response upstreams() const;
  admin::AdminHttp::Response reload();
  admin::AdminHttp::Response drainInfo() const;
  admin::AdminHttp::Response startDrain(const std::string& body);
  admin::AdminHttp::Response hangup(const std::string& id, const std::string& body);

  Deps d_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace rtcgate::app

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "nua_glue.h"
#include "rtcgate/core/event_loop.h"

namespace rtcgate::sip {

// Pings one upstream server with OPTIONS every interval; a reply proves it up, a timeout or a transport error
// (nua reports both as 408 / 503 without a server's answer) marks it down. Thread: the control loop.
class UpstreamMonitor final : public HandleOwner {
public:
  UpstreamMonitor(EventLoop& loop, nua_t* nua, std::string uri, std::chrono::milliseconds interval,
                  std::function<void(UpstreamState)> changed);
  UpstreamState state() const { return status_.state; }
  const std::string& uri() const { return status_.uri; }
  // State, the last ping's status, the last answer's time and the failures (admin API).
  const UpstreamStatus& status() const { return status_; }
  void detach(bool destroyHandle = true);

private:
  void ping();
  void onOptionsReply(int status, const char* phrase, const sip_s* sip) override;

  EventLoop& loop_;
  nua_t* nua_;
  std::function<void(UpstreamState)> changed_;
  std::unique_ptr<nua_handle_s, NuaHandleDeleter> nh_;
  Timer timer_;
  bool inFlight_ = false;
  UpstreamStatus status_;
};

}  // namespace rtcgate::sip

// SPDX-License-Identifier: Apache-2.0
#include "upstream_monitor.h"

#include "rtcgate/core/log.h"

namespace rtcgate::sip {

UpstreamMonitor::UpstreamMonitor(EventLoop& loop, nua_t* nua, std::string uri, std::chrono::milliseconds interval,
                                 std::function<void(UpstreamState)> changed)
    : loop_(loop), nua_(nua), changed_(std::move(changed)) {
  status_.uri = std::move(uri);
  nh_.reset(nua_handle(nua_, this, NUTAG_URL(status_.uri.c_str()), TAG_END()));
  timer_ = Timer(loop_, interval, [this] {
    ping();
    return true;
  });
  ping();
}

void UpstreamMonitor::detach(bool destroyHandle) {
  timer_.cancel();
  if (destroyHandle)
    nh_.reset();
  else
    (void)nh_.release();  // nua_destroy frees it
}

void UpstreamMonitor::ping() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!nh_ || inFlight_) return;  // one ping at a time: a slow server is not flooded
  inFlight_ = true;
  nua_options(nh_.get(), TAG_END());
}

void UpstreamMonitor::onOptionsReply(int status, const char* phrase, const sip_s* sip) {
  if (status < 200) return;
  inFlight_ = false;
  // nta itself answers 408 on timeout and 503 on a transport error; a server answering 503 is not taking
  // traffic either. Any other response proves the server is there, whatever its status (405, 404...).
  (void)sip;
  UpstreamState next = (status == 408 || status == 503) ? UpstreamState::Down : UpstreamState::Up;
  status_.lastStatus = status;
  status_.lastPhrase = phrase != nullptr ? phrase : "";
  if (next == UpstreamState::Up) {
    status_.lastAnswer = std::chrono::steady_clock::now();
    status_.consecutiveFailures = 0;
  } else {
    ++status_.consecutiveFailures;
    ++status_.failuresTotal;
  }
  if (next == status_.state) return;
  status_.state = next;
  const auto& uri = status_.uri;
  if (next == UpstreamState::Up)
    log::get(log::Component::Sip)->info("upstream {} is up (OPTIONS {} {})", uri, status, log::escaped(status_.lastPhrase));
  else
    log::get(log::Component::Sip)->warn("upstream {} is down (OPTIONS {} {})", uri, status, log::escaped(status_.lastPhrase));
  if (changed_) changed_(next);
}

}  // namespace rtcgate::sip

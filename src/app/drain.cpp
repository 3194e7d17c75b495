// SPDX-License-Identifier: Apache-2.0
#include "drain.h"

#include <fmt/format.h>

#include "rtcgate/core/log.h"
#include "rtcgate/core/sd_notify.h"

namespace rtcgate::app {
namespace {
// How often the drain looks whether the last call ended: the process exits at most this long after it did.
constexpr std::chrono::milliseconds kPoll{250};
}  // namespace

bool Drain::start(std::chrono::milliseconds deadline, const std::string& requestedBy) {
  if (active_) return false;
  active_ = true;
  requestedBy_ = requestedBy;
  deadline_ = deadline;
  started_ = std::chrono::steady_clock::now();
  endAt_ = started_ + deadline;
  lastLog_ = started_ - kLogInterval;
  hooks_.refuseNew();
  log::get(log::Component::Core)
      ->info("drain started by {}: new calls and registrations refused (503), {} call(s) in progress, deadline {} s",
             requestedBy, hooks_.callsLeft(), deadline.count() / 1000.0);
  // First look after kPoll, not now: the API's answer to POST /drain must leave before a drain with no call stops.
  timer_ = Timer(control_, kPoll, [this] {
    tick();
    return !stopped_;
  });
  return true;
}

Drain::Progress Drain::progress() const {
  Progress p;
  p.active = active_;
  if (!active_) return p;
  const auto now = std::chrono::steady_clock::now();
  p.callsLeft = hooks_.callsLeft();
  p.deadlineS = deadline_.count() / 1000.0;
  p.secondsLeft = std::max(0.0, std::chrono::duration<double>(endAt_ - now).count());
  p.elapsedS = std::chrono::duration<double>(now - started_).count();
  p.requestedBy = requestedBy_;
  p.stopping = stopped_;
  return p;
}

void Drain::tick() {
  if (stopped_) return;
  const auto p = progress();
  const auto now = std::chrono::steady_clock::now();
  if (p.callsLeft == 0) {
    stopped_ = true;
    log::get(log::Component::Core)->info("drain: no call left after {:.1f} s; stopping", p.elapsedS);
    sdNotify("STATUS=draining: no call left, stopping");
    hooks_.stop("drain complete");
    return;
  }
  if (now >= endAt_) {
    stopped_ = true;
    log::get(log::Component::Core)->warn("drain: deadline reached, ending the {} call(s) left", p.callsLeft);
    sdNotify(fmt::format("STATUS=draining: deadline reached, ending {} call(s)", p.callsLeft));
    hooks_.stop("drain deadline");
    return;
  }
  if (now - lastLog_ >= kLogInterval) {
    lastLog_ = now;
    log::get(log::Component::Core)->info("drain: {} call(s) left, {:.0f} s to the deadline", p.callsLeft, p.secondsLeft);
    sdNotify(fmt::format("STATUS=draining: {} call(s) left, {:.0f} s to the deadline", p.callsLeft, p.secondsLeft));
  }
}

}  // namespace rtcgate::app

// SPDX-License-Identifier: Apache-2.0
#include "retransmission.h"

#include <algorithm>

namespace rtcgate::load {

RetransmitSchedule::RetransmitSchedule(RetransmitKind kind, std::chrono::milliseconds t1, std::chrono::milliseconds t2)
    : kind_(kind), t2_(t2), interval_(t1), limit_(t1 * 64) {}

RetransmitSchedule::Step RetransmitSchedule::next() {
  if (elapsed_ + interval_ >= limit_) {
    const auto wait = limit_ - elapsed_;
    elapsed_ = limit_;
    return {wait, true};
  }
  const auto wait = interval_;
  elapsed_ += wait;
  interval_ = kind_ == RetransmitKind::InviteRequest ? interval_ * 2 : std::min(interval_ * 2, t2_);
  return {wait, false};
}

void Retransmission::start(EventLoop& loop, RetransmitKind kind, std::function<void()> resend,
                           std::function<void()> timeout) {
  schedule_ = RetransmitSchedule(kind);
  resend_ = std::move(resend);
  timeout_ = std::move(timeout);
  arm(loop);
}

void Retransmission::arm(EventLoop& loop) {
  const auto step = schedule_.next();
  timer_ = Timer(loop, step.wait, [this, &loop, timeout = step.timeout] {
    if (timeout) {
      // The callback may destroy this object (a failed call): nothing of it is used afterwards.
      auto cb = std::move(timeout_);
      if (cb) cb();
      return false;
    }
    resend_();
    arm(loop);
    return false;
  });
}

}  // namespace rtcgate::load

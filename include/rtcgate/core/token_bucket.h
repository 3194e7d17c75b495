// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <chrono>

namespace rtcgate {

// A token bucket: up to `burst` events at once, then `ratePerSecond` on average. The caller passes the time, so
// tests drive it without sleeping. Thread: one owner (no locking).
class TokenBucket {
public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double ratePerSecond, double burst) : rate_(ratePerSecond), burst_(burst), tokens_(burst) {}

  // True (and one token spent) when the event may go now.
  bool take(Clock::time_point now) {
    if (!started_) {
      started_ = true;
      last_ = now;
    } else if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // True when the bucket holds its whole burst again at `now`: forgetting it then loses nothing.
  bool full(Clock::time_point now) const {
    if (!started_ || tokens_ >= burst_) return true;
    if (now <= last_ || rate_ <= 0) return false;
    return tokens_ + std::chrono::duration<double>(now - last_).count() * rate_ >= burst_;
  }

private:
  double rate_;
  double burst_;
  double tokens_;
  bool started_ = false;
  Clock::time_point last_{};
};

}  // namespace rtcgate

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/auth_rate_limiter.h"

namespace rtcgate::signaling {
namespace {
constexpr auto kWindow = std::chrono::minutes(1);
}

bool AuthRateLimiter::blocked(const std::string& ip, Clock::time_point now) const {
  auto it = windows_.find(ip);
  if (it == windows_.end() || now - it->second.start >= kWindow) return false;
  return it->second.failures >= limit_;
}

void AuthRateLimiter::recordFailure(const std::string& ip, Clock::time_point now) {
  auto it = windows_.find(ip);
  if (it == windows_.end()) {
    if (windows_.size() >= maxTracked_) {
      auto oldest = windows_.begin();
      for (auto i = windows_.begin(); i != windows_.end(); ++i)
        if (i->second.start < oldest->second.start) oldest = i;
      windows_.erase(oldest);
    }
    it = windows_.emplace(ip, Window{now, 0}).first;
  } else if (now - it->second.start >= kWindow) {
    it->second = Window{now, 0};
  }
  ++it->second.failures;
}

}  // namespace rtcgate::signaling

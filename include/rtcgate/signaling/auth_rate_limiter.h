// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace rtcgate::signaling {

// Counts failed authentications per source IP in fixed one-minute windows and blocks an IP that reached the limit
// until its window ends. The table is bounded: when full, the entry with the oldest window is evicted.
// Thread: control.
class AuthRateLimiter {
public:
  using Clock = std::chrono::steady_clock;

  explicit AuthRateLimiter(uint32_t failuresPerMinute, size_t maxTracked = 65536)
      : limit_(failuresPerMinute), maxTracked_(maxTracked) {}
  void setLimit(uint32_t failuresPerMinute) { limit_ = failuresPerMinute; }

  bool blocked(const std::string& ip, Clock::time_point now) const;
  void recordFailure(const std::string& ip, Clock::time_point now);
  size_t tracked() const { return windows_.size(); }

private:
  struct Window {
    Clock::time_point start;
    uint32_t failures = 0;
  };
  uint32_t limit_;
  size_t maxTracked_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace rtcgate::signaling

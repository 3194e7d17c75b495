// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "rtcgate/core/token_bucket.h"

namespace rtcgate {

// One rate: `perSecond` on average after a burst of `burst`. perSecond 0 switches the limit off.
struct Rate {
  uint32_t perSecond = 0;
  uint32_t burst = 0;
  bool operator==(const Rate&) const = default;
};

// Admission of one kind of event (a new connection, a REGISTER, an INVITE) by a token bucket per source IP and one
// for all sources. The per-IP bucket is asked first, so one flooding address spends its own tokens and not the
// global ones. The per-IP table is bounded: when full, buckets that have refilled completely are forgotten (they
// lose nothing), then, if still full, the least recently used one. Thread: one owner (no locking).
class RateLimiter {
public:
  using Clock = TokenBucket::Clock;
  enum class Verdict { Allowed, PerIpLimited, GlobalLimited };

  RateLimiter(Rate perIp, Rate global, size_t maxTracked = 65536);

  // New rates apply from the next event; buckets start again full (a reload is never a reason to refuse).
  void setRates(Rate perIp, Rate global);
  Verdict admit(const std::string& ip, Clock::time_point now);
  // Retry-After of a refusal: rates are whole events per second, so a refused event's token is back within 1 s.
  static constexpr uint32_t kRetryAfterS = 1;
  size_t tracked() const { return perIp_.size(); }

private:
  struct Entry {
    TokenBucket bucket;
    Clock::time_point lastUsed;
  };
  void makeRoom(Clock::time_point now);

  Rate perIpRate_;
  Rate globalRate_;
  size_t maxTracked_;
  TokenBucket global_;
  std::unordered_map<std::string, Entry> perIp_;
};

}  // namespace rtcgate

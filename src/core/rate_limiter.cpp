// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/rate_limiter.h"

#include <algorithm>

namespace rtcgate {
namespace {
TokenBucket bucketFor(Rate r) { return TokenBucket(r.perSecond, std::max<uint32_t>(r.burst, 1)); }
}  // namespace

RateLimiter::RateLimiter(Rate perIp, Rate global, size_t maxTracked)
    : perIpRate_(perIp), globalRate_(global), maxTracked_(std::max<size_t>(maxTracked, 1)), global_(bucketFor(global)) {}

void RateLimiter::setRates(Rate perIp, Rate global) {
  if (perIp != perIpRate_) perIp_.clear();
  if (global != globalRate_) global_ = bucketFor(global);
  perIpRate_ = perIp;
  globalRate_ = global;
}

RateLimiter::Verdict RateLimiter::admit(const std::string& ip, Clock::time_point now) {
  if (perIpRate_.perSecond > 0) {
    auto it = perIp_.find(ip);
    if (it == perIp_.end()) {
      if (perIp_.size() >= maxTracked_) makeRoom(now);
      it = perIp_.emplace(ip, Entry{bucketFor(perIpRate_), now}).first;
    }
    it->second.lastUsed = now;
    if (!it->second.bucket.take(now)) return Verdict::PerIpLimited;
  }
  if (globalRate_.perSecond > 0 && !global_.take(now)) return Verdict::GlobalLimited;
  return Verdict::Allowed;
}

void RateLimiter::makeRoom(Clock::time_point now) {
  for (auto it = perIp_.begin(); it != perIp_.end();) {
    if (it->second.bucket.full(now))
      it = perIp_.erase(it);
    else
      ++it;
  }
  if (perIp_.size() < maxTracked_) return;
  auto oldest = std::min_element(perIp_.begin(), perIp_.end(),
                                 [](const auto& a, const auto& b) { return a.second.lastUsed < b.second.lastUsed; });
  perIp_.erase(oldest);
}

}  // namespace rtcgate

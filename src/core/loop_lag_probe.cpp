// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/loop_lag_probe.h"

namespace rtcgate {

LoopLagProbe::LoopLagProbe(EventLoop& loop, std::chrono::milliseconds period, Metrics::Histogram* lag,
                           std::atomic<uint64_t>* maxLagUs)
    : period_(period), lag_(lag), maxLagUs_(maxLagUs), due_(std::chrono::steady_clock::now() + period),
      timer_(loop, period, [this] { return fire(); }) {}

// A relative timer, re-armed from each firing: its lateness is the loop's stall since the firing before, not an
// accumulated drift. GLib rounds a millisecond timeout to the millisecond, so lateness under ~1 ms is noise.
bool LoopLagProbe::fire() {
  const auto now = std::chrono::steady_clock::now();
  const auto lateUs = std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(now - due_).count());
  due_ = now + period_;
  if (lag_ != nullptr) lag_->observe(static_cast<double>(lateUs) / 1e6);
  if (maxLagUs_ != nullptr) {
    auto seen = maxLagUs_->load(std::memory_order_relaxed);
    while (static_cast<uint64_t>(lateUs) > seen &&
           !maxLagUs_->compare_exchange_weak(seen, static_cast<uint64_t>(lateUs), std::memory_order_relaxed)) {
    }
  }
  return true;
}

}  // namespace rtcgate

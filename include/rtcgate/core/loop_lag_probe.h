// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"

namespace rtcgate {

// Event-loop lag probe (issue 13, the packet gap after SIGHUP): a timer on one loop that measures how late each
// of its firings is. A media worker that is stalled (a blocking call, a long task posted to it, a lock held by
// another thread, no CPU to run on) fires late by the length of the stall, whatever its calls are doing, so the
// figure tells a stall of rtcgate's media thread apart from a gap made elsewhere (the sender, the receiver, the
// machine). Lateness goes to a histogram and to a running maximum (the figure scripts/reload_gap_bench.sh reads).
// Thread: construct and destroy on the loop's own thread (it owns a Timer); maxLagUs() from any thread.
class LoopLagProbe {
public:
  LoopLagProbe(EventLoop& loop, std::chrono::milliseconds period, Metrics::Histogram* lag,
               std::atomic<uint64_t>* maxLagUs);
  LoopLagProbe(const LoopLagProbe&) = delete;
  LoopLagProbe& operator=(const LoopLagProbe&) = delete;

private:
  bool fire();

  std::chrono::milliseconds period_;
  Metrics::Histogram* lag_;
  std::atomic<uint64_t>* maxLagUs_;
  std::chrono::steady_clock::time_point due_;
  Timer timer_;
};

}  // namespace rtcgate

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/loop_lag_probe.h"
#include "rtcgate/core/metrics.h"

namespace rtcgate {

// The media worker loops. A call is pinned to one worker for life; pick() chooses the least-loaded one.
// Thread: construct, start, stop and pick() on the control thread; load counters are atomics any worker may touch.
class WorkerPool {
public:
  // workers == 0 means one per hardware thread.
  explicit WorkerPool(unsigned workers);
  ~WorkerPool();

  void start();
  void stop();

  size_t size() const { return workers_.size(); }
  EventLoop& loop(size_t index) { return workers_.at(index)->thread.loop(); }

  // Least-loaded worker; the caller adds load with acquire() and gives it back with release().
  size_t pick() const;
  void acquire(size_t index) { workers_.at(index)->load.fetch_add(1, std::memory_order_relaxed); }
  void release(size_t index) { workers_.at(index)->load.fetch_sub(1, std::memory_order_relaxed); }
  int load(size_t index) const { return workers_.at(index)->load.load(std::memory_order_relaxed); }

  // A LoopLagProbe on every worker (after start()), observed into `lag`; maxLagUs() is the largest lateness seen.
  void probeLag(std::chrono::milliseconds period, Metrics::Histogram& lag);
  uint64_t maxLagUs() const { return maxLagUs_.load(std::memory_order_relaxed); }
  // Tasks run by all workers so far (EventLoop::tasksRun): what the control thread has posted to media loops.
  uint64_t tasksRun() const;

private:
  struct Worker {
    explicit Worker(std::string name) : thread(std::move(name)) {}
    LoopThread thread;
    std::atomic<int> load{0};
    std::unique_ptr<LoopLagProbe> lagProbe;  // created on the worker's thread, destroyed after it was joined
  };
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> maxLagUs_{0};
};

}  // namespace rtcgate

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/worker_pool.h"

#include <string>
#include <thread>

namespace rtcgate {

WorkerPool::WorkerPool(unsigned workers) {
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < workers; ++i) workers_.push_back(std::make_unique<Worker>("rtc-media-" + std::to_string(i)));
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  for (auto& w : workers_) w->thread.start();
}

void WorkerPool::stop() {
  for (auto& w : workers_) w->thread.stop();
  // The threads are joined: nothing dispatches the probes' timers any more, so they may go from this thread.
  for (auto& w : workers_) w->lagProbe.reset();
}

void WorkerPool::probeLag(std::chrono::milliseconds period, Metrics::Histogram& lag) {
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->thread.loop().post([this, worker, period, &lag] {
      worker->lagProbe = std::make_unique<LoopLagProbe>(worker->thread.loop(), period, &lag, &maxLagUs_);
    });
  }
}

uint64_t WorkerPool::tasksRun() const {
  uint64_t n = 0;
  for (const auto& w : workers_) n += w->thread.loop().tasksRun();
  return n;
}

size_t WorkerPool::pick() const {
  size_t best = 0;
  for (size_t i = 1; i < workers_.size(); ++i)
    if (workers_[i]->load.load(std::memory_order_relaxed) < workers_[best]->load.load(std::memory_order_relaxed)) best = i;
  return best;
}

}  // namespace rtcgate

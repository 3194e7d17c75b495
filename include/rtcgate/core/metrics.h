// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace rtcgate {

// Process-wide counters and gauges, rendered as Prometheus text at /metrics. Counters are relaxed atomics so the
// packet path can count drops without locks; registration (control plane) takes a mutex.
// Names follow docs/metrics.md.
class Metrics {
public:
  // The counter named `name` (created on first use; later calls return the same one).
  std::atomic<uint64_t>& counter(const std::string& name, const std::string& help);
  // A gauge read when /metrics is scraped. Thread: the function runs on the control thread.
  void gauge(const std::string& name, const std::string& help, std::function<double()> read);
  std::string renderPrometheus() const;

private:
  struct Counter {
    std::string name, help;
    std::atomic<uint64_t> value{0};
  };
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };
  mutable std::mutex mutex_;
  std::deque<Counter> counters_;  // deque: element addresses stay valid as it grows
  std::vector<Gauge> gauges_;
};

}  // namespace rtcgate

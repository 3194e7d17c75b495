// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/metrics.h"

#include <fmt/format.h>

namespace rtcgate {

std::atomic<uint64_t>& Metrics::counter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mutex_);
  for (auto& c : counters_)
    if (c.name == name) return c.value;
  auto& c = counters_.emplace_back();
  c.name = name;
  c.help = help;
  return c.value;
}

void Metrics::gauge(const std::string& name, const std::string& help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  for (auto& g : gauges_)
    if (g.name == name) {
      g.read = std::move(read);
      return;
    }
  gauges_.push_back({name, help, std::move(read)});
}

std::string Metrics::renderPrometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (auto& c : counters_)
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", c.name, c.help,
                       c.value.load(std::memory_order_relaxed));
  for (auto& g : gauges_) out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", g.name, g.help, g.read());
  return out;
}

}  // namespace rtcgate

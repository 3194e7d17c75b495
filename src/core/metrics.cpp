// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rtcgate {
namespace {

std::string renderLabels(const Metrics::Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first + "=\"" + Metrics::escapeLabelValue(labels[i].second) + "\"";
  }
  return out + "}";
}

// Text format 0.0.4: backslash and newline are escaped in HELP and label values, the double quote in label values.
std::string escapeText(const std::string& v, bool quote) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote) out += "\\\"";
    else out += c;
  }
  return out;
}

// `{a="b"}` + le="0.5" -> `{a="b",le="0.5"}`.
std::string withLe(const std::string& labels, const std::string& le) {
  if (labels.empty()) return "{le=\"" + le + "\"}";
  return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

Metrics::Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
    throw std::invalid_argument("histogram bounds must be strictly ascending");
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Metrics::Histogram::observe(double value) noexcept {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;  // le: a value equal to a bound belongs to that bucket
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + value, std::memory_order_relaxed)) {
  }
}

uint64_t Metrics::Histogram::count() const {
  uint64_t n = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) n += bucket(i);
  return n;
}

std::string Metrics::escapeLabelValue(const std::string& v) { return escapeText(v, true); }

std::string Metrics::escapeHelp(const std::string& v) { return escapeText(v, false); }

std::string Metrics::formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

Metrics::Family& Metrics::family(const std::string& name, const std::string& help, Type type) {
  for (auto& f : families_)
    if (f.name == name) {
      if (f.type != type) throw std::logic_error("metric " + name + " registered with two types");
      return f;
    }
  auto& f = families_.emplace_back();
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

Metrics::Series& Metrics::series(Family& f, const Labels& labels) {
  std::string key = renderLabels(labels);
  for (auto& s : f.series)
    if (s.labels == key) return s;
  if (f.series.size() >= kMaxSeriesPerFamily) {
    Labels other = labels;
    for (auto& l : other) l.second = "other";
    key = renderLabels(other);
    for (auto& s : f.series)
      if (s.labels == key) return s;
  }
  auto& s = f.series.emplace_back();
  s.labels = std::move(key);
  return s;
}

std::atomic<uint64_t>& Metrics::counter(const std::string& name, const std::string& help) {
  return counter(name, help, {});
}

std::atomic<uint64_t>& Metrics::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  return series(family(name, help, Type::Counter), labels).value;
}

void Metrics::gauge(const std::string& name, const std::string& help, std::function<double()> read) {
  gauge(name, help, {}, std::move(read));
}

void Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels,
                    std::function<double()> read) {
  std::lock_guard lock(mutex_);
  series(family(name, help, Type::Gauge), labels).read = std::move(read);
}

Metrics::Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                                       const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& f = family(name, help, Type::Histogram);
  if (f.series.empty()) f.bounds = bounds;
  auto& s = series(f, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(f.bounds);
  return *s.histogram;
}

std::string Metrics::renderPrometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (auto& f : families_) {
    if (f.series.empty()) continue;
    const char* type = f.type == Type::Counter ? "counter" : f.type == Type::Gauge ? "gauge" : "histogram";
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", f.name, escapeHelp(f.help), type);
    for (auto& s : f.series) {
      switch (f.type) {
        case Type::Counter:
          out += fmt::format("{}{} {}\n", f.name, s.labels, s.value.load(std::memory_order_relaxed));
          break;
        case Type::Gauge:
          out += fmt::format("{}{} {}\n", f.name, s.labels, formatValue(s.read ? s.read() : 0.0));
          break;
        case Type::Histogram: {
          // Cumulative counts from one pass over the buckets, so _count equals the +Inf bucket in every scrape.
          const auto& h = *s.histogram;
          uint64_t cumulative = 0;
          for (size_t i = 0; i <= f.bounds.size(); ++i) {
            cumulative += h.bucket(i);
            const std::string le = i < f.bounds.size() ? formatValue(f.bounds[i]) : "+Inf";
            out += fmt::format("{}_bucket{} {}\n", f.name, withLe(s.labels, le), cumulative);
          }
          out += fmt::format("{}_sum{} {}\n", f.name, s.labels, formatValue(h.sum()));
          out += fmt::format("{}_count{} {}\n", f.name, s.labels, cumulative);
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace rtcgate

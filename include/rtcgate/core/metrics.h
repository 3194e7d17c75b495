// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace rtcgate {

// Process-wide metric families (counters, gauges, histograms, each optionally labelled), rendered as Prometheus
// text format 0.0.4 at /metrics. Values are relaxed atomics so the packet path can count and observe without locks;
// registration and lookup (control plane, or once per leg) take a mutex. Names follow docs/metrics.md.
// Thread: registration and rendering from any thread; the returned references stay valid for the Metrics' life.
class Metrics {
public:
  // Label name/value pairs of one series, in the family's label order.
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // A family holds at most this many series; later label sets are aggregated into one series whose label values
  // are all "other", so a peer choosing label values (a SIP cause, a reason) cannot grow /metrics without bound.
  static constexpr size_t kMaxSeriesPerFamily = 64;

  // Fixed buckets (upper bounds, ascending; +Inf is implicit). observe() is lock-free and allocation-free: one
  // relaxed increment of the bucket counter plus a CAS on the sum, so it can run on a media worker per frame.
  class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value) noexcept;
    const std::vector<double>& bounds() const { return bounds_; }
    // Per-bucket (not cumulative) counts; the last one is +Inf.
    uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
    uint64_t count() const;
    double sum() const { return sum_.load(std::memory_order_relaxed); }

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
    std::atomic<double> sum_{0};
  };

  // The counter named `name` (created on first use; later calls return the same one).
  std::atomic<uint64_t>& counter(const std::string& name, const std::string& help);
  // The series `labels` of the labelled counter family `name`; rendered (at 0) from registration on.
  std::atomic<uint64_t>& counter(const std::string& name, const std::string& help, const Labels& labels);
  // A gauge read when /metrics is scraped. Thread: the function runs on the thread that scrapes (the control one).
  void gauge(const std::string& name, const std::string& help, std::function<double()> read);
  void gauge(const std::string& name, const std::string& help, const Labels& labels, std::function<double()> read);
  // The histogram series `labels` of family `name`; every series of a family has the family's first bounds.
  Histogram& histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                       const Labels& labels = {});

  std::string renderPrometheus() const;

  // Text-format escaping (label values: backslash, double quote, newline; HELP: backslash, newline).
  static std::string escapeLabelValue(const std::string& v);
  static std::string escapeHelp(const std::string& v);
  // Numbers as Prometheus parses them (NaN, +Inf, -Inf; integers without a fraction).
  static std::string formatValue(double v);

private:
  enum class Type { Counter, Gauge, Histogram };
  struct Series {
    std::string labels;  // rendered `{a="b",c="d"}`, or empty
    std::atomic<uint64_t> value{0};
    std::function<double()> read;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name, help;
    Type type = Type::Counter;
    std::vector<double> bounds;
    std::deque<Series> series;  // deque: element addresses stay valid as it grows
  };
  Family& family(const std::string& name, const std::string& help, Type type);
  Series& series(Family& f, const Labels& labels);

  mutable std::mutex mutex_;
  std::deque<Family> families_;
};

}  // namespace rtcgate

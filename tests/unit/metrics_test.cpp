// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace rtcgate {
namespace {

TEST(Metrics, RendersEveryFamilyOnceWithEverySeriesEvenAtZero) {
  Metrics m;
  m.counter("rtcgate_plain_total", "Plain counter");
  auto& normal = m.counter("rtcgate_ended_total", "Ended calls", {{"outcome", "normal"}, {"cause", "200"}});
  m.counter("rtcgate_ended_total", "Ended calls", {{"outcome", "failed"}, {"cause", "486"}});
  m.gauge("rtcgate_regs", "Registrations", {{"state", "registered"}}, [] { return 3.0; });
  m.gauge("rtcgate_regs", "Registrations", {{"state", "failed"}}, [] { return 0.5; });
  ++normal;
  ++m.counter("rtcgate_ended_total", "ignored: HELP of the first registration", {{"outcome", "normal"}, {"cause", "200"}});
  EXPECT_EQ(m.renderPrometheus(),
            "# HELP rtcgate_plain_total Plain counter\n"
            "# TYPE rtcgate_plain_total counter\n"
            "rtcgate_plain_total 0\n"
            "# HELP rtcgate_ended_total Ended calls\n"
            "# TYPE rtcgate_ended_total counter\n"
            "rtcgate_ended_total{outcome=\"normal\",cause=\"200\"} 2\n"
            "rtcgate_ended_total{outcome=\"failed\",cause=\"486\"} 0\n"
            "# HELP rtcgate_regs Registrations\n"
            "# TYPE rtcgate_regs gauge\n"
            "rtcgate_regs{state=\"registered\"} 3\n"
            "rtcgate_regs{state=\"failed\"} 0.5\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Metrics m;
  auto& h = m.histogram("rtcgate_setup_seconds", "Setup time", {0.1, 0.5, 1}, {{"direction", "inbound"}});
  m.histogram("rtcgate_setup_seconds", "Setup time", {0.1, 0.5, 1}, {{"direction", "outbound"}});
  h.observe(0.1);   // equal to a bound: in that bucket (le)
  h.observe(0.25);
  h.observe(7);
  EXPECT_EQ(m.renderPrometheus(),
            "# HELP rtcgate_setup_seconds Setup time\n"
            "# TYPE rtcgate_setup_seconds histogram\n"
            "rtcgate_setup_seconds_bucket{direction=\"inbound\",le=\"0.1\"} 1\n"
            "rtcgate_setup_seconds_bucket{direction=\"inbound\",le=\"0.5\"} 2\n"
            "rtcgate_setup_seconds_bucket{direction=\"inbound\",le=\"1\"} 2\n"
            "rtcgate_setup_seconds_bucket{direction=\"inbound\",le=\"+Inf\"} 3\n"
            "rtcgate_setup_seconds_sum{direction=\"inbound\"} 7.35\n"
            "rtcgate_setup_seconds_count{direction=\"inbound\"} 3\n"
            "rtcgate_setup_seconds_bucket{direction=\"outbound\",le=\"0.1\"} 0\n"
            "rtcgate_setup_seconds_bucket{direction=\"outbound\",le=\"0.5\"} 0\n"
            "rtcgate_setup_seconds_bucket{direction=\"outbound\",le=\"1\"} 0\n"
            "rtcgate_setup_seconds_bucket{direction=\"outbound\",le=\"+Inf\"} 0\n"
            "rtcgate_setup_seconds_sum{direction=\"outbound\"} 0\n"
            "rtcgate_setup_seconds_count{direction=\"outbound\"} 0\n");
}

TEST(Metrics, UnlabelledHistogramAndSmallBounds) {
  Metrics m;
  m.histogram("rtcgate_frame_seconds", "Per frame", {0.00001, 0.0005}).observe(0.0001);
  EXPECT_EQ(m.renderPrometheus(),
            "# HELP rtcgate_frame_seconds Per frame\n"
            "# TYPE rtcgate_frame_seconds histogram\n"
            "rtcgate_frame_seconds_bucket{le=\"1e-05\"} 0\n"
            "rtcgate_frame_seconds_bucket{le=\"0.0005\"} 1\n"
            "rtcgate_frame_seconds_bucket{le=\"+Inf\"} 1\n"
            "rtcgate_frame_seconds_sum 0.0001\n"
            "rtcgate_frame_seconds_count 1\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Metrics m;
  ++m.counter("rtcgate_x_total", "a \\ b\nc", {{"reason", "say \"hi\"\\\n"}});
  EXPECT_EQ(m.renderPrometheus(),
            "# HELP rtcgate_x_total a \\\\ b\\nc\n"
            "# TYPE rtcgate_x_total counter\n"
            "rtcgate_x_total{reason=\"say \\\"hi\\\"\\\\\\n\"} 1\n");
}

TEST(Metrics, GaugeValuesParseAsPrometheusNumbers) {
  EXPECT_EQ(Metrics::formatValue(1.0), "1");
  EXPECT_EQ(Metrics::formatValue(0.25), "0.25");
  EXPECT_EQ(Metrics::formatValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(Metrics::formatValue(1.0 / 0.0), "+Inf");
}

TEST(Metrics, CardinalityBeyondTheCapAggregatesIntoOther) {
  Metrics m;
  for (size_t i = 0; i < Metrics::kMaxSeriesPerFamily + 10; ++i)
    ++m.counter("rtcgate_causes_total", "Causes", {{"cause", std::to_string(i)}});
  const std::string text = m.renderPrometheus();
  size_t lines = 0;
  for (size_t at = 0; (at = text.find("rtcgate_causes_total{", at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, Metrics::kMaxSeriesPerFamily + 1);
  EXPECT_NE(text.find("rtcgate_causes_total{cause=\"other\"} 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rtcgate_causes_total{cause=\"0\"} 1\n"), std::string::npos);
}

TEST(Metrics, OneNameCannotHaveTwoTypes) {
  Metrics m;
  m.counter("rtcgate_a", "A");
  EXPECT_THROW(m.histogram("rtcgate_a", "A", {1}), std::logic_error);
  EXPECT_THROW(m.histogram("rtcgate_b", "B", {2, 1}), std::invalid_argument);
}

// Observers on several threads while another registers and renders: no lost update (TSan checks the races).
TEST(Metrics, ConcurrentObserveCountAndRenderLoseNothing) {
  Metrics m;
  auto& h = m.histogram("rtcgate_h_seconds", "H", {0.5, 1});
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto& c = m.counter("rtcgate_c_total", "C", {{"thread", std::to_string(t % 2)}});
      for (int i = 0; i < kEach; ++i) {
        h.observe(i % 2 == 0 ? 0.25 : 2.0);
        c.fetch_add(1, std::memory_order_relaxed);
      }
    });
  for (int i = 0; i < 50; ++i) (void)m.renderPrometheus();
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.count(), uint64_t{kThreads * kEach});
  EXPECT_EQ(h.bucket(0), uint64_t{kThreads * kEach / 2});
  EXPECT_EQ(h.bucket(2), uint64_t{kThreads * kEach / 2});
  EXPECT_DOUBLE_EQ(h.sum(), kThreads * kEach / 2 * 2.25);
  const std::string text = m.renderPrometheus();
  EXPECT_NE(text.find("rtcgate_c_total{thread=\"0\"} 40000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rtcgate_c_total{thread=\"1\"} 40000\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace rtcgate

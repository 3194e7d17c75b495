// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/rtp_receive_stats.h"

#include <gtest/gtest.h>

namespace rtcgate::media {
namespace {

constexpr uint32_t kFrame = 160;  // 20 ms at 8 kHz

// Feeds packets in order with a constant transit (no jitter), skipping none.
void feed(RtpReceiveStats& st, uint16_t firstSeq, int count, uint32_t firstTs = 0) {
  for (int i = 0; i < count; ++i) {
    uint32_t ts = firstTs + static_cast<uint32_t>(i) * kFrame;
    st.update(static_cast<uint16_t>(firstSeq + i), ts, ts + 5000);
  }
}

TEST(RtpReceiveStats, NothingReceivedIsNothingLost) {
  RtpReceiveStats st;
  EXPECT_EQ(st.received(), 0u);
  EXPECT_EQ(st.expected(), 0);
  EXPECT_EQ(st.lost(), 0);
  EXPECT_EQ(st.jitter(), 0u);
}

TEST(RtpReceiveStats, CountsLossAcrossWrapAndJitter) {
  RtpReceiveStats st;
  uint16_t seq = 65530;
  uint32_t ts = 1000;
  for (int i = 0; i < 20; ++i, ++seq, ts += kFrame) {
    if (i == 5 || i == 6) continue;  // two lost, right at the 16-bit wrap
    st.update(seq, ts, ts + 5000);    // constant transit: no jitter
  }
  EXPECT_EQ(st.received(), 18u);
  EXPECT_EQ(st.expected(), 20);
  EXPECT_EQ(st.lost(), 2);
  EXPECT_EQ(st.jitter(), 0u);
  auto r = st.makeReport(1);
  EXPECT_EQ(r.cumulativeLost, 2);
  EXPECT_EQ(r.fractionLost, (2 * 256) / 20);
  EXPECT_EQ(r.extendedHighestSeq, (1u << 16) + 13);
}

TEST(RtpReceiveStats, ReorderedPacketIsNotLostAndDoesNotMoveTheHighest) {
  RtpReceiveStats st;
  st.update(10, 0, 100);
  st.update(12, 2 * kFrame, 100 + 2 * kFrame);
  EXPECT_EQ(st.lost(), 1);
  st.update(11, kFrame, 100 + kFrame);
  EXPECT_EQ(st.lost(), 0);
  EXPECT_EQ(st.extendedHighest(), 12u);
  EXPECT_EQ(st.expected(), 3);
}

TEST(RtpReceiveStats, ReorderingAcrossTheWrapDoesNotCountACycle) {
  RtpReceiveStats st;
  st.update(65535, 0, 0);
  st.update(1, 2 * kFrame, 2 * kFrame);
  st.update(0, kFrame, kFrame);  // late, from before the wrap's highest
  EXPECT_EQ(st.extendedHighest(), (1u << 16) + 1);
  EXPECT_EQ(st.lost(), 0);
}

TEST(RtpReceiveStats, DuplicateCountsAsReceivedSoLossCanGoNegative) {
  // RFC 3550 §6.4.1: duplicates make the cumulative loss negative.
  RtpReceiveStats st;
  feed(st, 100, 3);
  st.update(101, kFrame, kFrame + 5000);
  EXPECT_EQ(st.received(), 4u);
  EXPECT_EQ(st.lost(), -1);
  EXPECT_EQ(st.makeReport(1).fractionLost, 0);  // negative interval loss reports as 0
}

TEST(RtpReceiveStats, FractionLostCoversOnlyTheIntervalSinceTheLastReport) {
  RtpReceiveStats st;
  feed(st, 0, 10);
  EXPECT_EQ(st.makeReport(1).fractionLost, 0);
  // 10 expected in the second interval (10..19), 4 of them lost (11, 13, 15, 17).
  for (uint32_t s : {10u, 12u, 14u, 16u, 18u, 19u}) st.update(static_cast<uint16_t>(s), s * kFrame, s * kFrame + 5000);
  auto r = st.makeReport(1);
  EXPECT_EQ(r.fractionLost, (4 * 256) / 10);
  EXPECT_EQ(r.cumulativeLost, 4);
}

TEST(RtpReceiveStats, LargeJumpRestartsAfterTwoSequentialPackets) {
  // RFC 3550 A.1: one packet far ahead is ignored; when the next one follows it, the source restarted.
  RtpReceiveStats st;
  feed(st, 1000, 5);
  st.update(40000, 0, 0);
  EXPECT_EQ(st.received(), 5u);
  EXPECT_EQ(st.extendedHighest(), 1004u);
  st.update(40001, kFrame, kFrame);
  EXPECT_EQ(st.received(), 1u);  // counting starts again at the restart
  EXPECT_EQ(st.expected(), 1);
  EXPECT_EQ(st.lost(), 0);
  st.update(40002, 2 * kFrame, 2 * kFrame);
  EXPECT_EQ(st.extendedHighest(), 40002u);
  EXPECT_EQ(st.lost(), 0);
}

TEST(RtpReceiveStats, LargeJumpsThatDoNotFollowEachOtherAreIgnored) {
  RtpReceiveStats st;
  feed(st, 1000, 5);
  st.update(40000, 0, 0);
  st.update(50000, 0, 0);
  st.update(1005, 5 * kFrame, 5 * kFrame + 5000);
  EXPECT_EQ(st.received(), 6u);
  EXPECT_EQ(st.extendedHighest(), 1005u);
  EXPECT_EQ(st.lost(), 0);
}

TEST(RtpReceiveStats, UpdateSequenceCountsWithoutJitter) {
  RtpReceiveStats st;
  EXPECT_TRUE(st.updateSequence(7));
  EXPECT_TRUE(st.updateSequence(9));
  EXPECT_FALSE(st.updateSequence(30000));
  EXPECT_EQ(st.received(), 2u);
  EXPECT_EQ(st.lost(), 1);
  EXPECT_EQ(st.jitter(), 0u);
}

TEST(RtpReceiveStats, ConstantRateStreamHasNoJitter) {
  RtpReceiveStats st;
  // Arrival in a different base from the timestamps, both wrapping: only the transit's changes matter.
  uint32_t ts = 0xFFFFF000, arrival = 0xFFFFFF00;
  for (uint16_t s = 0; s < 200; ++s, ts += kFrame, arrival += kFrame) st.update(s, ts, arrival);
  EXPECT_EQ(st.jitter(), 0u);
}

TEST(RtpReceiveStats, JitterFollowsKnownOffsets) {
  // A.8: a packet arriving 80 units late moves J by |D|/16 = 5.
  RtpReceiveStats j;
  j.update(1, 0, 1000);
  j.update(2, kFrame, 1000 + kFrame + 80);
  EXPECT_EQ(j.jitter(), 5u);

  // Every packet alternately 0 and 32 units late: |D| is always 32, so J converges on 32.
  RtpReceiveStats alt;
  for (uint16_t s = 0; s < 400; ++s) alt.update(s, s * kFrame, s * kFrame + (s % 2 == 0 ? 0u : 32u));
  EXPECT_NEAR(static_cast<double>(alt.jitter()), 32.0, 1.0);
}

TEST(RtpReceiveStats, ArrivalTimestampAdvancesAtTheClockRate) {
  uint32_t a = arrivalTimestamp(8000);
  uint32_t b = arrivalTimestamp(8000);
  EXPECT_LT(b - a, 8000u);  // well under a second apart, modulo the wrap
}

}  // namespace
}  // namespace rtcgate::media

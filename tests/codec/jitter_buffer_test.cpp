// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/codec/jitter_buffer.h"

namespace rtcgate::codec {
namespace {

constexpr uint32_t kTicks = 160;  // 20 ms at 8 kHz

std::vector<uint8_t> payloadFor(uint16_t seq) { return std::vector<uint8_t>(20, static_cast<uint8_t>(seq)); }

JitterBuffer::Put putSeq(JitterBuffer& jb, uint16_t seq, uint64_t nowMs) {
  auto p = payloadFor(seq);
  return jb.put(seq, static_cast<uint32_t>(seq) * kTicks, p, nowMs);
}

// Played payload's first byte is the sequence number's low byte.
int playedSeqByte(const JitterBuffer::Out& out) { return out.payload.empty() ? -1 : out.payload[0]; }

TEST(JitterBuffer, InOrderPacketsPlayInOrder) {
  JitterBuffer jb(8000, 200);
  JitterBuffer::Out out;
  EXPECT_EQ(jb.get(out), JitterBuffer::Get::Empty);
  for (uint16_t s = 10; s < 20; ++s) {
    EXPECT_EQ(putSeq(jb, s, s * 20u), JitterBuffer::Put::Stored);
    ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame);
    EXPECT_EQ(playedSeqByte(out), s);
  }
  EXPECT_EQ(jb.stats().played, 10u);
  EXPECT_EQ(jb.stats().lost, 0u);
}

TEST(JitterBuffer, ReorderedPacketsComeOutSorted) {
  JitterBuffer jb(8000, 200);
  for (uint16_t s : {1, 3, 2, 4}) putSeq(jb, s, 0);
  JitterBuffer::Out out;
  for (int want : {1, 2, 3, 4}) {
    ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame);
    EXPECT_EQ(playedSeqByte(out), want);
  }
}

TEST(JitterBuffer, GapIsReportedLostWithTheNextPayloadForFec) {
  JitterBuffer jb(8000, 200);
  for (uint16_t s : {1, 3}) putSeq(jb, s, 0);
  JitterBuffer::Out out;
  ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame);
  ASSERT_EQ(jb.get(out), JitterBuffer::Get::Lost);
  ASSERT_EQ(out.next.size(), 20u);
  EXPECT_EQ(out.next[0], 3);
  ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame);
  EXPECT_EQ(playedSeqByte(out), 3);
  EXPECT_EQ(jb.stats().lost, 1u);
}

TEST(JitterBuffer, DuplicatesAndLatePacketsAreRefusedAndCounted) {
  JitterBuffer jb(8000, 200);
  putSeq(jb, 5, 0);
  EXPECT_EQ(putSeq(jb, 5, 0), JitterBuffer::Put::Duplicate);
  JitterBuffer::Out out;
  jb.get(out);
  putSeq(jb, 6, 20);
  jb.get(out);
  EXPECT_EQ(putSeq(jb, 4, 40), JitterBuffer::Put::Late);
  EXPECT_EQ(jb.stats().duplicate, 1u);
  EXPECT_EQ(jb.stats().late, 1u);
}

TEST(JitterBuffer, SequenceWrapIsSeamless) {
  JitterBuffer jb(8000, 200);
  JitterBuffer::Out out;
  uint16_t s = 65533;
  for (int i = 0; i < 6; ++i, ++s) {
    putSeq(jb, s, static_cast<uint64_t>(i) * 20);
    ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame) << i;
  }
  EXPECT_EQ(jb.stats().lost, 0u);
}

TEST(JitterBuffer, StaysBoundedUnderABurst) {
  JitterBuffer jb(8000, 100);  // 5 frames
  for (uint16_t s = 0; s < 8; ++s) putSeq(jb, s, 0);  // fits in the slots (max + 4)
  EXPECT_LE(jb.bufferedFrames(), 8u);
  JitterBuffer::Out out;
  ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame);
  // Latency control dropped the oldest so no more than the maximum delay stays queued.
  EXPECT_LE(jb.bufferedFrames(), 5u);
  EXPECT_GT(jb.stats().dropped, 0u);
}

TEST(JitterBuffer, SequenceJumpResets) {
  JitterBuffer jb(8000, 200);
  putSeq(jb, 100, 0);
  JitterBuffer::Out out;
  jb.get(out);
  EXPECT_EQ(putSeq(jb, 30000, 20), JitterBuffer::Put::Reset);
  ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame);
  EXPECT_EQ(playedSeqByte(out), static_cast<uint8_t>(30000));
}

TEST(JitterBuffer, TargetDelayGrowsWithJitterAndNeverExceedsTheMaximum) {
  JitterBuffer calm(8000, 200);
  JitterBuffer jittery(8000, 200);
  for (uint16_t s = 0; s < 200; ++s) {
    putSeq(calm, s, s * 20u);
    // Arrival alternates 0 / 60 ms late: heavy jitter.
    putSeq(jittery, s, s * 20u + (s % 2 ? 60 : 0));
    JitterBuffer::Out out;
    calm.get(out);
  }
  JitterBuffer::Out out;
  jittery.get(out);
  EXPECT_EQ(calm.targetDelayMs(), 20u);
  EXPECT_GT(jittery.jitterMs(), 20.0);
  EXPECT_GT(jittery.targetDelayMs(), 60u);
  EXPECT_LE(jittery.targetDelayMs(), 200u);
}

TEST(JitterBuffer, OversizedPayloadIsRefused) {
  JitterBuffer jb(8000, 200);
  std::vector<uint8_t> huge(kMaxEncodedBytes + 1);
  EXPECT_EQ(jb.put(1, 0, huge, 0), JitterBuffer::Put::TooLarge);
  JitterBuffer::Out out;
  EXPECT_EQ(jb.get(out), JitterBuffer::Get::Empty);
}

}  // namespace
}  // namespace rtcgate::codec

namespace rtcgate::codec {
namespace {

TEST(JitterBuffer, APauseIsConcealedBrieflyThenGoesQuiet) {
  JitterBuffer jb(8000, 200);
  putSeq(jb, 1, 20);  // arrival times match the timestamps: no jitter, a one-frame target
  JitterBuffer::Out out;
  ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(jb.get(out), JitterBuffer::Get::Lost) << i;
  EXPECT_EQ(jb.get(out), JitterBuffer::Get::Empty);
  EXPECT_EQ(jb.get(out), JitterBuffer::Get::Empty);
  // The sender resumes: playout restarts from its packet.
  putSeq(jb, 50, 1000);
  ASSERT_EQ(jb.get(out), JitterBuffer::Get::Frame);
  EXPECT_EQ(playedSeqByte(out), 50);
}

}  // namespace
}  // namespace rtcgate::codec

// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/codec/output_sequencer.h"

namespace rtcgate::codec {
namespace {

TEST(OutputSequencer, ForwardedStreamStaysContinuousAcrossASourceChange) {
  OutputSequencer seq(0x1234, 100, 5000);
  auto a = seq.forwarded(0xaaaa, 777, 160, false);
  EXPECT_EQ(a.ssrc, 0x1234u);
  EXPECT_EQ(a.seq, 100);
  EXPECT_EQ(a.timestamp, 5000u);
  EXPECT_TRUE(a.marker);
  auto b = seq.forwarded(0xaaaa, 937, 160, false);
  EXPECT_EQ(b.seq, 101);
  EXPECT_EQ(b.timestamp, 5160u);
  EXPECT_FALSE(b.marker);
  // Genesys moves the call to a conference mixer: new SSRC, unrelated timestamps.
  auto c = seq.forwarded(0xbbbb, 99999999, 160, false);
  EXPECT_EQ(c.ssrc, 0x1234u);
  EXPECT_EQ(c.seq, 102);
  EXPECT_EQ(c.timestamp, 5320u);
  EXPECT_TRUE(c.marker);
}

TEST(OutputSequencer, GeneratedFramesFollowForwardedOnes) {
  OutputSequencer seq(1, 65535, 0xfffffff0u);
  auto a = seq.forwarded(9, 0, 160, false);
  auto b = seq.generated(960, false);
  EXPECT_EQ(a.seq, 65535);
  EXPECT_EQ(b.seq, 0);  // wraps
  EXPECT_EQ(b.timestamp, a.timestamp + 160u);
  auto c = seq.generated(960, false);
  EXPECT_EQ(c.timestamp, b.timestamp + 960u);
}

}  // namespace
}  // namespace rtcgate::codec

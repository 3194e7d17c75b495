// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/token_bucket.h"

#include <gtest/gtest.h>

namespace rtcgate {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, BurstThenRateThenRefillUpToTheBurstOnly) {
  TokenBucket b(10, 3);
  const auto t0 = TokenBucket::Clock::time_point{} + 1h;
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0));              // the burst is spent
  EXPECT_FALSE(b.take(t0 + 50ms));       // half a token
  EXPECT_TRUE(b.take(t0 + 100ms));       // one token after 100 ms at 10/s
  EXPECT_FALSE(b.take(t0 + 100ms));
  int taken = 0;
  for (int i = 0; i < 10; ++i) taken += b.take(t0 + 10s) ? 1 : 0;  // a long pause refills to the burst, not beyond
  EXPECT_EQ(taken, 3);
  EXPECT_FALSE(b.take(t0 + 9s));         // a clock going backwards adds nothing
}

}  // namespace
}  // namespace rtcgate

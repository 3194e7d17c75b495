// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/rate_limiter.h"

#include <gtest/gtest.h>

namespace rtcgate {
namespace {

using namespace std::chrono_literals;
using V = RateLimiter::Verdict;
const auto t0 = RateLimiter::Clock::time_point{} + 1h;

TEST(RateLimiter, PerIpBurstThenRateWithoutSpendingOtherAddressesTokens) {
  RateLimiter r({2, 3}, {0, 1});  // global off
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.admit("192.0.2.1", t0), V::Allowed);
  EXPECT_EQ(r.admit("192.0.2.1", t0), V::PerIpLimited);
  EXPECT_EQ(r.admit("192.0.2.2", t0), V::Allowed);  // its own bucket
  EXPECT_EQ(r.admit("192.0.2.1", t0 + 499ms), V::PerIpLimited);
  EXPECT_EQ(r.admit("192.0.2.1", t0 + 500ms), V::Allowed);  // 2/s: one token per 500 ms
}

TEST(RateLimiter, AFloodingAddressDoesNotDrainTheGlobalBucket) {
  RateLimiter r({1, 2}, {1, 4});
  EXPECT_EQ(r.admit("198.51.100.9", t0), V::Allowed);
  EXPECT_EQ(r.admit("198.51.100.9", t0), V::Allowed);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.admit("198.51.100.9", t0), V::PerIpLimited);
  EXPECT_EQ(r.admit("192.0.2.1", t0), V::Allowed);
  EXPECT_EQ(r.admit("192.0.2.2", t0), V::Allowed);
  EXPECT_EQ(r.admit("192.0.2.3", t0), V::GlobalLimited);  // 4 in all
  EXPECT_EQ(r.admit("192.0.2.3", t0 + 1s), V::Allowed);
}

TEST(RateLimiter, ThreeHundredAgentsBehindOneAddressGetInWithTheDefaults) {
  // The defaults' case (docs/configuration.md): 300 JsSIP agents behind one NAT address connect at the same
  // instant (a restart), each connection sending REGISTER twice (challenge, then credentials).
  RateLimiter connections({10, 300}, {100, 1000});
  RateLimiter registers({20, 600}, {200, 2000});
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    refused += connections.admit("203.0.113.7", t0) == V::Allowed ? 0 : 1;
    refused += registers.admit("203.0.113.7", t0) == V::Allowed ? 0 : 1;
    refused += registers.admit("203.0.113.7", t0) == V::Allowed ? 0 : 1;
  }
  EXPECT_EQ(refused, 0);
  // The 301st at once is over the per-IP burst; a second later ten more get in.
  EXPECT_EQ(connections.admit("203.0.113.7", t0), V::PerIpLimited);
  int later = 0;
  for (int i = 0; i < 20; ++i) later += connections.admit("203.0.113.7", t0 + 1s) == V::Allowed ? 1 : 0;
  EXPECT_EQ(later, 10);
}

TEST(RateLimiter, TheTableIsBoundedAndForgetsRefilledBucketsFirst) {
  RateLimiter r({1, 1}, {0, 1}, 3);
  EXPECT_EQ(r.admit("a", t0), V::Allowed);
  EXPECT_EQ(r.admit("b", t0 + 10s), V::Allowed);
  EXPECT_EQ(r.admit("c", t0 + 10s), V::Allowed);
  EXPECT_EQ(r.tracked(), 3u);
  // "a" has refilled by now and is forgotten; "b" and "c" are still empty and stay.
  EXPECT_EQ(r.admit("d", t0 + 10500ms), V::Allowed);
  EXPECT_EQ(r.tracked(), 3u);
  EXPECT_EQ(r.admit("b", t0 + 10500ms), V::PerIpLimited);
  EXPECT_EQ(r.admit("c", t0 + 10500ms), V::PerIpLimited);
  // Nothing refilled: the least recently used entry ("d" was used before "b" and "c" above) makes room.
  EXPECT_EQ(r.admit("e", t0 + 10600ms), V::Allowed);
  EXPECT_EQ(r.tracked(), 3u);
  EXPECT_EQ(r.admit("c", t0 + 10600ms), V::PerIpLimited);
}

TEST(RateLimiter, NewRatesApplyAtOnceAndZeroSwitchesALimitOff) {
  RateLimiter r({1, 1}, {1, 1});
  EXPECT_EQ(r.admit("a", t0), V::Allowed);
  EXPECT_EQ(r.admit("a", t0), V::PerIpLimited);
  r.setRates({0, 1}, {1, 1});
  EXPECT_EQ(r.admit("a", t0), V::GlobalLimited);  // the per-IP limit is off; the unchanged global one is empty
  r.setRates({0, 1}, {0, 1});
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(r.admit("a", t0), V::Allowed);
}

}  // namespace
}  // namespace rtcgate

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/call_quality.h"

#include <gtest/gtest.h>

namespace rtcgate::media {
namespace {

TEST(CallQuality, ACleanLanCallScoresTheG711CeilingOfAbout4Point4) {
  // R = 93.2 - 0.024 * 21 ~ 92.7 -> MOS 4.40 (G.107 Annex B).
  EXPECT_NEAR(estimateMos({0.0, 0.5, 1.0}), 4.40, 0.01);
}

TEST(CallQuality, LossLowersTheScoreMonotonically) {
  double last = estimateMos({0.0, 5.0, 40.0});
  for (double loss : {0.005, 0.01, 0.02, 0.05, 0.1, 0.2}) {
    double mos = estimateMos({loss, 5.0, 40.0});
    EXPECT_LT(mos, last) << loss;
    last = mos;
  }
  // 5 % random loss with PLC: Ie,eff = 95 * 5 / 30.1 = 15.8, Id(20 ms) = 0.5 -> R ~ 76.9 -> MOS ~ 3.90.
  EXPECT_NEAR(estimateMos({0.05, 0.0, 0.0}), 3.90, 0.01);
}

TEST(CallQuality, DelayBeyondTheKneeCostsMoreThanBelowIt) {
  double belowKnee = estimateMos({0, 0, 100}) - estimateMos({0, 0, 200});
  double aboveKnee = estimateMos({0, 0, 400}) - estimateMos({0, 0, 500});
  EXPECT_GT(aboveKnee, belowKnee * 3);
}

TEST(CallQuality, OutOfRangeInputsStayInTheMosScale) {
  EXPECT_EQ(estimateMos({1.0, 1e6, 1e6}), 1.0);
  EXPECT_LE(estimateMos({-1.0, -5.0, -5.0}), 4.5);
  EXPECT_GE(estimateMos({-1.0, -5.0, -5.0}), 4.0);
}

}  // namespace
}  // namespace rtcgate::media

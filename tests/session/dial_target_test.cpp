// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/dial_target.h"

#include <gtest/gtest.h>

#include <string>

namespace rtcgate::session {
namespace {

TEST(DialTarget, DialStringsAreAccepted) {
  EXPECT_TRUE(isDialableTarget("5001"));
  EXPECT_TRUE(isDialableTarget("+4930123456"));
  EXPECT_TRUE(isDialableTarget("*72"));
  EXPECT_TRUE(isDialableTarget("%2372"));  // JsSIP escapes '#'
  EXPECT_TRUE(isDialableTarget("queue.sales_1-a"));
  EXPECT_TRUE(isDialableTarget(std::string(kMaxDialTargetLength, '9')));
}

TEST(DialTarget, AnythingElseIsRefused) {
  EXPECT_FALSE(isDialableTarget(""));
  EXPECT_FALSE(isDialableTarget(std::string(kMaxDialTargetLength + 1, '9')));
  EXPECT_FALSE(isDialableTarget("5001@evil.example"));
  EXPECT_FALSE(isDialableTarget("5001;transport=tcp"));
  EXPECT_FALSE(isDialableTarget("5001?Replaces=x"));
  EXPECT_FALSE(isDialableTarget("50 01"));
  EXPECT_FALSE(isDialableTarget("%40host"));  // '@' behind an escape
  EXPECT_FALSE(isDialableTarget("%0d%0a"));
  EXPECT_FALSE(isDialableTarget("50%2"));
  EXPECT_FALSE(isDialableTarget("5001\r\nX: y"));
}

}  // namespace
}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/sip/source_filter.h"

namespace rtcgate::sip {
namespace {

TEST(SourceFilter, ExactHostsAndCidrs) {
  SourceFilter f;
  EXPECT_TRUE(f.add("192.0.2.10"));
  EXPECT_TRUE(f.add("198.51.100.0/24"));
  EXPECT_TRUE(f.add("2001:db8::/32"));
  EXPECT_TRUE(f.allows("192.0.2.10"));
  EXPECT_FALSE(f.allows("192.0.2.11"));
  EXPECT_TRUE(f.allows("198.51.100.254"));
  EXPECT_FALSE(f.allows("198.51.101.1"));
  EXPECT_TRUE(f.allows("2001:db8:1::5"));
  EXPECT_FALSE(f.allows("2001:db9::1"));
  EXPECT_TRUE(f.allows("::ffff:192.0.2.10") == false);  // text form is matched as IPv6
}

TEST(SourceFilter, OddPrefixesAndGarbage) {
  SourceFilter f;
  EXPECT_TRUE(f.add("10.0.0.0/9"));
  EXPECT_TRUE(f.allows("10.127.255.255"));
  EXPECT_FALSE(f.allows("10.128.0.0"));
  EXPECT_FALSE(f.add("10.0.0.0/33"));
  EXPECT_FALSE(f.add("10.0.0.0/"));
  EXPECT_FALSE(f.add("sipserver.example"));
  EXPECT_FALSE(f.add("10.0.0.0/8x"));
  EXPECT_TRUE(f.add("0.0.0.0/0"));
  EXPECT_TRUE(f.allows("203.0.113.9"));
}

}  // namespace
}  // namespace rtcgate::sip

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/sipfrag.h"

#include <gtest/gtest.h>

namespace rtcgate::sip {
namespace {

TEST(Sipfrag, StatusLineIsReadAndTheRestOfTheFragmentIgnored) {
  auto s = parseSipfragStatus("SIP/2.0 200 OK\r\nContact: <sip:secret@10.0.0.1>\r\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, 200);
  EXPECT_EQ(s->phrase, "OK");
  s = parseSipfragStatus("SIP/2.0 100 Trying");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, 100);
  EXPECT_EQ(s->phrase, "Trying");
}

TEST(Sipfrag, NotAStatusLineIsRefused) {
  EXPECT_FALSE(parseSipfragStatus(""));
  EXPECT_FALSE(parseSipfragStatus("INVITE sip:a@b SIP/2.0\r\n"));
  EXPECT_FALSE(parseSipfragStatus("SIP/2.0 2x0 OK\r\n"));
  EXPECT_FALSE(parseSipfragStatus("SIP/2.0 099 Low\r\n"));
  EXPECT_FALSE(parseSipfragStatus("SIP/2.0 700 High\r\n"));
  EXPECT_FALSE(parseSipfragStatus("SIP/2.0 2000 OK\r\n"));
}

TEST(Sipfrag, UnusablePhraseIsDroppedAndReplacedWhenBuilt) {
  auto s = parseSipfragStatus(std::string("SIP/2.0 486 Busy\x01Here\r\n"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, 486);
  EXPECT_EQ(s->phrase, "");
  EXPECT_EQ(sipfragBody(486, s->phrase), "SIP/2.0 486 Busy Here\r\n");
  EXPECT_EQ(sipfragBody(200, std::string(100, 'x')), "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(sipfragBody(100, "Trying"), "SIP/2.0 100 Trying\r\n");
  EXPECT_EQ(sipfragBody(299), "SIP/2.0 299 OK\r\n");
}

}  // namespace
}  // namespace rtcgate::sip

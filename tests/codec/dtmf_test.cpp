// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <array>

#include "rtcgate/codec/dtmf.h"

namespace rtcgate::codec {
namespace {

TEST(Dtmf, DigitsAndEventCodesRoundTrip) {
  for (char d : std::string("0123456789*#ABCD")) EXPECT_EQ(dtmfDigit(*dtmfEventCode(d)), d);
  EXPECT_EQ(dtmfEventCode('a'), 12);
  EXPECT_FALSE(dtmfEventCode('x'));
  EXPECT_FALSE(dtmfDigit(16));
}

TEST(Dtmf, TelephoneEventPayloadRoundTrips) {
  TelephoneEvent ev{11, true, 10, 1280};
  std::array<uint8_t, 4> buf{};
  writeTelephoneEvent(ev, buf);
  EXPECT_EQ(buf, (std::array<uint8_t, 4>{11, 0x8a, 0x05, 0x00}));
  auto back = parseTelephoneEvent(buf);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->event, 11);
  EXPECT_TRUE(back->end);
  EXPECT_EQ(back->duration, 1280);
  EXPECT_FALSE(parseTelephoneEvent(std::span<const uint8_t>(buf.data(), 3)));
}

TEST(Dtmf, SenderFollowsRfc4733AndReceiverReportsEachDigitOnce) {
  DtmfSender tx('5', 100, 8000);
  ASSERT_TRUE(tx.valid());
  DtmfReceiver rx;
  int packets = 0, ends = 0, digits = 0;
  uint16_t lastDuration = 0;
  while (!tx.done() && packets < 100) {
    bool marker = false;
    auto ev = tx.next(marker);
    EXPECT_EQ(marker, packets == 0);
    EXPECT_GE(ev.duration, lastDuration);
    lastDuration = ev.duration;
    ends += ev.end ? 1 : 0;
    std::array<uint8_t, 4> buf{};
    writeTelephoneEvent(ev, buf);
    if (auto d = rx.onPacket(/*same timestamp for the whole event*/ 4000, buf)) {
      EXPECT_EQ(*d, '5');
      ++digits;
    }
    ++packets;
  }
  EXPECT_EQ(ends, 3);               // end packet sent three times
  EXPECT_EQ(lastDuration, 800);     // 100 ms at 8 kHz
  EXPECT_EQ(digits, 1);
  // A second press is a new event (new timestamp).
  std::array<uint8_t, 4> buf{};
  writeTelephoneEvent({5, false, 10, 160}, buf);
  EXPECT_EQ(rx.onPacket(8000, buf), '5');
}

TEST(Dtmf, InfoBodiesFromJsSipAndSipJs) {
  auto a = parseInfoDtmf("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->digit, '5');
  EXPECT_EQ(a->durationMs, 160);
  auto b = parseInfoDtmf("Application/DTMF-Relay; charset=utf-8", "Signal= #\nDuration= 99999");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->digit, '#');
  EXPECT_EQ(b->durationMs, 2000);
  auto c = parseInfoDtmf("application/dtmf", "7");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->digit, '7');
  EXPECT_FALSE(parseInfoDtmf("application/dtmf-relay", "Duration=100"));
  EXPECT_FALSE(parseInfoDtmf("application/dtmf-relay", "Signal=55"));
  EXPECT_FALSE(parseInfoDtmf("text/plain", "Signal=5"));
  EXPECT_EQ(formatDtmfRelay('9', 100), "Signal=9\r\nDuration=100\r\n");
}

}  // namespace
}  // namespace rtcgate::codec

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
  int packets = 0, ends = 0, digits = 0, endsReported = 0;
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
    auto r = rx.onPacket(/*same timestamp for the whole event*/ 4000, buf);
    if (r.started) {
      EXPECT_EQ(*r.started, '5');
      ++digits;
    }
    if (r.ended) {
      EXPECT_EQ(r.ended->digit, '5');
      EXPECT_EQ(r.ended->durationMs, 100);
      ++endsReported;
    }
    EXPECT_FALSE(r.abandoned);
    ++packets;
  }
  EXPECT_EQ(ends, 3);               // end packet sent three times
  EXPECT_EQ(lastDuration, 800);     // 100 ms at 8 kHz
  EXPECT_EQ(digits, 1);
  EXPECT_EQ(endsReported, 1);       // retransmitted end packets do not repeat it
  // A second press is a new event (new timestamp).
  std::array<uint8_t, 4> buf{};
  writeTelephoneEvent({5, false, 10, 160}, buf);
  EXPECT_EQ(rx.onPacket(8000, buf).started, '5');
}

// Decodes what a DtmfSender produces: digit, final duration in ms, and the number of end packets.
struct Decoded {
  int packets = 0, ends = 0, markers = 0;
  uint8_t event = 0xff;
  uint16_t finalDuration = 0;
  bool monotonic = true;
};
Decoded decode(DtmfSender& tx) {
  Decoded d;
  uint16_t last = 0;
  while (!tx.done() && d.packets < 1000) {
    bool marker = false;
    auto ev = tx.next(marker);
    d.markers += marker ? 1 : 0;
    d.event = ev.event;
    if (ev.duration < last) d.monotonic = false;
    last = ev.duration;
    if (ev.end) {
      ++d.ends;
      d.finalDuration = ev.duration;
    } else if (d.ends > 0) {
      d.monotonic = false;  // an update after an end packet
    }
    ++d.packets;
  }
  return d;
}

TEST(Dtmf, SenderKeepsTheRequestedDurationWithinTheSaneRange) {
  struct Case {
    uint16_t askedMs;
    uint16_t expectTicks;  // at 8 kHz
  } cases[] = {{250, 2000}, {100, 800}, {1000, 8000}, {4000, 32000}, {5000, 40000},
               {10, 320} /* clamped to 40 ms */, {60000, 40000} /* clamped to 5000 ms */};
  for (auto c : cases) {
    DtmfSender tx('7', c.askedMs, 8000);
    ASSERT_TRUE(tx.valid());
    auto d = decode(tx);
    EXPECT_EQ(d.event, 7) << c.askedMs;
    EXPECT_EQ(d.finalDuration, c.expectTicks) << c.askedMs;
    EXPECT_EQ(d.ends, 3) << c.askedMs;
    EXPECT_EQ(d.markers, 1) << c.askedMs;
    EXPECT_TRUE(d.monotonic) << c.askedMs;
  }
}

TEST(Dtmf, ReceiverReportsTheDurationAtTheEndInMilliseconds) {
  // Genesys at 8 kHz: 250 ms = 2000 ticks.
  DtmfReceiver rx(8000);
  std::array<uint8_t, 4> buf{};
  writeTelephoneEvent({9, false, 10, 160}, buf);
  auto r = rx.onPacket(1000, buf);
  EXPECT_EQ(r.started, '9');
  EXPECT_FALSE(r.ended);
  writeTelephoneEvent({9, false, 10, 1600}, buf);
  EXPECT_FALSE(rx.onPacket(1000, buf).ended);
  writeTelephoneEvent({9, true, 10, 2000}, buf);
  r = rx.onPacket(1000, buf);
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.ended->digit, '9');
  EXPECT_EQ(r.ended->durationMs, 250);
  EXPECT_FALSE(rx.onPacket(1000, buf).ended);  // retransmission

  // A browser at 48 kHz (telephone-event/48000 with Opus): 250 ms = 12000 ticks.
  DtmfReceiver rx48(48000);
  writeTelephoneEvent({1, false, 10, 960}, buf);
  EXPECT_EQ(rx48.onPacket(5, buf).started, '1');
  writeTelephoneEvent({1, true, 10, 12000}, buf);
  r = rx48.onPacket(5, buf);
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.ended->durationMs, 250);

  // All end packets lost: the next event ends the previous one with the last duration seen.
  writeTelephoneEvent({2, false, 10, 9600}, buf);
  EXPECT_EQ(rx48.onPacket(100000, buf).started, '2');
  writeTelephoneEvent({3, false, 10, 960}, buf);
  r = rx48.onPacket(200000, buf);
  EXPECT_EQ(r.started, '3');
  ASSERT_TRUE(r.abandoned);
  EXPECT_EQ(r.abandoned->digit, '2');
  EXPECT_EQ(r.abandoned->durationMs, 200);

  // Out of range durations are clamped: a 10 ms blip reports 40 ms.
  DtmfReceiver rx8;
  writeTelephoneEvent({0, true, 10, 80}, buf);
  r = rx8.onPacket(7, buf);
  EXPECT_EQ(r.started, '0');
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.ended->durationMs, 40);
}

TEST(Dtmf, InfoBodiesFromJsSipAndSipJs) {
  auto a = parseInfoDtmf("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->digit, '5');
  EXPECT_EQ(a->durationMs, 160);
  auto b = parseInfoDtmf("Application/DTMF-Relay; charset=utf-8", "Signal= #\nDuration= 99999");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->digit, '#');
  EXPECT_EQ(b->durationMs, 5000);  // clamped to kDtmfMaxDurationMs
  auto long_ = parseInfoDtmf("application/dtmf-relay", "Signal=1\r\nDuration=3000\r\n");
  ASSERT_TRUE(long_);
  EXPECT_EQ(long_->durationMs, 3000);  // kept, not cut to 2000 or replaced by 100
  auto short_ = parseInfoDtmf("application/dtmf-relay", "Signal=1\r\nDuration=5\r\n");
  ASSERT_TRUE(short_);
  EXPECT_EQ(short_->durationMs, 40);
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

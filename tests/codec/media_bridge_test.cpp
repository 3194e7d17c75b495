// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <vector>

#include "rtcgate/codec/media_bridge.h"
#include "support/rtp_builder.h"
#include "support/test_support.h"
#include "support/tone.h"

namespace rtcgate::codec {
namespace {

struct Packet {
  media::RtpHeader h;
  std::vector<uint8_t> bytes;
  std::span<const uint8_t> payload() const { return {bytes.data() + h.headerSize, h.payloadSize}; }
};

using test::rtpPacket;

class MediaBridgeTest : public ::testing::Test {
protected:
  MediaBridgeTest() : loop_("worker") { loop_.adoptCurrentThread(); }

  std::unique_ptr<MediaBridge> make(const BridgeCodecs& c) {
    MediaBridge::Sinks sinks;
    sinks.toBrowser = [this](uint8_t* d, size_t n, size_t capacity) {
      EXPECT_GE(capacity, n + MediaBridge::kTrailerRoom);
      toBrowserAtUs_.push_back(g_get_monotonic_time());
      capture(toBrowser_, d, n);
    };
    sinks.toUpstream = [this](const media::RtpHeader& h, std::span<const uint8_t> payload) {
      auto bytes = rtpPacket(h.payloadType, h.sequence, h.timestamp, h.ssrc, payload, h.marker);
      capture(toUpstream_, bytes.data(), bytes.size());
    };
    sinks.dtmfFromUpstream = [this](char d, uint16_t ms) {
      digitsFromUpstream_ += d;
      durationsFromUpstream_.push_back(ms);
    };
    sinks.dtmfFromBrowser = [this](char d, uint16_t ms) {
      digitsFromBrowser_ += d;
      durationsFromBrowser_.push_back(ms);
    };
    return std::make_unique<MediaBridge>(loop_, c, config::Opus{}, 0x11111111, 0x22222222, sinks);
  }
  static void capture(std::vector<Packet>& into, const uint8_t* d, size_t n) {
    Packet p;
    p.bytes.assign(d, d + n);
    ASSERT_EQ(media::parseRtp(p.bytes, p.h), media::RtpStatus::Ok);
    into.push_back(std::move(p));
  }

  EventLoop loop_;
  std::vector<Packet> toBrowser_, toUpstream_;
  std::vector<int64_t> toBrowserAtUs_;  // when each toBrowser_ packet left the bridge (CLOCK_MONOTONIC µs)
  std::string digitsFromUpstream_, digitsFromBrowser_;
  std::vector<uint16_t> durationsFromUpstream_, durationsFromBrowser_;
};

TEST_F(MediaBridgeTest, PassthroughRewritesHeadersAndKeepsPayload) {
  BridgeCodecs c{CodecId::Pcmu, 0, CodecId::Pcmu, 0, std::nullopt, std::nullopt};
  auto bridge = make(c);
  auto pcm = test::tone(1000, kFrameSamples);
  auto enc = makeEncoder(CodecId::Pcmu, {});
  std::vector<uint8_t> payload(kFrameSamples);
  enc->encode(pcm, payload);
  for (uint16_t i = 0; i < 5; ++i) bridge->fromBrowser(rtpPacket(0, 1000 + i, 5000 + i * 160u, 0xabc, payload).data(), 172);
  // Genesys re-INVITEs to a conference mixer: new SSRC, unrelated sequence and timestamps.
  for (uint16_t i = 0; i < 3; ++i) bridge->fromBrowser(rtpPacket(0, 7 + i, 900000 + i * 160u, 0xdef, payload).data(), 172);
  ASSERT_EQ(toUpstream_.size(), 8u);
  for (size_t i = 0; i < toUpstream_.size(); ++i) {
    EXPECT_EQ(toUpstream_[i].h.ssrc, 0x22222222u);
    EXPECT_EQ(toUpstream_[i].h.payloadType, 0);
    if (i > 0) {
      EXPECT_EQ(static_cast<uint16_t>(toUpstream_[i].h.sequence - toUpstream_[i - 1].h.sequence), 1) << i;
      EXPECT_EQ(toUpstream_[i].h.timestamp - toUpstream_[i - 1].h.timestamp, 160u) << i;
    }
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), toUpstream_[i].payload().begin()));
  }
  EXPECT_TRUE(toUpstream_[5].h.marker);  // discontinuity marked
}

TEST_F(MediaBridgeTest, CrossLawPassthroughKeepsTheTone) {
  BridgeCodecs c{CodecId::Pcma, 8, CodecId::Pcmu, 0, std::nullopt, std::nullopt};
  auto bridge = make(c);
  auto pcm = test::tone(600, kFrameSamples);
  std::vector<uint8_t> alaw(kFrameSamples);
  makeEncoder(CodecId::Pcma, {})->encode(pcm, alaw);
  bridge->fromBrowser(rtpPacket(8, 1, 0, 1, alaw).data(), 12 + alaw.size());
  ASSERT_EQ(toUpstream_.size(), 1u);
  int16_t back[kMaxDecodedSamples];
  makeDecoder(CodecId::Pcmu)->decode(toUpstream_[0].payload(), back);
  EXPECT_EQ(test::dominantFrequency(std::span<const int16_t>(back, kFrameSamples)), 600);
}

// Packet-driven: every input frame leaves at once as exactly one output frame, with timestamps that follow the
// input's (no clock of the bridge decides when audio goes, so none can drift).
TEST_F(MediaBridgeTest, TranscodesBothWaysFrameForFrameWithTonesIntact) {
  BridgeCodecs c{CodecId::Opus, 111, CodecId::Pcmu, 0, std::nullopt, std::nullopt};
  auto bridge = make(c);
  auto opusEnc = makeEncoder(CodecId::Opus, config::Opus{});
  auto pcmuEnc = makeEncoder(CodecId::Pcmu, {});
  constexpr int kFrames = 60;
  for (int sent = 0; sent < kFrames; ++sent) {
    auto a = test::tone(440, kFrameSamples, static_cast<size_t>(sent) * kFrameSamples);
    std::vector<uint8_t> op(kMaxEncodedBytes);
    op.resize(opusEnc->encode(a, op));
    auto p1 = rtpPacket(111, static_cast<uint16_t>(sent), static_cast<uint32_t>(sent) * 960u, 0xb, op);
    bridge->fromBrowser(p1.data(), p1.size());
    EXPECT_EQ(toUpstream_.size(), static_cast<size_t>(sent + 1));
    auto g = test::tone(1000, kFrameSamples, static_cast<size_t>(sent) * kFrameSamples);
    std::vector<uint8_t> mu(kFrameSamples);
    pcmuEnc->encode(g, mu);
    auto p2 = rtpPacket(0, static_cast<uint16_t>(sent), static_cast<uint32_t>(sent) * 160u, 0x9, mu);
    bridge->fromUpstream(p2.data(), p2.size());
    EXPECT_EQ(toBrowser_.size(), static_cast<size_t>(sent + 1));
  }
  ASSERT_EQ(toUpstream_.size(), static_cast<size_t>(kFrames));
  ASSERT_EQ(toBrowser_.size(), static_cast<size_t>(kFrames));
  std::vector<int16_t> heardByGenesys, heardByBrowser;
  auto pcmuDec = makeDecoder(CodecId::Pcmu);
  auto opusDec = makeDecoder(CodecId::Opus);
  for (size_t i = 0; i < kFrames; ++i) {
    int16_t buf[kMaxDecodedSamples];
    EXPECT_EQ(toUpstream_[i].h.payloadType, 0);
    size_t n = pcmuDec->decode(toUpstream_[i].payload(), buf);
    if (i >= 10) heardByGenesys.insert(heardByGenesys.end(), buf, buf + n);
    EXPECT_EQ(toBrowser_[i].h.payloadType, 111);
    n = opusDec->decode(toBrowser_[i].payload(), buf);
    if (i >= 10) heardByBrowser.insert(heardByBrowser.end(), buf, buf + n);
    if (i > 0) {
      EXPECT_EQ(toBrowser_[i].h.timestamp - toBrowser_[i - 1].h.timestamp, 960u);
      EXPECT_EQ(toUpstream_[i].h.timestamp - toUpstream_[i - 1].h.timestamp, 160u);
      EXPECT_EQ(static_cast<uint16_t>(toUpstream_[i].h.sequence - toUpstream_[i - 1].h.sequence), 1);
    }
  }
  EXPECT_NEAR(test::dominantFrequency(heardByGenesys), 440, 10);
  EXPECT_NEAR(test::dominantFrequency(heardByBrowser), 1000, 10);
  const auto st = bridge->stats();
  EXPECT_EQ(st.toUpstream.packetsIn, st.toUpstream.packetsOut);
  EXPECT_EQ(st.toBrowser.packetsIn, st.toBrowser.packetsOut);
}

// A lost browser packet is rebuilt from the next one's in-band FEC; Genesys sees no gap. A lost Genesys packet
// stays a timestamp gap toward the browser, whose Opus decoder conceals it.
TEST_F(MediaBridgeTest, LossIsConcealedTowardGenesysAndLeftAsAGapTowardTheBrowser) {
  BridgeCodecs c{CodecId::Opus, 111, CodecId::Pcmu, 0, std::nullopt, std::nullopt};
  auto bridge = make(c);
  config::Opus fec;
  fec.fec = true;
  auto opusEnc = makeEncoder(CodecId::Opus, fec);
  auto pcmuEnc = makeEncoder(CodecId::Pcmu, {});
  for (int f = 0; f < 50; ++f) {
    if (f == 20) continue;  // lost both ways
    auto a = test::tone(440, kFrameSamples, static_cast<size_t>(f) * kFrameSamples);
    std::vector<uint8_t> op(kMaxEncodedBytes);
    op.resize(opusEnc->encode(a, op));
    auto p1 = rtpPacket(111, static_cast<uint16_t>(f), static_cast<uint32_t>(f) * 960u, 0xb, op);
    bridge->fromBrowser(p1.data(), p1.size());
    std::vector<uint8_t> mu(kFrameSamples);
    pcmuEnc->encode(test::tone(1000, kFrameSamples, static_cast<size_t>(f) * kFrameSamples), mu);
    auto p2 = rtpPacket(0, static_cast<uint16_t>(f), static_cast<uint32_t>(f) * 160u, 0x9, mu);
    bridge->fromUpstream(p2.data(), p2.size());
  }
  ASSERT_EQ(toUpstream_.size(), 50u);
  for (size_t i = 1; i < toUpstream_.size(); ++i) EXPECT_EQ(toUpstream_[i].h.timestamp - toUpstream_[i - 1].h.timestamp, 160u);
  ASSERT_EQ(toBrowser_.size(), 49u);
  EXPECT_EQ(toBrowser_[20].h.timestamp - toBrowser_[19].h.timestamp, 2 * 960u);
  const auto st = bridge->stats();
  EXPECT_EQ(st.toUpstream.concealed, 1u);
  EXPECT_EQ(st.toBrowser.gapFrames, 1u);
}

TEST_F(MediaBridgeTest, BrowserDtmfBecomesGenesysTelephoneEvents) {
  BridgeCodecs c{CodecId::Pcmu, 0, CodecId::Pcmu, 0, uint8_t{126}, uint8_t{101}};
  auto bridge = make(c);
  // RTCDTMFSender-style: three packets of one event (same timestamp), the last with the E bit.
  for (int i = 0; i < 3; ++i) {
    std::array<uint8_t, 4> ev{};
    writeTelephoneEvent({3, i == 2, 10, static_cast<uint16_t>(160 * (i + 1))}, ev);
    auto p = rtpPacket(126, static_cast<uint16_t>(50 + i), 12345, 0xb, ev, i == 0);
    bridge->fromBrowser(p.data(), p.size());
  }
  EXPECT_EQ(digitsFromBrowser_, "3");
  ASSERT_TRUE(test::pumpUntil(loop_, [&] {
    int ends = 0;
    for (auto& p : toUpstream_) ends += p.h.payloadType == 101 && (p.payload()[1] & 0x80) ? 1 : 0;
    return ends == 3;
  }));
  ASSERT_EQ(toUpstream_.size(), 3u + 2u);  // 60 ms: three 20 ms packets, the last one repeated twice
  EXPECT_TRUE(toUpstream_[0].h.marker);
  for (auto& p : toUpstream_) {
    EXPECT_EQ(p.h.payloadType, 101);
    EXPECT_EQ(p.h.timestamp, toUpstream_[0].h.timestamp);
    EXPECT_EQ(p.payload()[0], 3);
  }
  // The browser's event lasted 480 ticks (60 ms at 8 kHz): the same duration toward Genesys.
  EXPECT_EQ(parseTelephoneEvent(toUpstream_.back().payload())->duration, 480);
  EXPECT_EQ(durationsFromBrowser_, std::vector<uint16_t>{60});
}

// JsSIP sendDTMF('5', {duration: 250, transportType: 'RFC2833'}) with Opus: telephone-event/48000 from the browser
// becomes telephone-event/8000 with Genesys's PT 101, 250 ms long, updates every 20 ms and three end packets.
TEST_F(MediaBridgeTest, BrowserDtmfDurationIsKeptAcrossClockRates) {
  BridgeCodecs c{CodecId::Opus, 111, CodecId::Pcmu, 0, uint8_t{110}, uint8_t{101}};
  auto bridge = make(c);
  const int updates = 250 / 20 + 1;
  for (int i = 0; i < updates + 2; ++i) {
    const bool end = i >= updates - 1;
    const auto dur = static_cast<uint16_t>(end ? 12000 : 960 * (i + 1));
    std::array<uint8_t, 4> ev{};
    writeTelephoneEvent({5, end, 10, dur}, ev);
    auto p = rtpPacket(110, static_cast<uint16_t>(300 + i), 960000, 0xb, ev, i == 0);
    bridge->fromBrowser(p.data(), p.size());
  }
  EXPECT_EQ(digitsFromBrowser_, "5");
  EXPECT_EQ(durationsFromBrowser_, std::vector<uint16_t>{250});
  ASSERT_TRUE(test::pumpUntil(loop_, [&] {
    int ends = 0;
    for (auto& p : toUpstream_) ends += p.h.payloadType == 101 && (p.payload()[1] & 0x80) ? 1 : 0;
    return ends == 3;
  }));
  int ends = 0;
  uint16_t last = 0;
  for (size_t i = 0; i < toUpstream_.size(); ++i) {
    const auto& p = toUpstream_[i];
    EXPECT_EQ(p.h.payloadType, 101);
    EXPECT_EQ(p.h.marker, i == 0);
    EXPECT_EQ(p.h.timestamp, toUpstream_[0].h.timestamp);
    auto ev = parseTelephoneEvent(p.payload());
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->event, 5);
    EXPECT_GE(ev->duration, last);
    last = ev->duration;
    ends += ev->end ? 1 : 0;
  }
  EXPECT_EQ(ends, 3);
  EXPECT_EQ(last, 2000);  // 250 ms at 8 kHz
  EXPECT_EQ(toUpstream_.size(), 250u / 20 + 1 + 2);
}

// An INFO digit (JsSIP's default transport) with Duration=250 goes to Genesys as 250 ms of RFC 4733.
TEST_F(MediaBridgeTest, InfoDigitDurationReachesGenesys) {
  BridgeCodecs c{CodecId::Pcmu, 0, CodecId::Pcmu, 0, std::nullopt, uint8_t{101}};
  auto bridge = make(c);
  auto info = parseInfoDtmf("application/dtmf-relay", "Signal=5\r\nDuration=250\r\n");
  ASSERT_TRUE(info);
  ASSERT_TRUE(bridge->sendDtmfUpstream(info->digit, info->durationMs));
  ASSERT_TRUE(test::pumpUntil(loop_, [&] {
    int ends = 0;
    for (auto& p : toUpstream_) ends += (p.payload()[1] & 0x80) ? 1 : 0;
    return ends == 3;
  }));
  EXPECT_EQ(parseTelephoneEvent(toUpstream_.back().payload())->duration, 2000);
  EXPECT_EQ(parseTelephoneEvent(toUpstream_.back().payload())->event, 5);
}

TEST_F(MediaBridgeTest, GenesysDtmfIsReportedOnceAndMalformedInputIsCounted) {
  BridgeCodecs c{CodecId::Pcmu, 0, CodecId::Pcmu, 0, uint8_t{126}, uint8_t{101}};
  auto bridge = make(c);
  for (int i = 0; i < 4; ++i) {
    std::array<uint8_t, 4> ev{};
    writeTelephoneEvent({11, i >= 2, 10, static_cast<uint16_t>(160 * (i + 1))}, ev);
    auto p = rtpPacket(101, static_cast<uint16_t>(i), 777, 0x9, ev);
    bridge->fromUpstream(p.data(), p.size());
  }
  EXPECT_EQ(digitsFromUpstream_, "#");
  EXPECT_EQ(durationsFromUpstream_, std::vector<uint16_t>{60});  // 480 ticks at 8 kHz, reported at the end
  // A 1.2 s digit keeps its duration (was: always 100 ms in the INFO to the browser).
  for (int i = 0; i < 3; ++i) {
    std::array<uint8_t, 4> ev{};
    writeTelephoneEvent({4, i == 2, 10, static_cast<uint16_t>(i == 2 ? 9600 : 160 * (i + 1))}, ev);
    auto p = rtpPacket(101, static_cast<uint16_t>(10 + i), 90000, 0x9, ev);
    bridge->fromUpstream(p.data(), p.size());
  }
  EXPECT_EQ(digitsFromUpstream_, "#4");
  EXPECT_EQ(durationsFromUpstream_, (std::vector<uint16_t>{60, 1200}));
  const uint8_t junk[] = {0x00, 0x01, 0x02};
  bridge->fromUpstream(junk, sizeof(junk));
  auto wrongPt = rtpPacket(96, 1, 1, 1, std::vector<uint8_t>(10));
  bridge->fromUpstream(wrongPt.data(), wrongPt.size());
  EXPECT_EQ(bridge->stats().toBrowser.malformed, 1u);
  EXPECT_EQ(bridge->stats().toBrowser.unknownPayloadType, 1u);
  EXPECT_TRUE(toBrowser_.empty());
}

// Genesys holds without music (inactive / c=0.0.0.0): the browser keeps getting one continuous stream of silence,
// and Genesys's audio after the retrieve follows it without a jump in sequence or timestamp.
TEST_F(MediaBridgeTest, GenesysHoldWithoutMusicFillsTheBrowserStreamWithSilenceUntilRetrieve) {
  for (CodecId browser : {CodecId::Pcmu, CodecId::Opus}) {
    SCOPED_TRACE(codecName(browser));
    toBrowser_.clear();
    const uint8_t pt = browser == CodecId::Opus ? 111 : 0;
    const uint32_t ticks = rtpTicksPerFrame(browser);
    BridgeCodecs c{browser, pt, CodecId::Pcmu, 0, std::nullopt, std::nullopt};
    auto bridge = make(c);
    std::vector<uint8_t> g711(kFrameSamples, 0x7e);
    for (uint16_t i = 0; i < 3; ++i) bridge->fromUpstream(rtpPacket(0, 10 + i, 800 + i * 160u, 0x6e5, g711).data(), 172);
    ASSERT_EQ(toBrowser_.size(), 3u);
    bridge->setHoldFill(true);
    ASSERT_TRUE(test::pumpUntil(loop_, [&] { return toBrowser_.size() >= 13; }, std::chrono::seconds(5)));
    bridge->setHoldFill(false);
    const size_t filled = toBrowser_.size() - 3;
    EXPECT_EQ(bridge->stats().toBrowser.holdFill, filled);
    // Retrieve: Genesys's audio again, from a new source (another port, SSRC and timeline).
    for (uint16_t i = 0; i < 2; ++i)
      bridge->fromUpstream(rtpPacket(0, 500 + i, 123456 + i * 160u, 0x777, g711).data(), 172);
    ASSERT_EQ(toBrowser_.size(), filled + 5);
    for (size_t i = 1; i < toBrowser_.size(); ++i) {
      EXPECT_EQ(toBrowser_[i].h.ssrc, toBrowser_[0].h.ssrc);
      EXPECT_EQ(toBrowser_[i].h.payloadType, pt);
      EXPECT_EQ(static_cast<uint16_t>(toBrowser_[i].h.sequence - toBrowser_[i - 1].h.sequence), 1) << i;
      EXPECT_EQ(toBrowser_[i].h.timestamp - toBrowser_[i - 1].h.timestamp, ticks) << i;
    }
    EXPECT_TRUE(toBrowser_[3].h.marker);            // the fill starts a talk spurt
    EXPECT_TRUE(toBrowser_[filled + 3].h.marker);   // and so does Genesys's audio after it
    for (size_t i = 3; i < filled + 3; ++i) {
      if (browser == CodecId::Pcmu) {
        EXPECT_EQ(toBrowser_[i].h.payloadSize, kFrameSamples);
        EXPECT_EQ(toBrowser_[i].payload()[0], 0xFF);  // µ-law silence
      } else {
        auto dec = makeDecoder(CodecId::Opus);
        std::array<int16_t, kFrameSamples> pcm{};
        ASSERT_EQ(dec->decode(toBrowser_[i].payload(), pcm), kFrameSamples);
        for (int16_t v : pcm) EXPECT_LE(std::abs(v), 2);
      }
    }
  }
}

// Music on hold from Genesys is forwarded as it comes; a fill frame appears only where the music left a gap of at
// least kHoldFillIdleMs (measured here on the bridge's own output times, so a stalled test thread cannot fool it).
TEST_F(MediaBridgeTest, HoldFillOnlyCoversGapsInGenesysMusicOnHold) {
  BridgeCodecs c{CodecId::Pcmu, 0, CodecId::Pcmu, 0, std::nullopt, std::nullopt};
  auto bridge = make(c);
  bridge->setHoldFill(true);
  std::vector<uint8_t> music(kFrameSamples, 0x7e);
  for (uint16_t i = 0; i < 20; ++i) {
    bridge->fromUpstream(rtpPacket(0, 10 + i, 800 + i * 160u, 0x6e5, music).data(), 172);
    test::pumpUntil(loop_, [] { return false; }, std::chrono::milliseconds(i == 9 ? 200 : 10));
  }
  size_t musicFrames = 0, fills = 0;
  for (size_t i = 0; i < toBrowser_.size(); ++i) {
    if (toBrowser_[i].payload()[0] == 0x7e) {
      ++musicFrames;
      continue;
    }
    ++fills;
    // A fill frame follows at least kHoldFillIdleMs of silence from the bridge (or another fill frame).
    ASSERT_GT(i, 0u);
    const bool afterFill = toBrowser_[i - 1].payload()[0] == 0xFF;
    if (!afterFill) {
      EXPECT_GE(toBrowserAtUs_[i] - toBrowserAtUs_[i - 1], MediaBridge::kHoldFillIdleMs * 1000 - 1000) << i;
    }
  }
  EXPECT_EQ(musicFrames, 20u);
  EXPECT_GE(fills, 1u);  // the 200 ms pause after the tenth packet was filled
  EXPECT_EQ(bridge->stats().toBrowser.holdFill, fills);
}
}  // namespace
}  // namespace rtcgate::codec

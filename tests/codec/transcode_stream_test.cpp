// SPDX-License-Identifier: Apache-2.0
// One transcoding direction, packet-driven: frames out per frame in, loss patterns (single, burst, stream stop,
// reorder), odd packet durations. CI also runs these under ASan+UBSan (concealment was where spandsp's PLC broke).
#include <gtest/gtest.h>

#include <set>

#include "rtcgate/codec/transcode_stream.h"
#include "support/tone.h"

namespace rtcgate::codec {
namespace {

struct Out {
  uint32_t position;
  std::vector<uint8_t> payload;
  bool concealed;
};

class Harness {
public:
  Harness(CodecId in, CodecId out, double freq, size_t samplesPerPacket = kFrameSamples)
      : in_(in), out_(out), freq_(freq), perPacket_(samplesPerPacket), enc_(makeEncoder(in, config::Opus{})),
        stream_(in, out, config::Opus{}, [this](uint32_t pos, std::span<const uint8_t> p, bool c) {
          frames.push_back({pos, {p.begin(), p.end()}, c});
        }) {}

  // Sends packet number `n` (its audio, sequence number and timestamp follow from n).
  TranscodeStream::Push send(uint32_t n, uint32_t ssrc = 0x1234, uint16_t seqBase = 100) {
    auto pcm = test::tone(freq_, perPacket_, n * perPacket_);
    std::vector<uint8_t> payload(kMaxEncodedBytes * 3);
    size_t bytes = 0;
    if (in_ == CodecId::Opus) {
      // Opus packets are 20 ms here (what Chrome and Firefox send).
      bytes = enc_->encode(std::span<const int16_t>(pcm.data(), kFrameSamples), payload);
    } else {
      auto g = makeEncoder(in_, {});
      bytes = g->encode(pcm, payload);
    }
    payload.resize(bytes);
    const uint32_t ticks = rtpClockRate(in_) / 8000 * static_cast<uint32_t>(perPacket_);
    return stream_.push(ssrc, static_cast<uint16_t>(seqBase + n), 5000 + n * ticks, payload);
  }

  std::vector<int16_t> decoded() const {
    auto dec = makeDecoder(out_);
    std::vector<int16_t> pcm;
    for (auto& f : frames) {
      int16_t buf[kMaxDecodedSamples];
      size_t n = dec->decode(f.payload, buf);
      pcm.insert(pcm.end(), buf, buf + n);
    }
    return pcm;
  }

  const TranscodeStream::Stats& stats() const { return stream_.stats(); }
  std::vector<Out> frames;

private:
  CodecId in_, out_;
  double freq_;
  size_t perPacket_;
  std::unique_ptr<AudioEncoder> enc_;
  TranscodeStream stream_;
};

void expectContiguous(const std::vector<Out>& frames, size_t from, size_t to) {
  for (size_t i = from + 1; i < to; ++i) EXPECT_EQ(frames[i].position - frames[i - 1].position, kFrameSamples) << i;
}

TEST(TranscodeStream, OpusToPcmuOneFrameOutPerFrameInWithTheTone) {
  Harness h(CodecId::Opus, CodecId::Pcmu, 440);
  for (uint32_t n = 0; n < 50; ++n) {
    h.send(n);
    ASSERT_EQ(h.frames.size(), n + 1) << "a frame must leave as soon as its packet arrived";
  }
  expectContiguous(h.frames, 0, h.frames.size());
  auto pcm = h.decoded();
  EXPECT_NEAR(test::dominantFrequency(std::span(pcm).subspan(10 * kFrameSamples)), 440, 10);
  EXPECT_EQ(h.stats().concealed, 0u);
}

TEST(TranscodeStream, PcmuToOpusCarriesTheGenesysTone) {
  Harness h(CodecId::Pcmu, CodecId::Opus, 1000);
  for (uint32_t n = 0; n < 50; ++n) h.send(n);
  ASSERT_EQ(h.frames.size(), 50u);
  auto pcm = h.decoded();
  EXPECT_NEAR(test::dominantFrequency(std::span(pcm).subspan(10 * kFrameSamples)), 1000, 10);
}

TEST(TranscodeStream, SingleOpusLossIsRebuiltSoGenesysSeesNoGap) {
  Harness h(CodecId::Opus, CodecId::Pcma, 440);
  for (uint32_t n = 0; n < 100; ++n)
    if (n % 10 != 9) h.send(n);
  // 10 lost of 100: the first nine are concealed when the next packet reveals them; the 100th is never revealed.
  EXPECT_EQ(h.frames.size(), 99u);
  EXPECT_EQ(h.stats().concealed, 9u);
  expectContiguous(h.frames, 0, h.frames.size());
  auto pcm = h.decoded();
  EXPECT_NEAR(test::dominantFrequency(std::span(pcm).subspan(10 * kFrameSamples)), 440, 10);
}

TEST(TranscodeStream, ShortOpusBurstIsConcealedALongOneLeftAsAGap) {
  Harness h(CodecId::Opus, CodecId::Pcmu, 440);
  std::set<uint32_t> lost = {10, 11, 12,                     // 3: concealed
                             30, 31, 32, 33, 34, 35, 36, 37};  // 8: an outage, left to the receiver
  for (uint32_t n = 0; n < 60; ++n)
    if (!lost.count(n)) h.send(n);
  EXPECT_EQ(h.stats().concealed, 3u);
  EXPECT_EQ(h.stats().gapFrames, 8u);
  ASSERT_EQ(h.frames.size(), 60u - 8u);
  // Frame 30's slot onward: the output timeline jumps exactly by the outage.
  EXPECT_EQ(h.frames[30].position - h.frames[29].position, 9 * kFrameSamples);
}

TEST(TranscodeStream, G711LossIsNeverSynthesisedHere) {
  Harness h(CodecId::Pcmu, CodecId::Opus, 1000);
  for (uint32_t n = 0; n < 40; ++n)
    if (n != 5 && n != 20 && n != 21) h.send(n);
  EXPECT_EQ(h.frames.size(), 37u);
  EXPECT_EQ(h.stats().concealed, 0u);
  EXPECT_EQ(h.stats().gapFrames, 3u);
  EXPECT_EQ(h.frames[5].position - h.frames[4].position, 2 * kFrameSamples);
}

TEST(TranscodeStream, StreamStopAndANewSourceRestartCleanly) {
  Harness h(CodecId::Opus, CodecId::Pcmu, 440);
  for (uint32_t n = 0; n < 20; ++n) h.send(n);
  // The browser's sender restarts (new SSRC, unrelated sequence and timestamps), as after an ICE restart.
  for (uint32_t n = 0; n < 20; ++n) h.send(n + 70000, 0x9999, 7);
  EXPECT_EQ(h.frames.size(), 40u);
  EXPECT_EQ(h.stats().restarts, 1u);
  EXPECT_EQ(h.stats().concealed, 0u);
}

TEST(TranscodeStream, ReorderedPacketIsConcealedOnceThenDroppedAsLate) {
  Harness h(CodecId::Opus, CodecId::Pcmu, 440);
  for (uint32_t n : {0u, 1u, 2u, 4u, 3u, 5u, 6u}) h.send(n);
  EXPECT_EQ(h.frames.size(), 7u);
  EXPECT_EQ(h.stats().concealed, 1u);
  EXPECT_EQ(h.stats().late, 1u);
  expectContiguous(h.frames, 0, h.frames.size());
}

TEST(TranscodeStream, TenMillisecondG711PacketsMakeTwentyMillisecondFrames) {
  Harness h(CodecId::Pcmu, CodecId::Opus, 1000, 80);
  for (uint32_t n = 0; n < 40; ++n) h.send(n);
  EXPECT_EQ(h.frames.size(), 20u);
  expectContiguous(h.frames, 0, h.frames.size());
}

TEST(TranscodeStream, ThirtyMillisecondG711PacketsKeepTheTimeline) {
  Harness h(CodecId::Pcma, CodecId::Opus, 1000, 240);
  for (uint32_t n = 0; n < 20; ++n) h.send(n);
  EXPECT_EQ(h.frames.size(), 30u);  // 600 ms of audio
  expectContiguous(h.frames, 0, h.frames.size());
}

TEST(TranscodeStream, CorruptOpusPayloadIsCountedNotFatal) {
  // An Opus TOC byte promising more frames than the packet holds.
  config::Opus o;
  TranscodeStream s(CodecId::Opus, CodecId::Pcmu, o, nullptr);
  const uint8_t junk[] = {0xff, 0xff, 0xff};
  EXPECT_EQ(s.push(1, 1, 960, junk), TranscodeStream::Push::Corrupt);
  EXPECT_EQ(s.stats().decodeErrors, 1u);
}

}  // namespace
}  // namespace rtcgate::codec

// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/codec/audio_codec.h"
#include "support/tone.h"

namespace rtcgate::codec {
namespace {

TEST(Opus, ToneSurvivesEncodeDecodeAt8kHz) {
  auto enc = makeEncoder(CodecId::Opus, config::Opus{});
  auto dec = makeDecoder(CodecId::Opus);
  std::vector<int16_t> out;
  for (size_t f = 0; f < 25; ++f) {
    auto pcm = test::tone(440, kFrameSamples, f * kFrameSamples);
    uint8_t payload[kMaxEncodedBytes];
    size_t n = enc->encode(pcm, payload);
    ASSERT_GT(n, 0u);
    ASSERT_LT(n, 200u);  // 32 kbit/s * 20 ms = 80 bytes, with slack
    int16_t frame[kMaxDecodedSamples];
    ASSERT_EQ(dec->decode(std::span<const uint8_t>(payload, n), frame), kFrameSamples);
    if (f >= 5) out.insert(out.end(), frame, frame + kFrameSamples);  // skip the codec's start-up
  }
  EXPECT_NEAR(test::dominantFrequency(out), 440, 10);
}

TEST(Opus, CorruptPayloadIsAnErrorNotACrash) {
  auto dec = makeDecoder(CodecId::Opus);
  // TOC byte for code 3 (arbitrary frame count) with a count byte promising more than the packet holds.
  const uint8_t bad[] = {0x03, 0xff};
  int16_t frame[kMaxDecodedSamples];
  EXPECT_EQ(dec->decode(bad, frame), 0u);
  EXPECT_EQ(dec->conceal(frame, {}), kFrameSamples);
}

TEST(Opus, EncoderRejectsWrongFrameSize) {
  auto enc = makeEncoder(CodecId::Opus, config::Opus{});
  std::vector<int16_t> pcm(100);
  uint8_t payload[kMaxEncodedBytes];
  EXPECT_EQ(enc->encode(pcm, payload), 0u);
}

TEST(Opus, BadSettingsFailAtSetup) {
  config::Opus bad;
  bad.complexity = 11;  // libopus accepts 0..10
  EXPECT_THROW(makeEncoder(CodecId::Opus, bad), std::runtime_error);
}

}  // namespace
}  // namespace rtcgate::codec

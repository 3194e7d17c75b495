// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/codec/audio_codec.h"
#include "support/tone.h"

namespace rtcgate::codec {
namespace {

TEST(G711, ToneSurvivesEncodeDecodeInBothLaws) {
  for (auto law : {CodecId::Pcmu, CodecId::Pcma}) {
    auto pcm = test::tone(1000, 800);
    auto enc = makeEncoder(law, {});
    auto dec = makeDecoder(law);
    std::vector<int16_t> out;
    for (size_t f = 0; f < 5; ++f) {
      uint8_t payload[kFrameSamples];
      ASSERT_EQ(enc->encode(std::span(pcm).subspan(f * kFrameSamples, kFrameSamples), payload), kFrameSamples);
      int16_t frame[kMaxDecodedSamples];
      ASSERT_EQ(dec->decode(payload, frame), kFrameSamples);
      out.insert(out.end(), frame, frame + kFrameSamples);
    }
    EXPECT_EQ(test::dominantFrequency(out), 1000) << codecName(law);
    // G.711 is near-transparent: the error stays far below the signal.
    double err = 0, sig = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      err += std::pow(out[i] - pcm[i], 2);
      sig += std::pow(pcm[i], 2);
    }
    EXPECT_GT(10 * std::log10(sig / err), 30.0) << codecName(law);
  }
}

TEST(G711, CrossLawTranscodeKeepsTheTone) {
  auto pcm = test::tone(700, kFrameSamples);
  uint8_t ulaw[kFrameSamples], alaw[kFrameSamples];
  makeEncoder(CodecId::Pcmu, {})->encode(pcm, ulaw);
  transcodeG711(CodecId::Pcmu, CodecId::Pcma, ulaw, alaw);
  int16_t back[kMaxDecodedSamples];
  makeDecoder(CodecId::Pcma)->decode(alaw, back);
  EXPECT_EQ(test::dominantFrequency(std::span<const int16_t>(back, kFrameSamples)), 700);
}

TEST(G711, ConcealmentContinuesTheSignal) {
  auto pcm = test::tone(500, 4 * kFrameSamples);
  auto encp = makeEncoder(CodecId::Pcmu, {});
  auto decp = makeDecoder(CodecId::Pcmu);
  auto& enc = *encp;
  auto& dec = *decp;
  int16_t frame[kMaxDecodedSamples];
  for (size_t f = 0; f < 4; ++f) {
    uint8_t payload[kFrameSamples];
    enc.encode(std::span(pcm).subspan(f * kFrameSamples, kFrameSamples), payload);
    dec.decode(payload, frame);
  }
  ASSERT_EQ(dec.conceal(frame, {}), kFrameSamples);
  // spandsp's PLC repeats the last pitch period: a lost frame of a steady tone still sounds like the tone.
  EXPECT_EQ(test::dominantFrequency(std::span<const int16_t>(frame, kFrameSamples)), 500);
}

}  // namespace
}  // namespace rtcgate::codec

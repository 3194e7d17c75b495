// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <algorithm>

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

// G.711 loss is left as a timestamp gap for the receiver to conceal (docs/adr/0005); the decoder synthesises
// nothing and touches nothing (spandsp 0.0.6's plc_fillin copied overlapping memory).
TEST(G711, LeavesConcealmentToTheReceiver) {
  auto decp = makeDecoder(CodecId::Pcma);
  int16_t frame[kMaxDecodedSamples];
  std::fill(std::begin(frame), std::end(frame), int16_t{77});
  EXPECT_EQ(decp->conceal(frame, {}), 0u);
  EXPECT_EQ(frame[0], 77);
  EXPECT_EQ(frame[kFrameSamples - 1], 77);
}

}  // namespace
}  // namespace rtcgate::codec

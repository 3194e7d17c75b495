// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/codec/transcode_stream.h"
#include "support/tone.h"

namespace rtcgate::codec {
namespace {

// Feed `frames` 20 ms frames of a tone encoded as `in` through a TranscodeStream to `out`, dropping every
// `lossEvery`-th packet, and return the decoded output audio.
std::vector<int16_t> runTone(CodecId in, CodecId out, double freq, size_t frames, size_t lossEvery,
                             TranscodeStream** keep = nullptr) {
  config::Opus opus;
  auto enc = makeEncoder(in, opus);
  auto outDec = makeDecoder(out);
  static std::unique_ptr<TranscodeStream> stream;
  stream = std::make_unique<TranscodeStream>(in, out, opus, 200);
  if (keep) *keep = stream.get();
  std::vector<int16_t> audio;
  for (size_t f = 0; f < frames; ++f) {
    auto pcm = test::tone(freq, kFrameSamples, f * kFrameSamples);
    uint8_t payload[kMaxEncodedBytes];
    size_t n = enc->encode(pcm, payload);
    if (lossEvery == 0 || f % lossEvery != lossEvery - 1)
      stream->push(static_cast<uint16_t>(f), static_cast<uint32_t>(f * rtpTicksPerFrame(in)),
                   std::span<const uint8_t>(payload, n), f * 20);
    uint8_t encoded[kMaxEncodedBytes];
    auto fr = stream->tick(encoded);
    if (fr.bytes == 0) continue;
    int16_t dec[kMaxDecodedSamples];
    size_t m = outDec->decode(std::span<const uint8_t>(encoded, fr.bytes), dec);
    audio.insert(audio.end(), dec, dec + m);
  }
  return audio;
}

TEST(TranscodeStream, OpusToPcmuCarriesTheBrowserTone) {
  auto audio = runTone(CodecId::Opus, CodecId::Pcmu, 440, 50, 0);
  ASSERT_GE(audio.size(), 40 * kFrameSamples);
  EXPECT_NEAR(test::dominantFrequency(std::span(audio).subspan(10 * kFrameSamples)), 440, 10);
}

TEST(TranscodeStream, PcmuToOpusCarriesTheGenesysTone) {
  auto audio = runTone(CodecId::Pcmu, CodecId::Opus, 1000, 50, 0);
  ASSERT_GE(audio.size(), 40 * kFrameSamples);
  EXPECT_NEAR(test::dominantFrequency(std::span(audio).subspan(10 * kFrameSamples)), 1000, 10);
}

TEST(TranscodeStream, TenPercentLossIsConcealedNotSilent) {
  TranscodeStream* s = nullptr;
  auto audio = runTone(CodecId::Opus, CodecId::Pcma, 440, 100, 10, &s);
  ASSERT_NE(s, nullptr);
  EXPECT_GE(s->jitterBuffer().stats().lost, 8u);
  // One output frame per tick once playing, lost frames included: no holes in the output stream.
  EXPECT_GE(audio.size(), 95 * kFrameSamples);
  EXPECT_NEAR(test::dominantFrequency(std::span(audio).subspan(10 * kFrameSamples)), 440, 10);
}

}  // namespace
}  // namespace rtcgate::codec

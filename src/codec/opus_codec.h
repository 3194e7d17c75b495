// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <opus/opus.h>

#include "rtcgate/codec/audio_codec.h"
#include "rtcgate/core/c_handle.h"

namespace rtcgate::codec {

using OpusEncoderPtr = CHandle<OpusEncoder, opus_encoder_destroy>;
using OpusDecoderPtr = CHandle<OpusDecoder, opus_decoder_destroy>;

// libopus at 8 kHz mono. Thread: owning media worker.
class OpusAudioDecoder final : public AudioDecoder {
public:
  OpusAudioDecoder();
  size_t decode(std::span<const uint8_t> payload, std::span<int16_t> out) override;
  size_t conceal(std::span<int16_t> out, std::span<const uint8_t> next) override;
  CodecId id() const override { return CodecId::Opus; }

private:
  OpusDecoderPtr dec_;
};

class OpusAudioEncoder final : public AudioEncoder {
public:
  explicit OpusAudioEncoder(const config::Opus& settings);
  size_t encode(std::span<const int16_t> pcm, std::span<uint8_t> out) override;
  CodecId id() const override { return CodecId::Opus; }

private:
  OpusEncoderPtr enc_;
};

}  // namespace rtcgate::codec

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/audio_codec.h"

#include "g711_codec.h"
#include "opus_codec.h"

namespace rtcgate::codec {

std::string_view codecName(CodecId id) {
  switch (id) {
    case CodecId::Pcmu: return "pcmu";
    case CodecId::Pcma: return "pcma";
    case CodecId::Opus: return "opus";
  }
  return "?";
}

std::optional<CodecId> parseCodecName(std::string_view name) {
  for (auto id : {CodecId::Pcmu, CodecId::Pcma, CodecId::Opus})
    if (codecName(id) == name) return id;
  return std::nullopt;
}

uint32_t rtpClockRate(CodecId id) { return id == CodecId::Opus ? 48000 : 8000; }

std::unique_ptr<AudioDecoder> makeDecoder(CodecId id) {
  if (id == CodecId::Opus) return std::make_unique<OpusAudioDecoder>();
  return std::make_unique<G711Decoder>(id);
}

std::unique_ptr<AudioEncoder> makeEncoder(CodecId id, const config::Opus& opus) {
  if (id == CodecId::Opus) return std::make_unique<OpusAudioEncoder>(opus);
  return std::make_unique<G711Encoder>(id);
}

}  // namespace rtcgate::codec

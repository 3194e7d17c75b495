// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spandsp.h>

#include "rtcgate/codec/audio_codec.h"

namespace rtcgate::codec {

// G.711 µ-law / A-law (spandsp tables). No concealment here: spandsp 0.0.6's plc_fillin() copies overlapping
// memory (ASan aborts at the first lost packet), and a G.711 gap toward the browser is better concealed by the
// browser's own Opus decoder, which sees the timestamp gap (docs/adr/0005-packet-driven-transcoding.md).
// Thread: owning media worker.
class G711Decoder final : public AudioDecoder {
public:
  explicit G711Decoder(CodecId id) : id_(id) {}
  size_t decode(std::span<const uint8_t> payload, std::span<int16_t> out) override;
  size_t conceal(std::span<int16_t> out, std::span<const uint8_t> next) override;
  CodecId id() const override { return id_; }

private:
  CodecId id_;
};

class G711Encoder final : public AudioEncoder {
public:
  explicit G711Encoder(CodecId id) : id_(id) {}
  size_t encode(std::span<const int16_t> pcm, std::span<uint8_t> out) override;
  CodecId id() const override { return id_; }

private:
  CodecId id_;
};


}  // namespace rtcgate::codec

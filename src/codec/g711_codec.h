// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spandsp.h>

#include "rtcgate/codec/audio_codec.h"

namespace rtcgate::codec {

// G.711 µ-law / A-law (spandsp) with spandsp's packet-loss concealment. Thread: owning media worker.
class G711Decoder final : public AudioDecoder {
public:
  explicit G711Decoder(CodecId id);
  ~G711Decoder() override;
  G711Decoder(const G711Decoder&) = delete;
  G711Decoder& operator=(const G711Decoder&) = delete;
  size_t decode(std::span<const uint8_t> payload, std::span<int16_t> out) override;
  size_t conceal(std::span<int16_t> out, std::span<const uint8_t> next) override;
  CodecId id() const override { return id_; }

private:
  CodecId id_;
  plc_state_t* plc_;
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

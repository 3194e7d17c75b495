// SPDX-License-Identifier: Apache-2.0
#include "g711_codec.h"

#include <spandsp.h>

#include <algorithm>
#include <cstring>

namespace rtcgate::codec {

size_t G711Decoder::decode(std::span<const uint8_t> payload, std::span<int16_t> out) {
  size_t n = std::min(payload.size(), out.size());
  if (id_ == CodecId::Pcmu)
    for (size_t i = 0; i < n; ++i) out[i] = ulaw_to_linear(payload[i]);
  else
    for (size_t i = 0; i < n; ++i) out[i] = alaw_to_linear(payload[i]);
  return n;
}

size_t G711Decoder::conceal(std::span<int16_t>, std::span<const uint8_t>) { return 0; }

size_t G711Encoder::encode(std::span<const int16_t> pcm, std::span<uint8_t> out) {
  size_t n = std::min(pcm.size(), out.size());
  if (id_ == CodecId::Pcmu)
    for (size_t i = 0; i < n; ++i) out[i] = linear_to_ulaw(pcm[i]);
  else
    for (size_t i = 0; i < n; ++i) out[i] = linear_to_alaw(pcm[i]);
  return n;
}

void transcodeG711(CodecId from, CodecId to, std::span<const uint8_t> in, std::span<uint8_t> out) {
  size_t n = std::min(in.size(), out.size());
  if (from == to) {
    std::memcpy(out.data(), in.data(), n);
  } else if (from == CodecId::Pcma) {
    for (size_t i = 0; i < n; ++i) out[i] = alaw_to_ulaw(in[i]);
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = ulaw_to_alaw(in[i]);
  }
}

}  // namespace rtcgate::codec

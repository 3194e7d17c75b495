// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/rtp_header.h"

namespace rtcgate::codec {
namespace {
uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
}  // namespace

std::optional<RtpHeaderView> parseRtpHeader(std::span<const uint8_t> p) {
  if (p.size() < kRtpHeaderSize || (p[0] >> 6) != 2) return std::nullopt;
  RtpHeaderView h;
  h.marker = (p[1] & 0x80) != 0;
  h.payloadType = p[1] & 0x7f;
  h.seq = static_cast<uint16_t>(p[2] << 8 | p[3]);
  h.timestamp = be32(&p[4]);
  h.ssrc = be32(&p[8]);
  size_t off = kRtpHeaderSize + 4u * (p[0] & 0x0f);
  if (off > p.size()) return std::nullopt;
  if (p[0] & 0x10) {  // header extension (RFC 3550 §5.3.1): 4-byte header + length words
    if (off + 4 > p.size()) return std::nullopt;
    off += 4 + 4u * static_cast<size_t>(p[off + 2] << 8 | p[off + 3]);
    if (off > p.size()) return std::nullopt;
  }
  size_t end = p.size();
  if (p[0] & 0x20) {  // padding: the last byte counts the padding bytes, itself included
    uint8_t pad = p[end - 1];
    if (pad == 0 || pad > end - off) return std::nullopt;
    end -= pad;
  }
  h.payloadOffset = off;
  h.payloadSize = end - off;
  return h;
}

void writeRtpHeader(std::span<uint8_t> o, uint8_t pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  o[0] = 0x80;
  o[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (pt & 0x7f));
  o[2] = static_cast<uint8_t>(seq >> 8);
  o[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; ++i) o[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) o[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
}

}  // namespace rtcgate::codec

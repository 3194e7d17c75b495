// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace rtcgate::media {

// RTP fixed header (RFC 3550 §5.1) as parsed from / written to the wire. Thread: any (plain functions).
struct RtpHeader {
  bool padding = false;
  bool extension = false;
  bool marker = false;
  uint8_t csrcCount = 0;
  uint8_t payloadType = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  size_t headerSize = 12;   // fixed header + CSRCs + extension
  size_t payloadSize = 0;   // without padding
};

enum class RtpStatus { Ok, TooShort, BadVersion, BadLength, NoSpace };

// Validates and parses one RTP packet; never reads past `packet`.
RtpStatus parseRtp(std::span<const uint8_t> packet, RtpHeader& out);
// Writes a 12-byte header (no CSRC, no extension) into `out`; returns bytes written or 0 if it does not fit.
size_t writeRtpHeader(const RtpHeader& h, std::span<uint8_t> out);

// Big-endian helpers shared by RTP and RTCP.
inline uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace rtcgate::media

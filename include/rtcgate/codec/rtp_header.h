// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace rtcgate::codec {

// The RTP fixed header (RFC 3550 §5.1) of a packet and where its payload starts. Parsing validates lengths
// (CSRC list, header extension, padding) before anything reads past them.
struct RtpHeaderView {
  uint8_t payloadType = 0;
  bool marker = false;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  size_t payloadOffset = 0;
  size_t payloadSize = 0;
};

std::optional<RtpHeaderView> parseRtpHeader(std::span<const uint8_t> packet);
// Writes a 12-byte header (no CSRC, no extension) into out[0..11].
void writeRtpHeader(std::span<uint8_t> out, uint8_t payloadType, bool marker, uint16_t seq, uint32_t timestamp,
                    uint32_t ssrc);
inline constexpr size_t kRtpHeaderSize = 12;

}  // namespace rtcgate::codec

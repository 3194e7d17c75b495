// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "rtcgate/config/config.h"

namespace rtcgate::codec {

// rtcgate's internal audio is 8 kHz mono 16-bit PCM in 20 ms frames: G.711's native rate, and Opus encodes and
// decodes at 8 kHz natively (no resampler anywhere).
inline constexpr int kSampleRateHz = 8000;
inline constexpr size_t kFrameSamples = 160;  // 20 ms
inline constexpr uint32_t kFrameMs = 20;
// Longest Opus packet duration (RFC 6716 §2.1.4: 120 ms) at 8 kHz.
inline constexpr size_t kMaxDecodedSamples = 960;
// Upper bound of one encoded 20 ms frame we produce (Opus at 510 kbit/s is 1275 bytes).
inline constexpr size_t kMaxEncodedBytes = 1500;

enum class CodecId { Pcmu, Pcma, Opus };

std::string_view codecName(CodecId id);
std::optional<CodecId> parseCodecName(std::string_view name);
// RTP clock rate as signalled in SDP: 8000 for G.711, 48000 for Opus (RFC 7587 §4.1, whatever the real rate).
uint32_t rtpClockRate(CodecId id);
// The RTP timestamp step of one 20 ms frame.
inline uint32_t rtpTicksPerFrame(CodecId id) { return rtpClockRate(id) / 1000 * kFrameMs; }

// Decodes one codec's RTP payloads into 8 kHz PCM. Thread: the owning media worker. Never throws after
// construction; failures are return values (packet path).
class AudioDecoder {
public:
  virtual ~AudioDecoder() = default;
  // Decode one payload into `out` (capacity kMaxDecodedSamples); returns the number of samples, 0 on a corrupt
  // payload.
  virtual size_t decode(std::span<const uint8_t> payload, std::span<int16_t> out) = 0;
  // Conceal one lost 20 ms frame (PLC). `next`, when the following packet is already here, lets Opus recover the
  // lost frame from in-band FEC (RFC 6716 §2.1.7). Returns kFrameSamples, or 0 where the codec leaves concealment
  // to the receiver (G.711).
  virtual size_t conceal(std::span<int16_t> out, std::span<const uint8_t> next) = 0;
  virtual CodecId id() const = 0;
};

// Encodes 20 ms frames of 8 kHz PCM into RTP payloads. Thread: the owning media worker.
class AudioEncoder {
public:
  virtual ~AudioEncoder() = default;
  // Encode exactly kFrameSamples samples; returns payload bytes written to `out`, 0 on failure (counted by caller).
  virtual size_t encode(std::span<const int16_t> pcm, std::span<uint8_t> out) = 0;
  virtual CodecId id() const = 0;
};

// µ-law ⇄ A-law byte by byte (ITU-T G.711 tables), for legs that both speak G.711 but not the same law.
void transcodeG711(CodecId from, CodecId to, std::span<const uint8_t> in, std::span<uint8_t> out);

// Throws std::runtime_error when the library refuses the settings (control plane, at call setup).
std::unique_ptr<AudioDecoder> makeDecoder(CodecId id);
std::unique_ptr<AudioEncoder> makeEncoder(CodecId id, const config::Opus& opus);

}  // namespace rtcgate::codec

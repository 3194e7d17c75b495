// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <memory>
#include <span>

#include "rtcgate/codec/audio_codec.h"
#include "rtcgate/codec/jitter_buffer.h"

namespace rtcgate::codec {

// One direction of a transcoded call: received payloads of codec `in` go through a jitter buffer, are decoded
// (with PLC / Opus FEC for lost frames) to 8 kHz PCM and re-encoded as codec `out`, one 20 ms frame per tick().
// All buffers are sized at construction; push() and tick() do not allocate. Thread: owning media worker.
class TranscodeStream {
public:
  TranscodeStream(CodecId in, CodecId out, const config::Opus& opus, uint32_t jitterMaxMs);

  JitterBuffer::Put push(uint16_t seq, uint32_t timestamp, std::span<const uint8_t> payload, uint64_t nowMs);

  struct Frame {
    size_t bytes = 0;        // encoded payload size in the caller's buffer; 0: nothing to send this tick
    bool concealed = false;  // produced by loss concealment
  };
  // Call every 20 ms. Encodes at most one frame into `out` (capacity kMaxEncodedBytes).
  Frame tick(std::span<uint8_t> out);

  // The last decoded/concealed 20 ms of PCM (tone detection in tests, in-band DTMF later).
  std::span<const int16_t> lastPcm() const { return {lastPcm_.data(), kFrameSamples}; }
  const JitterBuffer& jitterBuffer() const { return jitter_; }
  uint64_t decodeErrors() const { return decodeErrors_; }
  uint64_t encodeErrors() const { return encodeErrors_; }

private:
  void appendPcm(const int16_t* pcm, size_t n);

  std::unique_ptr<AudioDecoder> decoder_;
  std::unique_ptr<AudioEncoder> encoder_;
  JitterBuffer jitter_;
  std::array<int16_t, kMaxDecodedSamples> decoded_{};
  // FIFO of decoded PCM: a 40 or 60 ms packet yields more than one output frame.
  std::array<int16_t, 2 * kMaxDecodedSamples> fifo_{};
  size_t fifoSize_ = 0;
  std::array<int16_t, kFrameSamples> lastPcm_{};
  uint64_t decodeErrors_ = 0;
  uint64_t encodeErrors_ = 0;
};

}  // namespace rtcgate::codec

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "rtcgate/codec/audio_codec.h"
#include "rtcgate/core/metrics.h"

namespace rtcgate::codec {

// One direction of a transcoded call, driven by packet arrival (docs/adr/0005-packet-driven-transcoding.md): each
// received payload of codec `in` is decoded to 8 kHz PCM at once, re-encoded as codec `out` in 20 ms frames and
// handed to the sink, with an output timestamp derived from the input timestamp. No clock of our own decides
// when audio leaves, so every input frame yields exactly one output frame and the added delay is the processing
// time; the receiving endpoint's jitter buffer (browser NetEq, Genesys) absorbs network jitter once.
// Loss: a gap of up to kMaxConcealedFrames is concealed where only we can do it well (Opus in: in-band FEC from the
// packet that revealed the gap, else Opus PLC). G.711 in: the gap is left in the timestamps for the browser's
// Opus decoder to conceal (it needs no help; spandsp's plc_fillin is not memory-safe, see the ADR).
// All buffers are sized at construction; push() does not allocate. Thread: owning media worker.
class TranscodeStream {
public:
  static constexpr uint32_t kMaxConcealedFrames = 3;
  // One encoded 20 ms frame; `position8k` is its first sample's position on the input's timeline at 8 kHz
  // (it follows the input timestamps, so a source gap stays a gap).
  using Sink = std::function<void(uint32_t position8k, std::span<const uint8_t> payload, bool concealed)>;

  // Frames are encoded into `output` (at least kMaxEncodedBytes; the caller's packet buffer behind its RTP header,
  // so the payload is written once) or, when it is empty, into a buffer of the stream's own.
  TranscodeStream(CodecId in, CodecId out, const config::Opus& opus, Sink sink, std::span<uint8_t> output = {});

  enum class Push { Decoded, Late, Restarted, Corrupt };
  Push push(uint32_t ssrc, uint16_t seq, uint32_t timestamp, std::span<const uint8_t> payload);

  struct Stats {
    uint64_t packets = 0;         // accepted input packets
    uint64_t framesOut = 0;       // encoded output frames (concealed ones included)
    uint64_t concealed = 0;       // output frames made by Opus FEC/PLC
    uint64_t gapFrames = 0;       // lost input frames left as a timestamp gap
    uint64_t late = 0, restarts = 0;  // late: behind the output (reordered past a concealed slot, or a copy)
    uint64_t decodeErrors = 0, encodeErrors = 0;
    uint64_t trimmedSamples = 0;  // partial-frame PCM dropped at a discontinuity (odd packet durations only)
  };
  const Stats& stats() const { return stats_; }

  // Histograms of the seconds each decode / encode call takes (rtcgate_transcode_frame_seconds); null: not timed.
  // A steady_clock read around the codec call (~20 ns each) and a lock-free observe: no allocation per frame.
  void setFrameTimers(Metrics::Histogram* decode, Metrics::Histogram* encode) {
    decodeTime_ = decode;
    encodeTime_ = encode;
  }

  // The last 20 ms of PCM that was encoded (tone detection in tests, in-band DTMF later).
  std::span<const int16_t> lastPcm() const { return {lastPcm_.data(), kFrameSamples}; }

private:
  void restart(uint32_t ssrc, uint16_t seq, uint32_t timestamp);
  void conceal(uint32_t frames, std::span<const uint8_t> next);
  void reposition(uint32_t position8k);
  void appendPcm(const int16_t* pcm, size_t n, bool concealed);
  void drain();

  Metrics::Histogram* decodeTime_ = nullptr;
  Metrics::Histogram* encodeTime_ = nullptr;
  std::unique_ptr<AudioDecoder> decoder_;
  std::unique_ptr<AudioEncoder> encoder_;
  Sink sink_;
  const uint32_t inTicksPer8k_;  // RTP ticks of the input clock per 8 kHz sample (1 for G.711, 6 for Opus)
  bool started_ = false;
  uint32_t ssrc_ = 0;
  uint16_t nextSeq_ = 0;
  uint32_t nextTimestamp_ = 0;  // input clock
  uint32_t nextPosition_ = 0;   // 8 kHz position of the next input sample
  // Decoded PCM waiting to fill a 20 ms frame: a 10 ms packet needs a second one, a 60 ms one gives three frames.
  std::array<int16_t, kMaxDecodedSamples> decoded_{};
  std::array<int16_t, kMaxDecodedSamples + kFrameSamples> fifo_{};
  size_t fifoSize_ = 0;
  uint32_t fifoPosition_ = 0;   // 8 kHz position of fifo_[0]
  bool fifoConcealed_ = false;
  std::array<int16_t, kFrameSamples> lastPcm_{};
  std::array<uint8_t, kMaxEncodedBytes> ownOutput_{};
  std::span<uint8_t> output_;
  Stats stats_;
};

}  // namespace rtcgate::codec

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "rtcgate/codec/audio_codec.h"

namespace rtcgate::codec {

// A bounded, adaptive jitter buffer for one receive direction of 20 ms audio packets. Storage is allocated once
// at construction: put() and get() never allocate (packet path). The playout delay adapts to the measured
// interarrival jitter (RFC 3550 §6.4.1 / A.8) between one frame and `maxDelayMs`, and is re-chosen whenever
// playout (re)starts. Packets are assumed to carry one 20 ms frame each (what Chrome, Firefox and Genesys send).
// Thread: owning media worker.
class JitterBuffer {
public:
  JitterBuffer(uint32_t clockRateHz, uint32_t maxDelayMs);

  enum class Put { Stored, Late, Duplicate, TooLarge, Reset };
  Put put(uint16_t seq, uint32_t timestamp, std::span<const uint8_t> payload, uint64_t nowMs);

  enum class Get { Frame, Lost, Empty };
  struct Out {
    std::span<const uint8_t> payload;  // Frame: this frame's payload (valid until the next put/get)
    std::span<const uint8_t> next;     // Lost: the next frame's payload when buffered (for Opus FEC), else empty
  };
  // Called once per 20 ms playout tick.
  Get get(Out& out);

  uint32_t targetDelayMs() const { return targetFrames_ * kFrameMs; }
  uint32_t bufferedFrames() const;
  double jitterMs() const { return jitterTicks_ * 1000.0 / clockRateHz_; }

  struct Stats {
    uint64_t stored = 0, late = 0, duplicate = 0, tooLarge = 0, lost = 0, played = 0, resets = 0, dropped = 0;
  };
  const Stats& stats() const { return stats_; }

private:
  struct Slot {
    bool used = false;
    uint16_t seq = 0;
    uint16_t size = 0;
    std::array<uint8_t, kMaxEncodedBytes> data{};
  };
  Slot& slotFor(uint16_t seq) { return slots_[seq % slots_.size()]; }
  bool anyAfter(uint16_t seq) const;
  void reset();
  void updateJitter(uint32_t timestamp, uint64_t nowMs);

  uint32_t clockRateHz_;
  uint32_t maxFrames_;
  std::vector<Slot> slots_;
  bool playing_ = false;
  bool haveAny_ = false;
  uint16_t playSeq_ = 0;
  uint16_t lowSeq_ = 0;
  uint16_t highSeq_ = 0;
  uint32_t targetFrames_ = 1;
  // Frames concealed in a row with nothing newer buffered; past kMaxConcealedFrames playout stops.
  static constexpr uint32_t kMaxConcealedFrames = 3;
  uint32_t underrunFrames_ = 0;
  // RFC 3550 A.8 jitter state, in RTP timestamp units.
  bool haveTransit_ = false;
  int64_t lastTransit_ = 0;
  double jitterTicks_ = 0;
  Stats stats_;
};

}  // namespace rtcgate::codec

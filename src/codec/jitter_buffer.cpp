// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/jitter_buffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace rtcgate::codec {
namespace {

// Signed distance a→b in 16-bit sequence space (RFC 3550 §A.1 style wrap handling).
int seqDiff(uint16_t a, uint16_t b) { return static_cast<int16_t>(static_cast<uint16_t>(b - a)); }

}  // namespace

JitterBuffer::JitterBuffer(uint32_t clockRateHz, uint32_t maxDelayMs)
    : clockRateHz_(clockRateHz), maxFrames_(std::max<uint32_t>(1, maxDelayMs / kFrameMs)) {
  // Room for the maximum delay plus a few frames of reordering beyond it.
  slots_.resize(maxFrames_ + 4);
}

void JitterBuffer::reset() {
  for (auto& s : slots_) s.used = false;
  playing_ = false;
  haveAny_ = false;
  ++stats_.resets;
}

bool JitterBuffer::anyAfter(uint16_t seq) const { return haveAny_ && seqDiff(seq, highSeq_) > 0; }

uint32_t JitterBuffer::bufferedFrames() const {
  if (!haveAny_) return 0;
  uint16_t from = playing_ ? playSeq_ : lowSeq_;
  int span = seqDiff(from, highSeq_) + 1;
  return span > 0 ? static_cast<uint32_t>(span) : 0;
}

void JitterBuffer::updateJitter(uint32_t timestamp, uint64_t nowMs) {
  // transit = arrival (in RTP units) - RTP timestamp; J += (|D| - J) / 16.
  int64_t arrival = static_cast<int64_t>(nowMs * clockRateHz_ / 1000);
  int64_t transit = arrival - static_cast<int64_t>(timestamp);
  if (haveTransit_) {
    double d = std::fabs(static_cast<double>(transit - lastTransit_));
    // A timestamp jump (new talk spurt source, wrap) would poison the estimate; ignore absurd steps.
    if (d < clockRateHz_) jitterTicks_ += (d - jitterTicks_) / 16.0;
  }
  lastTransit_ = transit;
  haveTransit_ = true;
}

JitterBuffer::Put JitterBuffer::put(uint16_t seq, uint32_t timestamp, std::span<const uint8_t> payload,
                                    uint64_t nowMs) {
  if (payload.size() > kMaxEncodedBytes) {
    ++stats_.tooLarge;
    return Put::TooLarge;
  }
  Put result = Put::Stored;
  if (playing_ && seqDiff(playSeq_, seq) < 0) {
    // Behind the playout point: a jump far behind means the sender restarted its sequence; otherwise it is late.
    if (seqDiff(playSeq_, seq) > -static_cast<int>(slots_.size())) {
      ++stats_.late;
      return Put::Late;
    }
    reset();
    result = Put::Reset;
  } else if (haveAny_ && seqDiff(playing_ ? playSeq_ : lowSeq_, seq) >= static_cast<int>(slots_.size())) {
    // Too far ahead to fit: the sender jumped (new SSRC, long silence). Start over from this packet.
    stats_.dropped += bufferedFrames();
    reset();
    result = Put::Reset;
  }
  Slot& slot = slotFor(seq);
  if (slot.used && slot.seq == seq) {
    ++stats_.duplicate;
    return Put::Duplicate;
  }
  slot.used = true;
  slot.seq = seq;
  slot.size = static_cast<uint16_t>(payload.size());
  std::memcpy(slot.data.data(), payload.data(), payload.size());
  if (!haveAny_) {
    lowSeq_ = highSeq_ = seq;
    haveAny_ = true;
  } else {
    if (seqDiff(highSeq_, seq) > 0) highSeq_ = seq;
    if (!playing_ && seqDiff(lowSeq_, seq) < 0) lowSeq_ = seq;
  }
  updateJitter(timestamp, nowMs);
  ++stats_.stored;
  return result;
}

JitterBuffer::Get JitterBuffer::get(Out& out) {
  out = {};
  if (!haveAny_) return Get::Empty;
  if (!playing_) {
    // Target: three times the jitter, rounded up to whole frames, at least one frame, at most the maximum.
    double jitterFrames = jitterMs() / kFrameMs;
    targetFrames_ = std::clamp<uint32_t>(static_cast<uint32_t>(std::ceil(3.0 * jitterFrames)) + 1, 1, maxFrames_);
    if (bufferedFrames() < targetFrames_) return Get::Empty;
    playing_ = true;
    playSeq_ = lowSeq_;
    underrunFrames_ = 0;
  }
  // Latency control: beyond the maximum delay (a sender burst), skip the oldest frames.
  while (bufferedFrames() > maxFrames_) {
    Slot& s = slotFor(playSeq_);
    if (s.used && s.seq == playSeq_) s.used = false;
    ++playSeq_;
    ++stats_.dropped;
  }
  Slot& slot = slotFor(playSeq_);
  if (slot.used && slot.seq == playSeq_) {
    slot.used = false;
    out.payload = std::span<const uint8_t>(slot.data.data(), slot.size);
    underrunFrames_ = 0;
    ++playSeq_;
    ++stats_.played;
    return Get::Frame;
  }
  if (anyAfter(playSeq_)) {
    Slot& next = slotFor(static_cast<uint16_t>(playSeq_ + 1));
    if (next.used && next.seq == static_cast<uint16_t>(playSeq_ + 1))
      out.next = std::span<const uint8_t>(next.data.data(), next.size);
    ++playSeq_;
    ++stats_.lost;
    underrunFrames_ = 0;
    return Get::Lost;
  }
  // Nothing newer has arrived. At playout time a lost packet and a pause (DTX, hold) look the same: conceal a
  // few frames as if lost, then stop and re-buffer so a pause does not become endless synthetic audio.
  if (++underrunFrames_ <= kMaxConcealedFrames) {
    ++playSeq_;
    ++stats_.lost;
    return Get::Lost;
  }
  playing_ = false;
  haveAny_ = false;
  return Get::Empty;
}

}  // namespace rtcgate::codec

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/transcode_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace rtcgate::codec {
namespace {

// Signed distance a→b in 16-bit sequence space (RFC 3550 §A.1 wrap handling).
int seqDiff(uint16_t a, uint16_t b) { return static_cast<int16_t>(static_cast<uint16_t>(b - a)); }

// Further behind than this is a sender restart (new sequence space), not a late packet (RFC 3550 A.1 MAX_MISORDER).
constexpr int kMaxMisorder = 100;
// Further ahead than this is a restart too, not loss (RFC 3550 A.1 MAX_DROPOUT).
constexpr uint32_t kMaxDropout = 3000;

}  // namespace

TranscodeStream::TranscodeStream(CodecId in, CodecId out, const config::Opus& opus, Sink sink,
                                 std::span<uint8_t> output)
    : decoder_(makeDecoder(in)),
      encoder_(makeEncoder(out, opus)),
      sink_(std::move(sink)),
      inTicksPer8k_(rtpClockRate(in) / static_cast<uint32_t>(kSampleRateHz)),
      output_(output.size() >= kMaxEncodedBytes ? output : std::span<uint8_t>(ownOutput_)) {}

void TranscodeStream::restart(uint32_t ssrc, uint16_t seq, uint32_t timestamp) {
  if (started_) ++stats_.restarts;
  started_ = true;
  ssrc_ = ssrc;
  nextSeq_ = seq;
  nextTimestamp_ = timestamp;
  // A new source starts its own timeline; the output sequencer re-bases on the SSRC change.
  reposition(timestamp / inTicksPer8k_);
}

void TranscodeStream::reposition(uint32_t position8k) {
  stats_.trimmedSamples += fifoSize_;
  fifoSize_ = 0;
  fifoPosition_ = position8k;
  nextPosition_ = position8k;
}

TranscodeStream::Push TranscodeStream::push(uint32_t ssrc, uint16_t seq, uint32_t timestamp,
                                            std::span<const uint8_t> payload) {
  Push result = Push::Decoded;
  if (!started_ || ssrc != ssrc_) {
    if (started_) result = Push::Restarted;
    restart(ssrc, seq, timestamp);
  } else if (const int ahead = seqDiff(nextSeq_, seq); ahead < 0) {
    if (ahead > -kMaxMisorder) {
      // Its slot was concealed, or it is a copy: the output has already moved past it.
      ++stats_.late;
      return Push::Late;
    }
    restart(ssrc, seq, timestamp);
    result = Push::Restarted;
  }
  const auto ahead = static_cast<uint32_t>(seqDiff(nextSeq_, seq));  // >= 0 here
  const int32_t gap8k = static_cast<int32_t>(timestamp - nextTimestamp_) / static_cast<int32_t>(inTicksPer8k_);
  if (gap8k < 0 || ahead > kMaxDropout) {
    // Timestamps going back, or a jump no loss explains: a new timeline (RFC 3550 A.1 treats it as a restart).
    restart(ssrc, seq, timestamp);
    result = Push::Restarted;
  } else if (ahead > 0 || gap8k > 0) {
    const uint32_t at = nextPosition_ + static_cast<uint32_t>(gap8k);
    // Sequence numbers say how many packets are missing; the timestamps say how much audio they held.
    const bool concealable = ahead > 0 && ahead <= kMaxConcealedFrames && decoder_->id() == CodecId::Opus &&
                             static_cast<uint32_t>(gap8k) <= ahead * kMaxDecodedSamples;
    if (concealable)
      conceal(static_cast<uint32_t>(gap8k) / static_cast<uint32_t>(kFrameSamples), payload);
    else
      stats_.gapFrames += ahead;
    // A gap left open (DTX pause, G.711 loss, long outage): the packet's audio starts at its own position.
    if (nextPosition_ != at) reposition(at);
  }
  const auto decodeStart = decodeTime_ != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  const size_t n = decoder_->decode(payload, decoded_);
  if (decodeTime_ != nullptr)
    decodeTime_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - decodeStart).count());
  if (n == 0) {
    ++stats_.decodeErrors;
    return Push::Corrupt;
  }
  ++stats_.packets;
  nextSeq_ = static_cast<uint16_t>(seq + 1);
  nextTimestamp_ = timestamp + static_cast<uint32_t>(n) * inTicksPer8k_;
  nextPosition_ += static_cast<uint32_t>(n);
  appendPcm(decoded_.data(), n, false);
  return result;
}

void TranscodeStream::conceal(uint32_t frames, std::span<const uint8_t> next) {
  for (uint32_t i = 0; i < frames; ++i) {
    // Only the frame right before `next` can be rebuilt from its in-band FEC (RFC 6716 §2.1.7); earlier ones get PLC.
    const bool last = i + 1 == frames;
    size_t n = decoder_->conceal(decoded_, last ? next : std::span<const uint8_t>{});
    if (n == 0) break;
    appendPcm(decoded_.data(), n, true);
    nextPosition_ += static_cast<uint32_t>(n);
  }
}

void TranscodeStream::appendPcm(const int16_t* pcm, size_t n, bool concealed) {
  n = std::min(n, fifo_.size() - fifoSize_);
  std::memcpy(fifo_.data() + fifoSize_, pcm, n * sizeof(int16_t));
  fifoSize_ += n;
  fifoConcealed_ = fifoConcealed_ || concealed;
  drain();
}

void TranscodeStream::drain() {
  size_t offset = 0;
  while (fifoSize_ - offset >= kFrameSamples) {
    std::memcpy(lastPcm_.data(), fifo_.data() + offset, kFrameSamples * sizeof(int16_t));
    const uint32_t position = fifoPosition_ + static_cast<uint32_t>(offset);
    offset += kFrameSamples;
    const auto encodeStart = encodeTime_ != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    size_t bytes = encoder_->encode(lastPcm_, output_);
    if (encodeTime_ != nullptr)
      encodeTime_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - encodeStart).count());
    if (bytes == 0) {
      ++stats_.encodeErrors;
      continue;
    }
    ++stats_.framesOut;
    if (fifoConcealed_) ++stats_.concealed;
    if (sink_) sink_(position, std::span<const uint8_t>(output_.data(), bytes), fifoConcealed_);
    fifoConcealed_ = false;
  }
  if (offset == 0) return;
  fifoSize_ -= offset;
  fifoPosition_ += static_cast<uint32_t>(offset);
  std::memmove(fifo_.data(), fifo_.data() + offset, fifoSize_ * sizeof(int16_t));
}

}  // namespace rtcgate::codec

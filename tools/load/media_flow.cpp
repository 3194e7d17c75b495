// SPDX-License-Identifier: Apache-2.0
#include "media_flow.h"

#include <cmath>
#include <random>

#include "rtcgate/config/config.h"

namespace rtcgate::load {

EncodedTone encodeTone(codec::CodecId codec, int opusComplexity) {
  config::Opus opus;
  opus.complexity = opusComplexity;
  auto encoder = codec::makeEncoder(codec, opus);
  EncodedTone tone;
  tone.codec = codec;
  std::vector<int16_t> pcm(codec::kFrameSamples);
  std::vector<uint8_t> out(codec::kMaxEncodedBytes);
  // Two passes over the second: the first lets Opus's encoder settle, the second is kept (it then loops cleanly).
  for (int pass = 0; pass < 2; ++pass) {
    tone.frames.clear();
    for (size_t f = 0; f < 1000 / codec::kFrameMs; ++f) {
      for (size_t i = 0; i < pcm.size(); ++i) {
        const double t = static_cast<double>(f * pcm.size() + i) / codec::kSampleRateHz;
        pcm[i] = static_cast<int16_t>(8000.0 * std::sin(2.0 * M_PI * 440.0 * t));
      }
      size_t n = encoder->encode(pcm, out);
      tone.frames.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }
  return tone;
}

RtpSender::RtpSender(const EncodedTone* tone, uint8_t payloadType, uint32_t ssrc)
    : tone_(tone), payloadType_(payloadType), ssrc_(ssrc) {
  std::random_device rd;
  seq_ = static_cast<uint16_t>(rd());
  timestamp_ = rd();
}

size_t RtpSender::build(uint8_t* out, size_t capacity) {
  const auto& payload = tone_->frames[sent_ % tone_->frames.size()];
  media::RtpHeader h;
  h.payloadType = payloadType_;
  h.sequence = seq_;
  h.timestamp = timestamp_;
  h.ssrc = ssrc_;
  h.marker = sent_ == 0;
  size_t n = media::writeRtpHeader(h, {out, capacity});
  if (n == 0 || n + payload.size() > capacity) return 0;
  std::copy(payload.begin(), payload.end(), out + n);
  lastPayload_ = payload.size();
  return n + payload.size();
}

void RtpSender::sent(Clock::time_point at) {
  sentAt_[sent_ % kRing] = at;
  ++sent_;
  octets_ += lastPayload_;
  ++seq_;
  timestamp_ += codec::rtpTicksPerFrame(tone_->codec);
}

media::RtcpReporter::Outbound RtpSender::outbound() const {
  media::RtcpReporter::Outbound o;
  o.ssrc = ssrc_;
  o.lastTimestamp = timestamp_ - (sent_ > 0 ? codec::rtpTicksPerFrame(tone_->codec) : 0);
  o.packets = sent_;
  o.octets = octets_;
  return o;
}

bool RtpSender::sentAt(uint64_t index, Clock::time_point* at) const {
  if (index >= sent_ || sent_ - index > kRing) return false;
  *at = sentAt_[index % kRing];
  return true;
}

void RtpReceiver::onPacket(const media::RtpHeader& h, Clock::time_point arrival, const RtpSender& peer,
                           DirectionTotals& totals) {
  // Indexed by RTP timestamp, not sequence number: rtcgate renumbers what it forwards without gaps when it drops a
  // packet, but keeps the timestamp's progression (docs/adr/0005), so a lost packet leaves its 20 ms slot empty.
  if (!started_) {
    started_ = true;
    firstTimestamp_ = h.timestamp;
    ssrc_ = h.ssrc;
  }
  const auto ticks = static_cast<int32_t>(h.timestamp - firstTimestamp_);
  const int64_t slot = ticksPerFrame_ == 0 ? 0 : (int64_t{ticks} + ticksPerFrame_ / 2) / ticksPerFrame_;
  lastIndex_ = ticks < 0 ? -1 : slot;
  stats_.update(h.sequence, h.timestamp, media::arrivalTimestamp(clockRate_));
  if (lastIndex_ < 0) return;  // before the first packet we saw: not indexable
  const auto index = static_cast<size_t>(lastIndex_);
  if (index >= seen_.size()) seen_.resize(index + 256, false);
  if (seen_[index]) {
    ++totals.duplicates;
    return;
  }
  seen_[index] = true;
  ++received_;
  ++totals.packetsReceived;
  Clock::time_point sentAt;
  if (!peer.sentAt(index, &sentAt)) {
    ++totals.late;
    return;
  }
  const double ms = std::chrono::duration<double, std::milli>(arrival - sentAt).count();
  totals.addedLatencyMs.push_back(static_cast<float>(ms));
  if (ms > lateMs_) ++totals.late;
}

double RtpReceiver::jitterMs() const {
  return clockRate_ == 0 ? 0.0 : 1000.0 * stats_.jitter() / clockRate_;
}

}  // namespace rtcgate::load

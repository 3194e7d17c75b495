// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rtcgate/codec/audio_codec.h"
#include "rtcgate/media/rtp/rtp_packet.h"
#include "rtcgate/media/rtp/rtcp_reporter.h"
#include "rtcgate/media/rtp/rtp_receive_stats.h"

namespace rtcgate::load {

using Clock = std::chrono::steady_clock;

// One second of a 440 Hz tone (a whole number of periods, so it loops without a click) encoded once at start by
// rtcgate's own encoder: 50 payloads of 20 ms. Senders cycle through them, so the generator spends no encoder time
// per packet and its CPU stays small beside rtcgate's. Thread: immutable after construction.
struct EncodedTone {
  codec::CodecId codec = codec::CodecId::Pcmu;
  std::vector<std::vector<uint8_t>> frames;
};
EncodedTone encodeTone(codec::CodecId codec, int opusComplexity);

// Aggregate figures of one direction over all calls (report "directions"). Thread: the generator's loop.
struct DirectionTotals {
  uint64_t packetsSent = 0, packetsReceived = 0, late = 0, duplicates = 0;
  std::vector<float> addedLatencyMs;  // one sample per received packet
  std::vector<float> jitterMs;        // RFC 3550 A.8 interarrival jitter, one sample per call at its end
};

// The sending half of one direction of one call: RTP packets of the encoded tone on a 20 ms schedule, with the time
// each one left (for the receiver's added latency). Thread: the generator's loop.
class RtpSender {
public:
  RtpSender(const EncodedTone* tone, uint8_t payloadType, uint32_t ssrc);
  // Writes the next packet into `out` (capacity >= 1500); returns its size.
  size_t build(uint8_t* out, size_t capacity);
  // The packet build() wrote last has left at `at`.
  void sent(Clock::time_point at);
  uint64_t count() const { return sent_; }
  // When packet `index` (0-based, in send order) left; false if unknown (not sent, or older than the ring).
  bool sentAt(uint64_t index, Clock::time_point* at) const;
  // What an RTCP SR says of this stream (RFC 3550 6.4.1): SSRC, last timestamp sent, packets and payload octets.
  media::RtcpReporter::Outbound outbound() const;

private:
  static constexpr size_t kRing = 1024;  // 20 s of send times at 50 packets/s
  const EncodedTone* tone_;
  uint8_t payloadType_;
  uint32_t ssrc_;
  uint16_t seq_;
  uint32_t timestamp_;
  uint64_t sent_ = 0, octets_ = 0;
  size_t lastPayload_ = 0;
  std::vector<Clock::time_point> sentAt_ = std::vector<Clock::time_point>(kRing);
};

// The receiving half: counts packets once each, indexes them by RTP timestamp relative to the first one received
// (transcoding is packet for packet and keeps the timestamp's pace: docs/adr/0005), and takes the added latency of
// each as its arrival minus the time the peer sender sent the packet of the same index. Jitter by RtpReceiveStats.
class RtpReceiver {
public:
  RtpReceiver(uint32_t clockRate, double lateMs)
      : clockRate_(clockRate), ticksPerFrame_(clockRate / 1000 * codec::kFrameMs), lateMs_(lateMs) {}
  void onPacket(const media::RtpHeader& h, Clock::time_point arrival, const RtpSender& peer, DirectionTotals& totals);
  uint64_t received() const { return received_; }
  double jitterMs() const;
  // For the RTCP report block about this stream (RFC 3550 6.4.1): its statistics and the sender's SSRC.
  media::RtpReceiveStats& stats() { return stats_; }
  std::optional<uint32_t> ssrc() const { return started_ ? std::optional<uint32_t>(ssrc_) : std::nullopt; }

private:
  uint32_t clockRate_;
  uint32_t ticksPerFrame_;
  double lateMs_;
  media::RtpReceiveStats stats_;
  bool started_ = false;
  uint32_t firstTimestamp_ = 0, ssrc_ = 0;
  int64_t lastIndex_ = 0;
  uint64_t received_ = 0;
  std::vector<bool> seen_;
};

}  // namespace rtcgate::load

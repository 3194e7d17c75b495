// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/rtp_receive_stats.h"

#include <chrono>
#include <cstdlib>

namespace rtcgate::media {
namespace {
constexpr uint32_t kSeqMod = 1u << 16;
constexpr uint16_t kMaxDropout = 3000;
constexpr uint16_t kMaxMisorder = 100;
}  // namespace

void RtpReceiveStats::restart(uint16_t seq) {
  initialized_ = true;
  maxSeq_ = seq;
  baseSeq_ = seq;
  cycles_ = 0;
  badSeq_ = kSeqMod + 1;
  received_ = 0;
  expectedPrior_ = 0;
  receivedPrior_ = 0;
}

bool RtpReceiveStats::updateSequence(uint16_t seq) {
  if (!initialized_) {
    restart(seq);
  } else {
    // RFC 3550 A.1 (without the probation phase: the source is already authenticated by address or SRTP).
    auto udelta = static_cast<uint16_t>(seq - maxSeq_);
    if (udelta < kMaxDropout) {
      if (seq < maxSeq_) cycles_ += kSeqMod;
      maxSeq_ = seq;
    } else if (udelta <= kSeqMod - kMaxMisorder) {
      // A large jump: the source restarted if the next packet follows it; until then it is ignored.
      if (seq != badSeq_) {
        badSeq_ = (uint32_t{seq} + 1) & (kSeqMod - 1);
        return false;
      }
      restart(seq);
    }
    // else: duplicate or reordered packet, counted below
  }
  ++received_;
  return true;
}

void RtpReceiveStats::update(uint16_t seq, uint32_t rtpTimestamp, uint32_t arrival) {
  if (!updateSequence(seq)) return;
  // RFC 3550 A.8: J += (|D| - J) / 16, kept scaled by 16.
  uint32_t transit = arrival - rtpTimestamp;
  if (haveTransit_) {
    auto d = static_cast<int32_t>(transit - transit_);
    uint32_t ad = static_cast<uint32_t>(std::abs(d));
    jitter_ += ad - ((jitter_ + 8) >> 4);
  }
  transit_ = transit;
  haveTransit_ = true;
}

ReportBlock RtpReceiveStats::makeReport(uint32_t ssrc) {
  ReportBlock b;
  b.ssrc = ssrc;
  b.extendedHighestSeq = extendedHighest();
  int64_t lostTotal = lost();
  b.cumulativeLost = static_cast<int32_t>(lostTotal > 0x7FFFFF ? 0x7FFFFF : lostTotal < -0x800000 ? -0x800000 : lostTotal);
  // RFC 3550 A.3: fraction lost over the interval since the last report.
  int64_t expectedInterval = expected() - expectedPrior_;
  int64_t receivedInterval = static_cast<int64_t>(received_ - receivedPrior_);
  expectedPrior_ = expected();
  receivedPrior_ = received_;
  int64_t lostInterval = expectedInterval - receivedInterval;
  b.fractionLost = expectedInterval == 0 || lostInterval <= 0
                       ? 0
                       : static_cast<uint8_t>((lostInterval << 8) / expectedInterval);
  b.jitter = jitter();
  return b;
}

uint32_t arrivalTimestamp(uint32_t clockRate) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch());
  return static_cast<uint32_t>(static_cast<uint64_t>(us.count()) * clockRate / 1000000);
}

}  // namespace rtcgate::media

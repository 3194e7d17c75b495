// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

#include "rtcgate/media/rtp/rtcp_packet.h"

namespace rtcgate::media {

// Receive-side statistics of one RTP source: sequence tracking (RFC 3550 A.1), loss and fraction lost (A.3),
// interarrival jitter (A.8). The one implementation for both legs. Thread: the owning media worker.
class RtpReceiveStats {
public:
  // `arrival` is the arrival time in RTP timestamp units (same clock rate as the packets' timestamps).
  void update(uint16_t seq, uint32_t rtpTimestamp, uint32_t arrival);
  // Sequence and loss only, for a packet whose clock rate is unknown (its arrival has no timestamp units).
  // False when the packet was set aside as the possible start of a restarted source.
  bool updateSequence(uint16_t seq);
  uint64_t received() const { return received_; }
  uint32_t extendedHighest() const { return cycles_ + maxSeq_; }
  int64_t expected() const { return initialized_ ? int64_t{extendedHighest()} - baseSeq_ + 1 : 0; }
  int64_t lost() const { return initialized_ ? expected() - static_cast<int64_t>(received_) : 0; }
  // Jitter estimate in timestamp units.
  uint32_t jitter() const { return static_cast<uint32_t>(jitter_ >> 4); }
  // A report block for an RR/SR; resets the interval counters used for fraction lost.
  ReportBlock makeReport(uint32_t ssrc);

private:
  void restart(uint16_t seq);

  bool initialized_ = false;
  uint16_t maxSeq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t baseSeq_ = 0;
  uint32_t badSeq_ = 1u << 16 | 1;  // RTP_SEQ_MOD + 1: no candidate
  uint64_t received_ = 0;
  int64_t expectedPrior_ = 0;
  uint64_t receivedPrior_ = 0;
  uint32_t transit_ = 0;
  uint32_t jitter_ = 0;  // scaled by 16 as in A.8
  bool haveTransit_ = false;
};

// The steady clock now, in units of `clockRate`: an RTP arrival time for RtpReceiveStats::update. It wraps like an
// RTP timestamp; A.8 uses only differences.
uint32_t arrivalTimestamp(uint32_t clockRate);

}  // namespace rtcgate::media

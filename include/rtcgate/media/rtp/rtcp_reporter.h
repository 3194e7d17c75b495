// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "rtcgate/media/rtp/rtcp_packet.h"
#include "rtcgate/media/rtp/rtp_receive_stats.h"

namespace rtcgate::media {

// The wall clock now as a 64-bit NTP timestamp (RFC 3550 4: seconds since 1900 . 2^-32 fractions).
uint64_t ntpNow();
// The middle 32 bits of an NTP timestamp (16.16 fixed point): the unit of LSR, DLSR and RTT (RFC 3550 6.4.1).
constexpr uint32_t ntpMiddle(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

// RFC 3550 6.4.1: RTT = A - LSR - DLSR, where A is the arrival time of the report block (middle 32 bits of our NTP
// clock), in 1/65536 s, modulo 2^32 (so the 18.2 h wrap of the middle bits does not matter). nullopt when LSR is 0
// (the peer got no SR from us yet) or the result is negative (a DLSR longer than the time since our SR: a bogus
// or skewed report; a round-off of one unit is taken as 0).
std::optional<double> roundTripMs(uint32_t arrivalMiddle, uint32_t lastSr, uint32_t delaySinceLastSr);

// RTCP reporting of one RTP session, the one implementation for both legs (Genesys's plain RTCP and the browser's
// SRTCP): the next SR (we sent RTP since the last report) or RR with a report block from the RtpReceiveStats of
// what we receive, the peer's last SR for that block's LSR/DLSR (6.4.1), and the round-trip time from the peer's
// report block about our stream. Thread: the owning leg's media worker. No allocation.
class RtcpReporter {
public:
  struct Outbound {
    uint32_t ssrc = 0;
    uint32_t lastTimestamp = 0;  // RTP timestamp of the last packet sent: the SR's (RFC 3550 6.4.1, approximate)
    uint64_t packets = 0, octets = 0;  // payload octets
  };
  // SR or RR, then SDES CNAME; a report block about `remoteSsrc` when set (`rx` its statistics). 0: no room.
  size_t writeReport(const Outbound& tx, RtpReceiveStats* rx, std::optional<uint32_t> remoteSsrc, const char* cname,
                     std::span<uint8_t> out);
  // A compound the peer sent, parsed by parseRtcp with reportAbout = our SSRC; arrived at `arrivalNtp`.
  void onReport(const RtcpSummary& s, uint32_t ourSsrc, uint64_t arrivalNtp = ntpNow());
  // The latest RTT the peer's reports gave; nullopt until one did.
  std::optional<double> rttMs() const { return rttMs_; }
  const std::optional<ReportBlock>& remoteReport() const { return remoteReport_; }

  // RFC 3550 6.2/6.3.1: the interval is randomised to [0.5, 1.5] x `base` so that reports of many sessions do not
  // synchronise; the first report after half of it (6.2 "initial").
  static std::chrono::milliseconds nextInterval(std::chrono::milliseconds base, bool first = false);

private:
  uint32_t lastSrMiddle_ = 0;
  std::chrono::steady_clock::time_point lastSrArrival_{};
  uint64_t sentAtLastReport_ = 0;
  std::optional<double> rttMs_;
  std::optional<ReportBlock> remoteReport_;
};

}  // namespace rtcgate::media

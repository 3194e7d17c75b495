// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "rtcgate/media/rtp/rtp_packet.h"

namespace rtcgate::media {

// One reception report block (RFC 3550 §6.4.1).
struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fractionLost = 0;
  int32_t cumulativeLost = 0;  // 24-bit signed on the wire
  uint32_t extendedHighestSeq = 0;
  uint32_t jitter = 0;
  uint32_t lastSr = 0;
  uint32_t delaySinceLastSr = 0;
};

struct SenderInfo {
  uint64_t ntp = 0;
  uint32_t rtpTimestamp = 0;
  uint32_t packetCount = 0;
  uint32_t octetCount = 0;
};

// What rtcgate needs from a compound RTCP packet: the first SR or RR, and its first report block or, with
// parseRtcp's reportAbout, the first block of any SR/RR of the compound about that SSRC (ours).
struct RtcpSummary {
  bool isSenderReport = false;
  bool isReceiverReport = false;
  uint32_t ssrc = 0;
  SenderInfo sender;
  std::optional<ReportBlock> report;
};

// Validates every packet of a compound RTCP datagram (RFC 3550 §6.1, A.2: version 2, lengths add up, every SR/RR's
// report count fits its length); a compound without SR or RR is BadLength.
RtpStatus parseRtcp(std::span<const uint8_t> datagram, RtcpSummary& out,
                    std::optional<uint32_t> reportAbout = std::nullopt);
// SR (with a report block when `block` is set) followed by an SDES CNAME, as RFC 3550 §6.1 requires.
size_t writeSenderReport(uint32_t ssrc, const SenderInfo& info, const ReportBlock* block, const char* cname,
                         std::span<uint8_t> out);
size_t writeReceiverReport(uint32_t ssrc, const ReportBlock* block, const char* cname, std::span<uint8_t> out);

}  // namespace rtcgate::media

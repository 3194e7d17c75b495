// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "rtcgate/media/rtp/rtcp_packet.h"
#include "rtcgate/media/rtp/rtp_packet.h"

namespace rtcgate::test {

// One RTP packet (12-byte header written by the project's own writer) around `payload`, for tests that play a peer.
inline std::vector<uint8_t> rtpPacket(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                                      std::span<const uint8_t> payload, bool marker = false) {
  std::vector<uint8_t> p(12 + payload.size());
  media::RtpHeader h;
  h.payloadType = pt;
  h.marker = marker;
  h.sequence = seq;
  h.timestamp = ts;
  h.ssrc = ssrc;
  media::writeRtpHeader(h, p);
  std::copy(payload.begin(), payload.end(), p.begin() + 12);
  return p;
}

// An RTCP RR + SDES compound without report blocks, as the project's own writer makes it.
inline std::vector<uint8_t> rtcpReceiverReport(uint32_t ssrc) {
  std::vector<uint8_t> p(256);
  p.resize(media::writeReceiverReport(ssrc, nullptr, "peer", p));
  return p;
}

}  // namespace rtcgate::test

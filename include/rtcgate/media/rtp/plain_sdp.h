// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtcgate::media {

// A deliberately tiny plain RTP/AVP SDP for the Genesys leg until the general SDP model (src/sdp) takes over:
// one audio stream, one connection address, static and telephone-event payload types. Thread: any.
struct PlainSdp {
  std::string address;          // c= address (IPv4 or IPv6)
  uint16_t port = 0;            // m= port (0: stream rejected)
  std::vector<int> payloadTypes;
  int telephoneEventPt = -1;    // -1: none
  std::string direction = "sendrecv";
  uint64_t sessionId = 1;
  uint64_t sessionVersion = 1;
};

std::string buildPlainSdp(const PlainSdp& sdp);
// The first audio m= line and its connection address; nullopt when there is none or it is not RTP/AVP.
std::optional<PlainSdp> parsePlainSdp(std::string_view text);

}  // namespace rtcgate::media

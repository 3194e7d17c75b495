// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace rtcgate::config {

// RTP toward Genesys takes an even port and the odd one above it per call (RFC 3550 §11); ICE one port per call
// and offered address (rtcp-mux, one component; the same number is reused on each address).
inline constexpr unsigned kRtpPortsPerCall = 2;
inline constexpr unsigned kIcePortsPerCall = 1;

// How many calls the media port range min..max holds, and what max_calls needs. The one sizing rule: the config
// checks refuse a range that is too small and `rtcgate doctor` reports the room.
struct PortRangeRoom {
  unsigned calls = 0;         // calls the range holds
  unsigned needed = 0;        // ports maxCalls calls take
  unsigned suggestedMax = 0;  // a *_port_max that would hold maxCalls (at most 65535)
  bool enough() const { return calls >= maxCalls; }
  uint32_t maxCalls = 0;
};
PortRangeRoom portRangeRoom(uint16_t min, uint16_t max, unsigned portsPerCall, uint32_t maxCalls);

}  // namespace rtcgate::config

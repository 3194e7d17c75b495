// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/config/port_budget.h"

#include <algorithm>

namespace rtcgate::config {

PortRangeRoom portRangeRoom(uint16_t min, uint16_t max, unsigned portsPerCall, uint32_t maxCalls) {
  PortRangeRoom r;
  r.maxCalls = maxCalls;
  if (max < min) return r;
  const unsigned size = static_cast<unsigned>(max - min) + 1;
  // An odd rtp_port_min loses its first port: RTP starts on an even one.
  r.calls = portsPerCall == 2 ? (size - (min % 2)) / 2 : size / std::max(1u, portsPerCall);
  r.needed = portsPerCall * maxCalls;
  r.suggestedMax = std::min<unsigned>(65535, static_cast<unsigned>(min) + (portsPerCall == 2 ? min % 2 : 0) + r.needed - 1);
  return r;
}

}  // namespace rtcgate::config

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rtcgate::session {

// What one leg of a call measured, copied on its media worker (the counters the packet path keeps anyway).
struct LegSnapshot {
  std::string codec;  // "" before the bridge starts
  uint64_t packetsSent = 0, packetsReceived = 0;
  int64_t packetsLost = 0;               // RFC 3550 A.3, current inbound SSRC
  double lossPercent = 0;                // lost / (received + lost)
  double jitterMs = 0;                   // RFC 3550 A.8
  std::optional<double> rttMs;           // from RTCP when it gives one (see docs/admin-api.md)
  double mos = 0;                        // media::estimateMos of this leg's inbound direction
};

// One call as the admin API shows it: control-thread state plus a copy of its media worker's counters.
// Built by Session::snapshot (control → worker → control). Plain data; any thread may hold it.
struct CallSnapshot {
  std::string id;                // the call id in logs
  std::string browserCallId;     // SIP Call-ID of the browser dialog
  std::string upstreamCallId;    // SIP Call-ID of the Genesys dialog
  std::string agent;             // agent user name ("" when the call never reached an agent)
  std::string dn;
  std::string direction;         // "from_agent" / "to_agent"
  std::string state;             // CallState name
  std::string target;            // FromAgent: the number dialled
  std::optional<bool> passthrough;  // unset before the bridge starts
  std::string iceLocalType, iceLocalAddress, iceRemoteType, iceRemoteAddress;
  std::string dtlsRole, srtpProfile;
  LegSnapshot browser, upstream;
  double durationS = 0;
  bool mediaSampled = false;     // false: the media worker did not answer (call ending); legs are empty
};

}  // namespace rtcgate::session

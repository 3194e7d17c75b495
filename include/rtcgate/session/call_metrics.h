// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "rtcgate/core/metrics.h"
#include "rtcgate/media/browser_leg.h"
#include "rtcgate/media/rtp/rtp_leg.h"

namespace rtcgate::session {

// Call-level series of docs/metrics.md ("Calls: setup, outcome, quality"). Registration up front, so every series
// is on /metrics at 0 before the first call. Thread: any (Metrics locks; histograms are lock-free).
void registerCallMetrics(Metrics& m);

// direction: "inbound" (Genesys calls an agent's DN) or "outbound" (an agent calls out).
void observeCallSetup(Metrics& m, std::string_view direction, std::chrono::steady_clock::duration took);

// outcome: completed, media_failed, transport_lost, gateway_ended (answered calls); cancelled, rejected,
// media_failed (calls that never answered). cause: the SIP status the caller got for its INVITE (200 when answered).
void countCallEnded(Metrics& m, std::string_view outcome, uint16_t cause);

// Per-call quality at the call's end, one observation per leg that received RTP: loss ratio, jitter, MOS estimate
// (call_quality.h), and the RTCP round-trip time when the peer's reports gave one. Thread: the call's media worker, with the legs' final statistics.
void observeCallQuality(Metrics& m, const media::LegStats* browser, const media::RtpLegStats* genesys);

}  // namespace rtcgate::session

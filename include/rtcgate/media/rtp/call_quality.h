// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace rtcgate::media {

// What one direction of a call measured, as RFC 3550 receive statistics and RTCP report it.
struct QualityInputs {
  double lossFraction = 0;  // 0..1, packets lost / expected
  double jitterMs = 0;      // RFC 3550 A.8 interarrival jitter
  double rttMs = 0;         // RTCP round-trip time (RFC 3550 6.4.1); 0 when unknown
};

// A listening-quality MOS estimate (1.0..4.5) from the ITU-T G.107 E-model reduced to the factors a gateway
// measures: delay impairment Id from one-way delay (RTT/2 plus a jitter buffer of twice the jitter plus 20 ms
// of packetisation), and equipment impairment Ie,eff for G.711 with packet-loss concealment (G.113 Appendix I:
// Ie = 0, Bpl = 25.1, random loss). The same estimate for both legs and every codec, so figures compare; it is an
// estimate for alerting and triage, not a P.863 measurement.
double estimateMos(const QualityInputs& in);

}  // namespace rtcgate::media

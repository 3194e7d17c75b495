// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/call_metrics.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/media/rtp/call_quality.h"

namespace rtcgate::session {
namespace {

constexpr const char* kSetup = "rtcgate_call_setup_seconds";
constexpr const char* kSetupHelp =
    "Seconds from the caller's INVITE accepted by rtcgate to rtcgate's 200 OK to the caller (includes the callee's "
    "ringing and answer)";
const std::vector<double> kSetupBounds{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120};

constexpr const char* kEnded = "rtcgate_calls_ended_total";
constexpr const char* kEndedHelp = "Calls ended, by outcome and the SIP status the caller got for its INVITE";

constexpr const char* kLoss = "rtcgate_call_loss_ratio";
constexpr const char* kLossHelp = "Per call at its end: RTP packets lost / expected, as received by rtcgate, per leg";
const std::vector<double> kLossBounds{0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5};
constexpr const char* kJitter = "rtcgate_call_jitter_seconds";
constexpr const char* kJitterHelp = "Per call at its end: RFC 3550 interarrival jitter of the RTP rtcgate received, per leg";
const std::vector<double> kJitterBounds{0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2};
constexpr const char* kMos = "rtcgate_call_mos";
constexpr const char* kMosHelp =
    "Per call at its end: MOS estimate (E-model reduced, 1 to 4.5) from the loss and jitter rtcgate received and the "
    "RTCP round-trip time, per leg";
const std::vector<double> kMosBounds{1, 1.5, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4, 4.5};
constexpr const char* kRtt = "rtcgate_call_rtt_seconds";
constexpr const char* kRttHelp =
    "Per call at its end: the last RTCP round-trip time (RFC 3550 6.4.1) between rtcgate and the peer, per leg; "
    "calls whose peer never reported on rtcgate's SR are not counted";
const std::vector<double> kRttBounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2};

void observeLeg(Metrics& m, const char* leg, uint64_t received, int64_t lost, double jitterMs,
                std::optional<double> rttMs) {
  if (received == 0) return;  // no RTP: nothing measured (its failure is counted by outcome and ICE/DTLS reasons)
  const double expected = static_cast<double>(received) + static_cast<double>(std::max<int64_t>(lost, 0));
  media::QualityInputs q;
  q.lossFraction = std::clamp(static_cast<double>(std::max<int64_t>(lost, 0)) / expected, 0.0, 1.0);
  q.jitterMs = jitterMs;
  q.rttMs = rttMs.value_or(0);
  const Metrics::Labels labels{{"leg", leg}};
  if (rttMs) m.histogram(kRtt, kRttHelp, kRttBounds, labels).observe(*rttMs / 1000.0);
  m.histogram(kLoss, kLossHelp, kLossBounds, labels).observe(q.lossFraction);
  m.histogram(kJitter, kJitterHelp, kJitterBounds, labels).observe(jitterMs / 1000.0);
  m.histogram(kMos, kMosHelp, kMosBounds, labels).observe(media::estimateMos(q));
}

}  // namespace

void registerCallMetrics(Metrics& m) {
  for (const char* direction : {"inbound", "outbound"})
    m.histogram(kSetup, kSetupHelp, kSetupBounds, {{"direction", direction}});
  // The usual endings at 0, so alerts on rate() see a series from the start; others appear when they happen.
  m.counter(kEnded, kEndedHelp, {{"outcome", "completed"}, {"cause", "200"}});
  for (const char* leg : {"browser", "genesys"}) {
    m.histogram(kLoss, kLossHelp, kLossBounds, {{"leg", leg}});
    m.histogram(kJitter, kJitterHelp, kJitterBounds, {{"leg", leg}});
    m.histogram(kMos, kMosHelp, kMosBounds, {{"leg", leg}});
    m.histogram(kRtt, kRttHelp, kRttBounds, {{"leg", leg}});
  }
}

void observeCallSetup(Metrics& m, std::string_view direction, std::chrono::steady_clock::duration took) {
  m.histogram(kSetup, kSetupHelp, kSetupBounds, {{"direction", std::string(direction)}})
      .observe(std::chrono::duration<double>(took).count());
}

void countCallEnded(Metrics& m, std::string_view outcome, uint16_t cause) {
  m.counter(kEnded, kEndedHelp, {{"outcome", std::string(outcome)}, {"cause", std::to_string(cause)}})
      .fetch_add(1, std::memory_order_relaxed);
}

void observeCallQuality(Metrics& m, const media::LegStats* browser, const media::RtpLegStats* genesys) {
  if (browser != nullptr) observeLeg(m, "browser", browser->rtpPacketsReceived, browser->packetsLost, browser->jitterMs,
                                     browser->rttMs);
  // Genesys's G.711 RTP runs at 8 kHz: jitter in timestamp units / 8 = ms.
  if (genesys != nullptr) observeLeg(m, "genesys", genesys->packetsReceived, genesys->packetsLost, genesys->jitter / 8.0,
                                     genesys->rttMs);
}

}  // namespace rtcgate::session

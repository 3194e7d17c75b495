// SPDX-License-Identifier: Apache-2.0
#include "leg_setup_metrics.h"

#include <array>
#include <utility>

namespace rtcgate::media {
namespace {

constexpr const char* kIceFailures = "rtcgate_ice_failures_total";
constexpr const char* kIceFailuresHelp = "Browser legs failed by ICE, by reason";
constexpr const char* kDtlsFailures = "rtcgate_dtls_failures_total";
constexpr const char* kDtlsFailuresHelp = "Browser legs failed by DTLS-SRTP setup, by reason";

// Reason label <- a fragment of the failure text (src/media/ice/ice_agent.cpp, src/media/dtls/dtls_transport.cpp,
// browser_leg.cpp). First match wins; anything else is "other".
constexpr std::array<std::pair<const char*, const char*>, 3> kIceReasons{{
    {"gathering", "gathering could not start"},
    {"connect_timeout", "did not connect"},
    {"consent_expired", "consent expired"},
}};
constexpr std::array<std::pair<const char*, const char*>, 8> kDtlsReasons{{
    {"timeout", "timed out"},
    {"fingerprint_mismatch", "does not match the SDP fingerprint"},
    {"no_fingerprint", "before the peer's fingerprint"},
    {"retransmit_limit", "retransmission limit"},
    {"no_srtp_profile", "common SRTP profile"},
    {"key_export", "keying material"},
    {"srtp_setup", "SRTP setup failed"},
    {"handshake_error", "handshake failed"},
}};

template <size_t N>
std::atomic<uint64_t>& classify(Metrics& m, const char* name, const char* help,
                                const std::array<std::pair<const char*, const char*>, N>& reasons,
                                std::string_view text) {
  const char* label = "other";
  for (const auto& [l, fragment] : reasons)
    if (text.find(fragment) != std::string_view::npos) {
      label = l;
      break;
    }
  return m.counter(name, help, {{"reason", label}});
}

template <size_t N>
void registerAll(Metrics& m, const char* name, const char* help,
                 const std::array<std::pair<const char*, const char*>, N>& reasons) {
  for (const auto& [l, fragment] : reasons) m.counter(name, help, {{"reason", l}});
  m.counter(name, help, {{"reason", "other"}});
}

}  // namespace

LegSetupMetrics::LegSetupMetrics(Metrics& m)
    : metrics_(m),
      iceConnect_(&m.histogram("rtcgate_ice_connect_seconds",
                               "Browser leg: seconds from both ICE descriptions known (our gathering started and the "
                               "browser's candidates received) to the first selected pair",
                               {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})),
      dtlsHandshake_(&m.histogram("rtcgate_dtls_handshake_seconds",
                                  "Browser leg: seconds from the DTLS handshake's start (ICE connected, role known) to "
                                  "SRTP keys",
                                  {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {
  registerAll(m, kIceFailures, kIceFailuresHelp, kIceReasons);
  registerAll(m, kDtlsFailures, kDtlsFailuresHelp, kDtlsReasons);
}

std::atomic<uint64_t>& LegSetupMetrics::iceFailure(std::string_view reason) {
  return classify(metrics_, kIceFailures, kIceFailuresHelp, kIceReasons, reason);
}

std::atomic<uint64_t>& LegSetupMetrics::dtlsFailure(std::string_view reason) {
  return classify(metrics_, kDtlsFailures, kDtlsFailuresHelp, kDtlsReasons, reason);
}

}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/dn_health.h"

#include <fmt/format.h>

namespace rtcgate::sip {

DnHealth dnHealth(const std::vector<DnStatus>& dns) {
  DnHealth h;
  for (const auto& d : dns) {
    if (!d.agentPresent && !d.alwaysRegistered) continue;
    ++h.wanted;
    if (d.state == RegistrationState::Registered) {
      ++h.registered;
    } else if (d.failures > 0) {
      ++h.failed;
      h.lastFailureStatus = d.lastStatus;
    }
  }
  return h;
}

std::string dnHealthProblem(const DnHealth& h, uint32_t maxFailedPercent) {
  if (h.wanted == 0) return {};
  const std::string failure = h.failed > 0 ? fmt::format(", last failure status {}", h.lastFailureStatus) : "";
  if (h.registered == 0)
    return fmt::format("DN registrations: 0 of {} registered ({} failed{})", h.wanted, h.failed, failure);
  if (h.failed * 100 > static_cast<size_t>(maxFailedPercent) * h.wanted)
    return fmt::format("DN registrations: {} of {} failed, more than upstream.ready_max_failed_dn_percent {}%{}",
                       h.failed, h.wanted, maxFailedPercent, failure);
  return {};
}

}  // namespace rtcgate::sip

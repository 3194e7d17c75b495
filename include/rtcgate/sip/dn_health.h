// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rtcgate/sip/sip_stack.h"

namespace rtcgate::sip {

// The DN registrations that decide /readyz (docs/metrics.md, "Readiness"). A DN should be registered while its agent
// is connected or it is always_registered; it has failed when it is not registered and its last REGISTER failed.
struct DnHealth {
  size_t wanted = 0, registered = 0, failed = 0;
  int lastFailureStatus = 0;  // of a failed DN (the last one in the list), for the reason line
};
DnHealth dnHealth(const std::vector<DnStatus>& dns);

// One line saying why the DNs make the gateway not ready, or empty: not ready while DNs should be registered and
// none is, or while more than `maxFailedPercent` % of them have failed (upstream.ready_max_failed_dn_percent).
std::string dnHealthProblem(const DnHealth& h, uint32_t maxFailedPercent);

}  // namespace rtcgate::sip

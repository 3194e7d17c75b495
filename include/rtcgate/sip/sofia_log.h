// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace rtcgate::sip {

// Sends what nua, nta, tport and sofia's default log print into the "sofia" spdlog logger (instead of stdout),
// with sofia's verbosity following that logger's level. Thread: control; idempotent.
void routeSofiaLogs();

}  // namespace rtcgate::sip

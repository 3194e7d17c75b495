// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace rtcgate::app {

// Route what libnice / GLib, sofia-sip and libwebsockets print into rtcgate's loggers ("nice", "sofia", "lws"),
// so one stream carries everything and sofia stops writing to stdout. Thread: control, once at start-up.
void routeThirdPartyLogs();

}  // namespace rtcgate::app

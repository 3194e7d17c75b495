// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <string_view>

namespace rtcgate {

// systemd's readiness protocol (sd_notify(3)): one datagram to $NOTIFY_SOCKET. Written by hand: it is a single
// sendto() and not worth a libsystemd dependency. Without NOTIFY_SOCKET (not under systemd) it does nothing.
// Returns true when a datagram was sent.
bool sdNotify(std::string_view state);

// How often to send WATCHDOG=1: half of $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises, when systemd's
// watchdog is on for this process ($WATCHDOG_PID unset or equal to getpid()). Zero when it is off or the
// variables do not parse.
std::chrono::microseconds sdWatchdogInterval();

}  // namespace rtcgate

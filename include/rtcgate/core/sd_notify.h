// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

namespace rtcgate {

// systemd's readiness protocol (sd_notify(3)): one datagram to $NOTIFY_SOCKET. Written by hand: it is a single
// sendto() and not worth a libsystemd dependency. Without NOTIFY_SOCKET (not under systemd) it does nothing.
// Returns true when a datagram was sent.
bool sdNotify(std::string_view state);

}  // namespace rtcgate

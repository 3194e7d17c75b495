// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include "rtcgate/core/address.h"

namespace rtcgate {

enum class PortProtocol { Udp, Tcp };

// "pid 1234 (sipp)" for the process holding `port` (a bound UDP socket, a listening TCP one), from /proc/net/* and
// /proc/*/fd; "" when unknown (another user's process, or no /proc). Thread: any; reads /proc, milliseconds.
std::string portOwner(PortProtocol protocol, uint16_t port);

// Whether a TCP listener could bind address:port now (SO_REUSEADDR, as libwebsockets sets it): 0, or the errno.
// Thread: any.
int tcpBindError(const IpAddress& address, uint16_t port);

}  // namespace rtcgate

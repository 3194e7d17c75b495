// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "doctor_report.h"
#include "rtcgate/config/config.h"
#include "rtcgate/core/address.h"
#include "rtcgate/media/candidate_policy.h"

// The checks of `rtcgate doctor`, one file each. They run once, on the main thread, before or instead of the
// daemon: plain blocking sockets, every wait bounded by Options::timeout.
namespace rtcgate::app::doctor {

struct Options {
  std::chrono::milliseconds timeout{2000};  // per STUN/TURN/SIP exchange
};

struct OfferedAddress {
  media::LocalAddress local;
  std::string advertised;
};

// doctor_interfaces.cpp: every local address, whether a call would offer it and why. Returns the offered ones.
std::vector<OfferedAddress> checkInterfaces(const config::Config& cfg, const std::vector<media::LocalAddress>& local,
                                            Report& report);
// doctor_ports.cpp: the RTP and ICE port ranges are bindable and large enough for security.max_calls.
void checkPortRanges(const config::Config& cfg, const std::vector<OfferedAddress>& offered, Report& report);
// doctor_stun.cpp: a Binding request to each ice.stun_servers entry; mapped address against the advertised one.
void checkStunServers(const config::Config& cfg, const std::vector<OfferedAddress>& offered, const Options& options,
                      Report& report);
// doctor_turn.cpp: an Allocate (then a Refresh with lifetime 0) on each ice.turn_servers entry.
void checkTurnServers(const config::Config& cfg, const std::vector<OfferedAddress>& offered, const Options& options,
                      Report& report);
// doctor_upstream.cpp: an OPTIONS to each upstream.servers entry.
void checkUpstreamServers(const config::Config& cfg, const Options& options, Report& report);

// The local address probes toward browser-side servers (STUN, TURN) are sent from: the first offered IPv4
// address advertised as a public one, else the first offered IPv4 address; 0.0.0.0 when none is offered.
IpAddress probeAddress(const std::vector<OfferedAddress>& offered);

}  // namespace rtcgate::app::doctor

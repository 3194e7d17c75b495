// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cstring>
#include <set>

#include "doctor_checks.h"
#include "rtcgate/config/port_budget.h"
#include "doctor_udp.h"

namespace rtcgate::app::doctor {

namespace {

// Both ends and a few ports between: binding all ten thousand would take seconds and prove little more.
std::set<uint16_t> samplePorts(uint16_t min, uint16_t max) {
  std::set<uint16_t> ports{min, max};
  const unsigned span = static_cast<unsigned>(max - min);
  for (unsigned i = 1; i < 8; ++i) ports.insert(static_cast<uint16_t>(min + span * i / 8));
  return ports;
}

void checkRange(const std::string& keyPrefix, const IpAddress& address, uint16_t min, uint16_t max,
                unsigned portsPerCall, uint32_t maxCalls, bool checkSize, Report& report) {
  const std::string range = keyPrefix + "_port_min.." + keyPrefix + "_port_max (" + std::to_string(min) + ".." +
                            std::to_string(max) + ") on " + address.toString();
  std::vector<std::string> taken;
  std::string firstOwner;
  auto sample = samplePorts(min, max);
  for (uint16_t p : sample) {
    int err = 0;
    if (udpBindable(address, p, err)) continue;
    std::string owner = udpPortOwner(p);
    if (firstOwner.empty()) firstOwner = owner;
    taken.push_back(std::to_string(p) + " (" + std::strerror(err) + (owner.empty() ? "" : ", held by " + owner) +
                    ")");
  }
  if (taken.empty()) {
    report.ok("ports", "media." + range + ": " + std::to_string(sample.size()) + " sampled ports bindable");
  } else {
    std::string list;
    for (auto& t : taken) list += (list.empty() ? "" : ", ") + t;
    report.problem("ports", "media." + range + ": " + std::to_string(taken.size()) + " of " +
                                std::to_string(sample.size()) + " sampled ports cannot be bound: " + list,
                   firstOwner.empty() ? "move media." + keyPrefix + "_port_min/_max to a free range"
                                      : "stop " + firstOwner + " or move media." + keyPrefix +
                                            "_port_min/_max to a range it does not use");
  }
  if (!checkSize) return;
  // A range too small for max_calls is a configuration error (the loader refuses the file with the same numbers);
  // the doctor only shows the room.
  const auto room = config::portRangeRoom(min, max, portsPerCall, maxCalls);
  report.ok("ports", "media." + range + ": room for " + std::to_string(room.calls) + " calls (" +
                         std::to_string(portsPerCall) + " per call, security.max_calls " + std::to_string(maxCalls) +
                         ")");
}

}  // namespace

void checkPortRanges(const config::Config& cfg, const std::vector<OfferedAddress>& offered, Report& report) {
  const uint32_t maxCalls = cfg.security.maxCalls;
  if (auto rtp = IpAddress::parse(cfg.media.rtpAddress))
    checkRange("rtp", *rtp, cfg.media.rtpPortMin, cfg.media.rtpPortMax, config::kRtpPortsPerCall, maxCalls, true, report);
  // libnice binds the ICE range on every offered address; each can have its own squatter.
  std::vector<std::string> seen;
  for (auto& o : offered) {
    auto a = IpAddress::parse(o.local.address);
    if (!a || std::find(seen.begin(), seen.end(), o.local.address) != seen.end() || seen.size() >= 4) continue;
    seen.push_back(o.local.address);
    checkRange("ice", *a, cfg.media.icePortMin, cfg.media.icePortMax, config::kIcePortsPerCall, maxCalls, seen.size() == 1, report);
  }
  if (seen.empty())
    checkRange("ice", probeAddress(offered), cfg.media.icePortMin, cfg.media.icePortMax, config::kIcePortsPerCall, maxCalls, true, report);
}

}  // namespace rtcgate::app::doctor

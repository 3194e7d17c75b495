// SPDX-License-Identifier: Apache-2.0
#include <filesystem>
#include <optional>

#include "doctor_checks.h"
#include "rtcgate/core/address.h"

namespace rtcgate::app::doctor {

namespace {

// The one call into the candidate policy: the daemon's own decision, so the doctor cannot disagree with it.
media::CandidateDecision offerDecision(const config::Candidates& policy, const media::LocalAddress& address) {
  return media::decideCandidate(policy, address);
}

// A Linux bridge (docker0, br-*, virbr0), a port of one (veth*) or a container network interface: addresses no
// browser outside this host can reach. sysfs tells for bridges and bridge ports; the names cover the rest.
bool bridgeLike(const std::string& interface) {
  std::error_code ec;
  const std::filesystem::path sys = "/sys/class/net/" + interface;
  if (std::filesystem::exists(sys / "bridge", ec) || std::filesystem::exists(sys / "brport", ec)) return true;
  for (const char* p : {"docker*", "br-*", "veth*", "virbr*", "cni*", "flannel*"})
    if (media::globMatch(p, interface)) return true;
  return false;
}

bool isPublic(const IpAddress& a) {
  return !a.isPrivate() && !a.isLoopback() && !a.isLinkLocal() && !a.isUnspecified() && !a.isMulticast();
}

}  // namespace

IpAddress probeAddress(const std::vector<OfferedAddress>& offered) {
  std::optional<IpAddress> first;
  for (auto& o : offered) {
    auto a = IpAddress::parse(o.local.address);
    auto adv = IpAddress::parse(o.advertised);
    if (!a || a->isV6()) continue;
    if (adv && isPublic(*adv)) return *a;  // the address browsers on the internet will use
    if (!first) first = a;
  }
  return first ? *first : *IpAddress::parse("0.0.0.0");
}

std::vector<OfferedAddress> checkInterfaces(const config::Config& cfg, const std::vector<media::LocalAddress>& local,
                                            Report& report) {
  const auto& policy = cfg.ice.candidates;
  std::vector<OfferedAddress> offered;
  for (auto& la : local) {
    auto d = offerDecision(policy, la);
    std::string what = la.interface + " " + la.address;
    if (!d.allowed) {
      report.ok("interfaces", what + ": not offered (" + d.reason + ")");
      continue;
    }
    offered.push_back({la, d.advertised});
  }
  bool anyPublic = false;
  for (auto& o : offered)
    if (auto a = IpAddress::parse(o.advertised); a && isPublic(*a)) anyPublic = true;

  for (auto& o : offered) {
    std::string what = o.local.interface + " " + o.local.address;
    if (o.advertised != o.local.address) what += " (advertised as " + o.advertised + " by nat_1to1)";
    auto own = IpAddress::parse(o.local.address);
    auto adv = IpAddress::parse(o.advertised);
    if (!own || !adv) continue;
    if (bridgeLike(o.local.interface)) {
      report.problem("interfaces", what + ": offered, but it is a bridge/container interface no browser can reach",
                     "add \"" + o.local.interface + "\" to ice.candidates.deny_interfaces");
    } else if (adv->isLinkLocal()) {
      report.problem("interfaces", what + ": offered, but it is link-local (169.254/16, fe80::/10)",
                     "set ice.candidates.allow_link_local: false");
    } else if (adv->isLoopback()) {
      report.warning("interfaces", what + ": offered, loopback: only a browser on this host can use it",
                     "set ice.candidates.allow_loopback: false outside a single-host demo");
    } else if (adv->isPrivate() && anyPublic) {
      report.warning("interfaces", what + ": offered, private address beside a public one: browsers on the internet "
                                          "waste checks on it",
                     "add " + o.local.address + (own->isV6() ? "/128" : "/32") +
                         " to ice.candidates.deny_cidrs unless browsers sit on that network");
    } else if (adv->isPrivate()) {
      report.ok("interfaces", what + ": offered (private address: reachable from that network only)");
    } else {
      report.ok("interfaces", what + ": offered");
    }
  }

  for (auto& n : policy.nat1to1) {
    bool present = false;
    for (auto& la : local) present = present || la.address == n.local;
    if (!present)
      report.problem("interfaces", "nat_1to1 local " + n.local + " is not an address of this host",
                     "set ice.candidates.nat_1to1 local to one of this host's addresses (ip -brief address)");
  }
  if (offered.empty()) {
    if (cfg.ice.turnServers.empty())
      report.problem("interfaces", "no local address would be offered: browsers get no candidate to reach rtcgate",
                     "allow the public interface: ice.candidates.allow_interfaces: [\"<its name>\"] (or add a TURN "
                     "server under ice.turn_servers)");
    else
      report.warning("interfaces", "no local address would be offered: every call relies on the TURN relay");
  }
  return offered;
}

}  // namespace rtcgate::app::doctor

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "rtcgate/config/config.h"

namespace rtcgate::media {

// A local interface address as getifaddrs() reports it.
struct LocalAddress {
  std::string interface;
  std::string address;  // numeric, no scope suffix
  bool ipv6 = false;
  bool loopbackInterface = false;  // IFF_LOOPBACK
  bool operator==(const LocalAddress&) const = default;
};

struct CandidateDecision {
  bool allowed = false;
  std::string reason;      // why it was refused (or "allowed")
  std::string advertised;  // the address written into SDP: nat_1to1's advertised address, else the local one
};

// Which local addresses become ICE host candidates (config ice.candidates). Pure: no sockets, no system calls.
// Order of the rules: family (ipv6), loopback, link-local, allow_interfaces, deny_interfaces, deny_cidrs,
// allow_cidrs; allow_loopback also lifts a deny_interfaces match of the loopback interface ("lo" is denied by
// default, and allowing loopback means allowing it).
CandidateDecision decideCandidate(const config::Candidates& policy, const LocalAddress& address);

// Whether a remote (browser) candidate at `address` gets connectivity checks (issue 11, reliability-security.md
// §3.4): never an unspecified, multicast, broadcast, link-local (169.254.169.254, the cloud metadata service, is
// one) or IPv4-mapped address, nor loopback unless ice.candidates.allow_loopback. Checks to those would turn the
// gateway into a UDP prober of its own host, its cloud's metadata service or a multicast group. Pure.
CandidateDecision decideRemoteCandidate(const config::Candidates& policy, const std::string& address);

// The addresses of interfaces that are up, from getifaddrs() (IPv4 and IPv6).
std::vector<LocalAddress> listLocalAddresses();

// Shell-style glob with * and ? (interface names).
bool globMatch(const std::string& pattern, const std::string& text);

}  // namespace rtcgate::media

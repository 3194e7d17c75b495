// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
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

// The rule that decided (for callers that act on it, e.g. `rtcgate doctor`; `reason` is the text for people).
enum class CandidateRule {
  NotNumeric,
  Ipv6Disabled,
  Loopback,
  LinkLocal,
  BuiltinDenial,       // config::kBuiltinDeniedInterfaces
  NotInAllowInterfaces,
  DenyInterfaces,
  DenyCidrs,
  NotInAllowCidrs,
  Allowed,             // no rule refused it
  LiftedByName,        // allowed: lift_builtin_denials (or allow_loopback for lo) lifted a built-in denial
  RemoteRefused,       // decideRemoteCandidate refused it
};

struct CandidateDecision {
  bool allowed = false;
  CandidateRule rule = CandidateRule::NotNumeric;
  std::string reason;      // the rule that decided: why it was refused, or why it is offered
  std::string advertised;  // the address written into SDP: nat_1to1's advertised address, else the local one
};

// Which local addresses become ICE host candidates (config ice.candidates). Pure: no sockets, no system calls.
// Order of the rules: family (ipv6), loopback, link-local, built-in denials (config::kBuiltinDeniedInterfaces,
// unless the interface is named in lift_builtin_denials), allow_interfaces, deny_interfaces, deny_cidrs,
// allow_cidrs. allow_loopback lifts the built-in "lo" denial (allowing loopback means allowing it); a user
// deny_interfaces match of the loopback interface still refuses it.
CandidateDecision decideCandidate(const config::Candidates& policy, const LocalAddress& address);

// One local address and what the policy does with it.
struct CandidatePolicyEntry {
  LocalAddress address;
  CandidateDecision decision;
  bool privateAddress = false;  // the address written into SDP is RFC 1918, CGNAT (100.64/10) or ULA (fc00::/7)
};

struct CandidatePolicyReport {
  std::vector<CandidatePolicyEntry> entries;  // in the order of `addresses`
  std::vector<std::string> warnings;          // e.g. a private address offered beside a public one
};

// For each interface and address: offered or not, why, and as which address. The one answer used by the startup
// log, --check-config and `rtcgate doctor`. Pure.
CandidatePolicyReport describeCandidatePolicy(const config::Candidates& policy,
                                              const std::vector<LocalAddress>& addresses);

// One line for a log or a terminal: "offer eth0 203.0.113.9 (allowed: ...)" or "deny docker0 172.17.0.1 (...)".
std::string formatCandidatePolicyEntry(const CandidatePolicyEntry& entry);

// The effective rules, one per line (built-in denials and lifts, user lists, flags, nat_1to1), for --check-config.
std::vector<std::string> describeCandidateRules(const config::Candidates& policy);

// RFC 8445 §5.1.2.1: the local preference (bits 8..23 of the priority) is the agent's to choose. libnice 0.1.21
// derives it from the position of the address in the host's interface list, which may rank a LAN address above
// the public one. This keeps libnice's type preference and component, and puts every candidate whose SDP address
// is not private (public, or advertised through nat_1to1) above every private one; libnice's own local preference
// stays in the low 15 bits so priorities remain distinct.
uint32_t preferPublicPriority(uint32_t libnicePriority, const std::string& sdpAddress);

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

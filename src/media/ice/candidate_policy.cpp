// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/candidate_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>

#include "rtcgate/core/address.h"
#include "rtcgate/core/log.h"

namespace rtcgate::media {

namespace {

bool anyCidr(const std::vector<std::string>& cidrs, const IpAddress& address) {
  for (auto& c : cidrs)
    if (auto net = IpNetwork::parse(c); net && net->contains(address)) return true;
  return false;
}

}  // namespace

bool globMatch(const std::string& pattern, const std::string& text) {
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

CandidateDecision decideCandidate(const config::Candidates& policy, const LocalAddress& la) {
  CandidateDecision d;
  auto a = IpAddress::parse(la.address);
  if (!a) {
    d.reason = "not a numeric address";
    return d;
  }
  if (a->isV6() && !policy.ipv6) {
    d.rule = CandidateRule::Ipv6Disabled;
    d.reason = "IPv6 disabled (ice.candidates.ipv6)";
    return d;
  }
  bool loopback = la.loopbackInterface || a->isLoopback();
  if (loopback && !policy.allowLoopback) {
    d.rule = CandidateRule::Loopback;
    d.reason = "loopback (built-in denial; ice.candidates.allow_loopback)";
    return d;
  }
  if (a->isLinkLocal() && !policy.allowLinkLocal) {
    d.rule = CandidateRule::LinkLocal;
    d.reason = "link-local (built-in denial; ice.candidates.allow_link_local)";
    return d;
  }
  std::string lifted;
  for (auto& p : config::kBuiltinDeniedInterfaces) {
    if (!globMatch(p, la.interface)) continue;
    bool byName = std::find(policy.liftBuiltinDenials.begin(), policy.liftBuiltinDenials.end(), la.interface) !=
                  policy.liftBuiltinDenials.end();
    if (byName || (p == "lo" && loopback && policy.allowLoopback)) {
      lifted = p;
      continue;
    }
    d.rule = CandidateRule::BuiltinDenial;
    d.reason = fmt::format("built-in denial '{}' (lift by name: ice.candidates.lift_builtin_denials: [{}])", p,
                           log::escaped(la.interface));
    return d;
  }
  std::string allowedBy;
  if (!policy.allowInterfaces.empty()) {
    for (auto& p : policy.allowInterfaces)
      if (allowedBy.empty() && globMatch(p, la.interface)) allowedBy = p;
    if (allowedBy.empty()) {
      d.rule = CandidateRule::NotInAllowInterfaces;
      d.reason = "interface not in allow_interfaces";
      return d;
    }
  }
  for (auto& p : policy.denyInterfaces) {
    if (globMatch(p, la.interface)) {
      d.rule = CandidateRule::DenyInterfaces;
      d.reason = fmt::format("deny_interfaces '{}'", p);
      return d;
    }
  }
  if (anyCidr(policy.denyCidrs, *a)) {
    d.rule = CandidateRule::DenyCidrs;
    d.reason = "address in deny_cidrs";
    return d;
  }
  if (!policy.allowCidrs.empty() && !anyCidr(policy.allowCidrs, *a)) {
    d.rule = CandidateRule::NotInAllowCidrs;
    d.reason = "address not in allow_cidrs";
    return d;
  }
  d.allowed = true;
  d.rule = lifted.empty() ? CandidateRule::Allowed : CandidateRule::LiftedByName;
  if (!lifted.empty())
    d.reason = loopback && lifted == "lo" ? "allowed: allow_loopback lifts the built-in 'lo' denial"
                                          : fmt::format("allowed: lift_builtin_denials names it (built-in '{}')", lifted);
  else if (!allowedBy.empty())
    d.reason = fmt::format("allowed: allow_interfaces '{}'", allowedBy);
  else
    d.reason = "allowed: no rule denies it";
  d.advertised = la.address;
  for (auto& n : policy.nat1to1)
    if (n.local == la.address) d.advertised = n.advertised;
  return d;
}

CandidatePolicyReport describeCandidatePolicy(const config::Candidates& policy,
                                              const std::vector<LocalAddress>& addresses) {
  CandidatePolicyReport r;
  std::string firstPublic;
  std::vector<const CandidatePolicyEntry*> offeredPrivate;
  for (auto& la : addresses) {
    CandidatePolicyEntry e{la, decideCandidate(policy, la), false};
    auto sdp = IpAddress::parse(e.decision.allowed ? e.decision.advertised : la.address);
    e.privateAddress = sdp && sdp->isPrivate();
    r.entries.push_back(std::move(e));
  }
  for (auto& e : r.entries) {
    if (!e.decision.allowed) continue;
    auto sdp = IpAddress::parse(e.decision.advertised);
    if (e.privateAddress) offeredPrivate.push_back(&e);
    else if (firstPublic.empty() && sdp && !sdp->isLoopback() && !sdp->isLinkLocal()) firstPublic = e.decision.advertised;
  }
  // A browser on the internet can never reach a private address; offering one beside a public one only costs
  // checks (and tells every caller the LAN layout). Usually the LAN interface should be denied.
  if (!firstPublic.empty())
    for (auto* e : offeredPrivate)
      r.warnings.push_back(fmt::format(
          "private address {} ({}) is offered to browsers on a host that also offers the public {}; browsers on the "
          "internet cannot reach it: deny it (ice.candidates.deny_interfaces: [{}] or deny_cidrs) unless browsers "
          "sit on that network",
          e->decision.advertised, log::escaped(e->address.interface), firstPublic, log::escaped(e->address.interface)));
  return r;
}

std::string formatCandidatePolicyEntry(const CandidatePolicyEntry& e) {
  auto& d = e.decision;
  std::string as;
  if (d.allowed && d.advertised != e.address.address) as = fmt::format(" advertised as {}", d.advertised);
  return fmt::format("{} {} {}{}{} ({})", d.allowed ? "offer" : "deny ", log::escaped(e.address.interface),
                     e.address.address, as, e.privateAddress ? " [private]" : "", d.reason);
}

std::vector<std::string> describeCandidateRules(const config::Candidates& p) {
  auto list = [](const std::vector<std::string>& v) {
    return v.empty() ? std::string("[]") : fmt::format("[{}]", fmt::join(v, ", "));
  };
  std::vector<std::string> out;
  out.push_back(fmt::format("built-in denials (always): {}, link-local", list(config::kBuiltinDeniedInterfaces)));
  out.push_back(fmt::format("lift_builtin_denials: {}", list(p.liftBuiltinDenials)));
  out.push_back(fmt::format("allow_loopback: {}, allow_link_local: {}, ipv6: {}", p.allowLoopback, p.allowLinkLocal,
                            p.ipv6));
  out.push_back(fmt::format("allow_interfaces: {}", list(p.allowInterfaces)));
  out.push_back(fmt::format("deny_interfaces (added to the built-in ones): {}", list(p.denyInterfaces)));
  out.push_back(fmt::format("allow_cidrs: {}, deny_cidrs: {}", list(p.allowCidrs), list(p.denyCidrs)));
  for (auto& n : p.nat1to1) out.push_back(fmt::format("nat_1to1: {} advertised as {}", n.local, n.advertised));
  out.push_back("priority: public and nat_1to1-advertised addresses above private ones (RFC 8445 5.1.2.1)");
  return out;
}

uint32_t preferPublicPriority(uint32_t libnicePriority, const std::string& sdpAddress) {
  auto a = IpAddress::parse(sdpAddress);
  bool preferred = a && !a->isPrivate() && !a->isLoopback() && !a->isLinkLocal();
  uint32_t local = (libnicePriority >> 8) & 0xffff;
  local = (preferred ? 0x8000u : 0u) | (local & 0x7fffu);
  return (libnicePriority & 0xff0000ffu) | (local << 8);
}

CandidateDecision decideRemoteCandidate(const config::Candidates& policy, const std::string& address) {
  CandidateDecision d;
  auto a = IpAddress::parse(address);
  if (!a) d.reason = "not a numeric address";
  else if (a->isUnspecified()) d.reason = "unspecified";
  else if (a->isV4Mapped()) d.reason = "IPv4-mapped IPv6";
  else if (a->isMulticast()) d.reason = "multicast";
  else if (a->isBroadcast()) d.reason = "broadcast";
  else if (a->isLinkLocal()) d.reason = "link-local";
  else if (a->isLoopback() && !policy.allowLoopback) d.reason = "loopback (ice.candidates.allow_loopback)";
  else d.allowed = true;
  d.rule = d.allowed ? CandidateRule::Allowed : CandidateRule::RemoteRefused;
  if (d.allowed) {
    d.reason = "allowed";
    d.advertised = address;
  }
  return d;
}

std::vector<LocalAddress> listLocalAddresses() {
  std::vector<LocalAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || !(i->ifa_flags & IFF_UP)) continue;
    auto a = IpAddress::fromSockaddr(i->ifa_addr);
    if (!a) continue;
    out.push_back({i->ifa_name ? i->ifa_name : "", a->toString(), a->isV6(), (i->ifa_flags & IFF_LOOPBACK) != 0});
  }
  freeifaddrs(list);
  return out;
}

}  // namespace rtcgate::media

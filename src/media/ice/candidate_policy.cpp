// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/candidate_policy.h"

#include <ifaddrs.h>
#include <net/if.h>

#include "rtcgate/core/address.h"

namespace rtcgate::media {

namespace {

bool anyGlob(const std::vector<std::string>& patterns, const std::string& name) {
  for (auto& p : patterns)
    if (globMatch(p, name)) return true;
  return false;
}

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
    d.reason = "IPv6 disabled (ice.candidates.ipv6)";
    return d;
  }
  bool loopback = la.loopbackInterface || a->isLoopback();
  if (loopback && !policy.allowLoopback) {
    d.reason = "loopback (ice.candidates.allow_loopback)";
    return d;
  }
  if (a->isLinkLocal() && !policy.allowLinkLocal) {
    d.reason = "link-local (ice.candidates.allow_link_local)";
    return d;
  }
  if (!policy.allowInterfaces.empty() && !anyGlob(policy.allowInterfaces, la.interface)) {
    d.reason = "interface not in allow_interfaces";
    return d;
  }
  if (!(loopback && policy.allowLoopback) && anyGlob(policy.denyInterfaces, la.interface)) {
    d.reason = "interface in deny_interfaces";
    return d;
  }
  if (anyCidr(policy.denyCidrs, *a)) {
    d.reason = "address in deny_cidrs";
    return d;
  }
  if (!policy.allowCidrs.empty() && !anyCidr(policy.allowCidrs, *a)) {
    d.reason = "address not in allow_cidrs";
    return d;
  }
  d.allowed = true;
  d.reason = "allowed";
  d.advertised = la.address;
  for (auto& n : policy.nat1to1)
    if (n.local == la.address) d.advertised = n.advertised;
  return d;
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

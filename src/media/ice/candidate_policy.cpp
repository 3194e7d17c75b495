// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/candidate_policy.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>

namespace rtcgate::media {

namespace {

struct Parsed {
  int family = 0;
  unsigned char bytes[16]{};
};

bool parseAddress(const std::string& s, Parsed& out) {
  if (inet_pton(AF_INET, s.c_str(), out.bytes) == 1) {
    out.family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes) == 1) {
    out.family = AF_INET6;
    return true;
  }
  return false;
}

bool anyGlob(const std::vector<std::string>& patterns, const std::string& name) {
  for (auto& p : patterns)
    if (globMatch(p, name)) return true;
  return false;
}

bool anyCidr(const std::vector<std::string>& cidrs, const std::string& address) {
  for (auto& c : cidrs)
    if (cidrContains(c, address)) return true;
  return false;
}

bool isLoopback(const Parsed& a) {
  if (a.family == AF_INET) return a.bytes[0] == 127;
  static const unsigned char kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(a.bytes, kLoop6, 16) == 0;
}

bool isLinkLocal(const Parsed& a) {
  if (a.family == AF_INET) return a.bytes[0] == 169 && a.bytes[1] == 254;
  return a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
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

bool cidrContains(const std::string& cidr, const std::string& address) {
  auto slash = cidr.find('/');
  Parsed net, addr;
  if (!parseAddress(cidr.substr(0, slash), net) || !parseAddress(address, addr) || net.family != addr.family)
    return false;
  int maxBits = net.family == AF_INET ? 32 : 128;
  int bits = maxBits;
  if (slash != std::string::npos) {
    try {
      bits = std::stoi(cidr.substr(slash + 1));
    } catch (...) {
      return false;
    }
  }
  if (bits < 0 || bits > maxBits) return false;
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((net.bytes[byte] >> bit) & 1) != ((addr.bytes[byte] >> bit) & 1)) return false;
  }
  return true;
}

CandidateDecision decideCandidate(const config::Candidates& policy, const LocalAddress& la) {
  CandidateDecision d;
  Parsed a;
  if (!parseAddress(la.address, a)) {
    d.reason = "not a numeric address";
    return d;
  }
  if (a.family == AF_INET6 && !policy.ipv6) {
    d.reason = "IPv6 disabled (ice.candidates.ipv6)";
    return d;
  }
  bool loopback = la.loopbackInterface || isLoopback(a);
  if (loopback && !policy.allowLoopback) {
    d.reason = "loopback (ice.candidates.allow_loopback)";
    return d;
  }
  if (isLinkLocal(a) && !policy.allowLinkLocal) {
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
  if (anyCidr(policy.denyCidrs, la.address)) {
    d.reason = "address in deny_cidrs";
    return d;
  }
  if (!policy.allowCidrs.empty() && !anyCidr(policy.allowCidrs, la.address)) {
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

std::vector<LocalAddress> listLocalAddresses() {
  std::vector<LocalAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || !(i->ifa_flags & IFF_UP)) continue;
    int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    const void* src = family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr);
    if (inet_ntop(family, src, buf, sizeof(buf)) == nullptr) continue;
    out.push_back({i->ifa_name ? i->ifa_name : "", buf, family == AF_INET6, (i->ifa_flags & IFF_LOOPBACK) != 0});
  }
  freeifaddrs(list);
  return out;
}

}  // namespace rtcgate::media

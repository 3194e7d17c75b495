// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/destination_policy.h"

#include <string>

#include "rtcgate/core/address.h"
#include "rtcgate/session/dial_target.h"

namespace rtcgate::session {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Hosts compare case-insensitively (RFC 3261 19.1.4), IP literals by value ("[::1]" and "0::1" are one host).
bool sameHost(std::string_view a, std::string_view b) {
  auto bare = [](std::string_view h) {
    return h.size() > 2 && h.front() == '[' && h.back() == ']' ? h.substr(1, h.size() - 2) : h;
  };
  a = bare(a);
  b = bare(b);
  auto ipA = IpAddress::parse(a), ipB = IpAddress::parse(b);
  if (ipA || ipB) return ipA && ipB && *ipA == *ipB;
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// rtcgate's own hosts as a browser may name them: the configured names, the domain and servers its calls go to
// (the host is then exactly where the call goes), and the WSS listeners' addresses (a browser that connects to an
// IP address). A wildcard listener address names no host.
bool isOwnHost(const config::Config& cfg, std::string_view host) {
  for (const auto& d : cfg.security.destinations.ownDomains)
    if (sameHost(host, d)) return true;
  if (!cfg.upstream.domain.empty() && sameHost(host, cfg.upstream.domain)) return true;
  for (const auto& s : cfg.upstream.servers)
    if (sameHost(host, s.host)) return true;
  for (const auto& l : cfg.listeners.wss) {
    auto ip = IpAddress::parse(l.bind.address);
    if (ip && !ip->isUnspecified() && sameHost(host, l.bind.address)) return true;
  }
  return false;
}

// RFC 3966 5.1.1 visual separators that isDialableTarget lets through: "+88-2..." and "+88.2..." are +882 to a
// dial plan that ignores them, so a denied prefix must see the number without them.
std::string withoutSeparators(std::string_view number) {
  std::string out;
  for (char c : number)
    if (c != '-' && c != '.') out.push_back(lower(c));
  return out;
}

}  // namespace

DestinationVerdict checkDestination(const config::Config& cfg, std::string_view user, std::string_view host) {
  const auto& policy = cfg.security.destinations;
  if (user.empty()) return DestinationVerdict::NoUser;
  if (!isDialableTarget(user)) return DestinationVerdict::NotDialable;
  if (policy.ownDomainOnly && !isOwnHost(cfg, host)) return DestinationVerdict::ForeignDomain;
  const std::string dialled = unescapeDialTarget(user);
  const std::string bare = withoutSeparators(dialled);
  for (const auto& prefix : policy.deniedPrefixes)
    if (bare.compare(0, prefix.size(), withoutSeparators(prefix)) == 0) return DestinationVerdict::DeniedPrefix;
  if (policy.allowedPatterns.empty()) return DestinationVerdict::Allowed;
  for (const auto& pattern : policy.allowedPatterns)
    if (pattern.matches(dialled)) return DestinationVerdict::Allowed;
  return DestinationVerdict::NotAllowed;
}

std::string_view refusalPhrase(DestinationVerdict verdict) {
  switch (verdict) {
    case DestinationVerdict::NoUser: return "No User Part";
    case DestinationVerdict::NotDialable: return "Not A Dial String";
    case DestinationVerdict::ForeignDomain: return "Foreign Domain";
    case DestinationVerdict::DeniedPrefix: return "Destination Barred";
    case DestinationVerdict::NotAllowed: return "Destination Not Allowed";
    case DestinationVerdict::Allowed: break;
  }
  return "Forbidden";
}

std::string_view refusalDescription(DestinationVerdict verdict) {
  switch (verdict) {
    case DestinationVerdict::NoUser: return "the URI has no user part";
    case DestinationVerdict::NotDialable: return "the user part is not 1-64 dial characters";
    case DestinationVerdict::ForeignDomain: return "the host is not rtcgate's (security.destinations.own_domains)";
    case DestinationVerdict::DeniedPrefix:
      return "the number has a denied prefix (security.destinations.denied_prefixes)";
    case DestinationVerdict::NotAllowed: return "no allowed pattern matches (security.destinations.allowed_patterns)";
    case DestinationVerdict::Allowed: break;
  }
  return "allowed";
}

}  // namespace rtcgate::session

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

// The 403 reason phrase (RFC 3261 21.4.4 leaves it free) names the rule, so the agent's app can tell a barred
// number from a typo; the description goes to the log.
struct RefusalText {
  DestinationVerdict verdict;
  std::string_view phrase, description;
};
constexpr RefusalText kRefusals[] = {
    {DestinationVerdict::NoUser, "No User Part", "the URI has no user part"},
    {DestinationVerdict::NotDialable, "Not A Dial String", "the user part is not 1-64 dial characters"},
    {DestinationVerdict::ForeignDomain, "Foreign Domain",
     "the host is not rtcgate's (security.destinations.own_domains)"},
    {DestinationVerdict::DeniedPrefix, "Destination Barred",
     "the number has a denied prefix (security.destinations.denied_prefixes)"},
    {DestinationVerdict::NotAllowed, "Destination Not Allowed",
     "no allowed pattern matches (security.destinations.allowed_patterns)"},
};
constexpr RefusalText kAllowed{DestinationVerdict::Allowed, "Forbidden", "allowed"};

const RefusalText& textOf(DestinationVerdict verdict) {
  for (const auto& r : kRefusals)
    if (r.verdict == verdict) return r;
  return kAllowed;
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

std::string_view refusalPhrase(DestinationVerdict verdict) { return textOf(verdict).phrase; }

std::string_view refusalDescription(DestinationVerdict verdict) { return textOf(verdict).description; }

}  // namespace rtcgate::session

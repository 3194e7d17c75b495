// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/source_filter.h"

namespace rtcgate::sip {

bool SourceFilter::add(std::string_view text) {
  auto net = IpNetwork::parse(text);
  if (!net) return false;
  nets_.push_back(*net);
  return true;
}

bool SourceFilter::matches(const IpAddress& address) const {
  for (const auto& n : nets_)
    if (n.contains(address)) return true;
  return false;
}

bool SourceFilter::allows(const sockaddr* addr) const {
  // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d and is matched as IPv4.
  auto a = IpAddress::fromSockaddr(addr);
  return a && matches(*a);
}

bool SourceFilter::allows(std::string_view address) const {
  auto a = IpAddress::parse(address);
  return a && matches(*a);
}

}  // namespace rtcgate::sip

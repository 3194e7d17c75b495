// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>

#include <string_view>
#include <vector>

#include "rtcgate/core/address.h"

namespace rtcgate::sip {

// The set of addresses SIP requests are accepted from: exact hosts plus CIDR networks (IPv4 and IPv6).
// Thread: any (immutable after construction).
class SourceFilter {
public:
  // Adds "a.b.c.d", "a.b.c.d/n", "x::y" or "x::y/n"; false (and nothing added) when it does not parse.
  bool add(std::string_view cidrOrAddress);
  bool allows(const sockaddr* addr) const;
  bool allows(std::string_view address) const;
  bool empty() const { return nets_.empty(); }

private:
  bool matches(const IpAddress& address) const;
  std::vector<IpNetwork> nets_;
};

}  // namespace rtcgate::sip

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
  const std::vector<IpNetwork>& networks() const { return nets_; }

private:
  bool matches(const IpAddress& address) const;
  std::vector<IpNetwork> nets_;
};

// Attaches a classic BPF program admitting only `filter`'s sources to this process's UDP sockets and listening TCP
// sockets bound to `port` (the SIP listeners sofia-sip opened): datagrams and SYNs from other sources are dropped by
// the kernel, before sofia-sip could answer them. Returns how many sockets got the program, -1 when it could not
// be built (too many networks for cBPF's 8-bit jumps). Thread: any.
int attachKernelSourceFilter(const SourceFilter& filter, uint16_t port);

}  // namespace rtcgate::sip

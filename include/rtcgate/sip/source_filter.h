// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  struct Net {
    int family;
    std::array<uint8_t, 16> bytes;
    unsigned prefix;
  };
  bool matches(int family, const uint8_t* bytes) const;
  std::vector<Net> nets_;
};

}  // namespace rtcgate::sip

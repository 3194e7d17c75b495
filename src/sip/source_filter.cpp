// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/source_filter.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace rtcgate::sip {

bool SourceFilter::add(std::string_view text) {
  std::string_view addr = text;
  std::optional<unsigned> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    auto p = text.substr(slash + 1);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size() || p.empty()) return false;
    prefix = v;
  }
  if (addr.size() >= INET6_ADDRSTRLEN) return false;
  std::string s(addr);
  Net net{};
  if (inet_pton(AF_INET, s.c_str(), net.bytes.data()) == 1) {
    net.family = AF_INET;
    net.prefix = prefix.value_or(32);
    if (net.prefix > 32) return false;
  } else if (inet_pton(AF_INET6, s.c_str(), net.bytes.data()) == 1) {
    net.family = AF_INET6;
    net.prefix = prefix.value_or(128);
    if (net.prefix > 128) return false;
  } else {
    return false;
  }
  nets_.push_back(net);
  return true;
}

bool SourceFilter::matches(int family, const uint8_t* bytes) const {
  for (const auto& n : nets_) {
    if (n.family != family) continue;
    unsigned full = n.prefix / 8, rest = n.prefix % 8;
    if (std::memcmp(n.bytes.data(), bytes, full) != 0) continue;
    if (rest != 0) {
      auto mask = static_cast<uint8_t>(0xFFu << (8 - rest));
      if ((n.bytes[full] & mask) != (bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

bool SourceFilter::allows(const sockaddr* addr) const {
  if (addr == nullptr) return false;
  if (addr->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    return matches(AF_INET, reinterpret_cast<const uint8_t*>(&in.sin_addr));
  }
  if (addr->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    const auto* b = reinterpret_cast<const uint8_t*>(&in6.sin6_addr);
    // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d.
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) return matches(AF_INET, b + 12);
    return matches(AF_INET6, b);
  }
  return false;
}

bool SourceFilter::allows(std::string_view address) const {
  SourceFilter probe;
  if (!probe.add(address) || probe.nets_.size() != 1) return false;
  return matches(probe.nets_[0].family, probe.nets_[0].bytes.data());
}

}  // namespace rtcgate::sip

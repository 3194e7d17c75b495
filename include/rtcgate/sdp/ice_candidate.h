// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rtcgate::sdp {

// One a=candidate (RFC 8839 §5.1). Thread: none (plain value).
struct IceCandidate {
  std::string foundation;
  uint32_t component = 1;
  std::string transport = "udp";  // lower case
  uint32_t priority = 0;
  std::string address;
  uint16_t port = 0;
  std::string type = "host";  // host | srflx | prflx | relay
  std::string relAddr;
  uint16_t relPort = 0;
  std::string tcpType;  // active | passive | so (RFC 6544)
  std::vector<std::pair<std::string, std::string>> extensions;  // generation, network-id, ufrag, ...

  // An mDNS name (RFC 8839 §5.1 allows FQDNs; browsers hide host addresses as <uuid>.local).
  bool isMdns() const;
  // Whether the address is an IPv4/IPv6 literal.
  bool hasIpAddress() const;
  bool operator==(const IceCandidate&) const = default;
};

// Accepts the value with or without the "candidate:" prefix (a=candidate value or trickle string).
std::optional<IceCandidate> parseCandidate(std::string_view value);
// The attribute value, starting with the foundation (no "candidate:" prefix).
std::string formatCandidate(const IceCandidate& c);

}  // namespace rtcgate::sdp

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rtcgate {

// A numeric IPv4 or IPv6 address (no host names, no scope suffix): the one parser of addresses in configuration,
// SDP and socket peers. Thread: any (value type).
class IpAddress {
public:
  static std::optional<IpAddress> parse(std::string_view text);
  // AF_INET or AF_INET6 socket address; an IPv4-mapped IPv6 one (::ffff:a.b.c.d, an IPv4 peer on a dual-stack
  // socket) comes back as IPv4.
  static std::optional<IpAddress> fromSockaddr(const sockaddr* addr);

  bool isV6() const { return v6_; }
  bool isLoopback() const;     // 127.0.0.0/8, ::1
  bool isLinkLocal() const;    // 169.254.0.0/16, fe80::/10
  bool isUnspecified() const;  // 0.0.0.0, ::
  bool isMulticast() const;    // 224.0.0.0/4, ff00::/8
  bool isBroadcast() const;    // 255.255.255.255 (a subnet's directed broadcast needs its interface's mask)
  bool isV4Mapped() const;     // ::ffff:0:0/96 as written (fromSockaddr unmaps peers; parse keeps it IPv6)
  bool isPrivate() const;      // RFC 1918 10/8, 172.16/12, 192.168/16; RFC 4193 fc00::/7
  std::string toString() const;
  // With `port`, for bind()/sendto(); returns the length to pass along.
  socklen_t toSockaddr(uint16_t port, sockaddr_storage& out) const;
  // Network byte order; the first 4 bytes for IPv4.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  bool operator==(const IpAddress&) const = default;

private:
  bool v6_ = false;
  std::array<uint8_t, 16> bytes_{};
};

// An address block: "a.b.c.d/n", "x::y/n", or a single address (a full-length prefix). Thread: any (value type).
class IpNetwork {
public:
  static std::optional<IpNetwork> parse(std::string_view text);
  // Same family only: an IPv4 network never contains an IPv6 address.
  bool contains(const IpAddress& address) const;
  const IpAddress& address() const { return address_; }
  unsigned prefixLength() const { return prefix_; }

private:
  IpNetwork(IpAddress address, unsigned prefix) : address_(address), prefix_(prefix) {}
  IpAddress address_;
  unsigned prefix_;
};

// A DNS host name as RFC 3986 3.2.2 reg-name allows it in practice: labels of letters, digits, '-' and '_' (container
// and compose service names use '_'), 1-63 bytes each, not starting or ending with '-', joined by '.', at most 255
// bytes, no trailing dot. Dotted IPv4 fits this rule too. The one check of host names (WebSocket Host, config).
bool isDnsName(std::string_view name);

}  // namespace rtcgate

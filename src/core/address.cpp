// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace rtcgate {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a terminated string; anything this long is no address.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN]{};
  std::memcpy(buf, text.data(), text.size());
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes_.data()) == 1) return a;
  if (inet_pton(AF_INET6, buf, a.bytes_.data()) == 1) {
    a.v6_ = true;
    return a;
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::fromSockaddr(const sockaddr* addr) {
  if (addr == nullptr) return std::nullopt;
  IpAddress a;
  if (addr->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    std::memcpy(a.bytes_.data(), &in.sin_addr, 4);
    return a;
  }
  if (addr->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    const auto* b = reinterpret_cast<const uint8_t*>(&in6.sin6_addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
      std::memcpy(a.bytes_.data(), b + 12, 4);
    } else {
      a.v6_ = true;
      std::memcpy(a.bytes_.data(), b, 16);
    }
    return a;
  }
  return std::nullopt;
}

bool IpAddress::isLoopback() const {
  if (!v6_) return bytes_[0] == 127;
  static constexpr std::array<uint8_t, 16> kLoopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == kLoopback6;
}

bool IpAddress::isLinkLocal() const {
  if (!v6_) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::isPrivate() const {
  if (v6_) return (bytes_[0] & 0xfe) == 0xfc;
  return bytes_[0] == 10 || (bytes_[0] == 172 && (bytes_[1] & 0xf0) == 16) || (bytes_[0] == 192 && bytes_[1] == 168);
}

bool IpAddress::isUnspecified() const {
  return bytes_ == std::array<uint8_t, 16>{};  // the unused tail of an IPv4 address is zero too
}

bool IpAddress::isMulticast() const {
  if (!v6_) return (bytes_[0] & 0xf0) == 0xe0;
  return bytes_[0] == 0xff;
}

bool IpAddress::isBroadcast() const { return !v6_ && bytes_[0] == 255 && bytes_[1] == 255 && bytes_[2] == 255 && bytes_[3] == 255; }

bool IpAddress::isV4Mapped() const {
  static constexpr std::array<uint8_t, 12> kPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return v6_ && std::memcmp(bytes_.data(), kPrefix.data(), kPrefix.size()) == 0;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN]{};
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buf, sizeof buf);
  return buf;
}

socklen_t IpAddress::toSockaddr(uint16_t port, sockaddr_storage& out) const {
  out = {};
  if (v6_) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, bytes_.data(), 16);
    return sizeof *in6;
  }
  auto* in = reinterpret_cast<sockaddr_in*>(&out);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  std::memcpy(&in->sin_addr, bytes_.data(), 4);
  return sizeof *in;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  unsigned maxPrefix = address->isV6() ? 128 : 32;
  unsigned prefix = maxPrefix;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix > maxPrefix)
      return std::nullopt;
  }
  return IpNetwork(*address, prefix);
}

bool IpNetwork::contains(const IpAddress& address) const {
  if (address.isV6() != address_.isV6()) return false;
  const auto& net = address_.bytes();
  const auto& a = address.bytes();
  unsigned full = prefix_ / 8, rest = prefix_ % 8;
  if (std::memcmp(net.data(), a.data(), full) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xFFu << (8 - rest));
  return (net[full] & mask) == (a[full] & mask);
}

bool isDnsName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  size_t label = 0;
  char previous = '.';
  for (char ch : name) {
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (ch == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else if (alnum || ch == '-' || ch == '_') {
      if (ch == '-' && label == 0) return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    previous = ch;
  }
  return label != 0 && previous != '-';
}

}  // namespace rtcgate

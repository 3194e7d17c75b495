// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/proxy_protocol.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace rtcgate::signaling {
namespace {

// Spec 2.2: the v2 signature; it cannot start a TLS record, an HTTP request or a v1 line.
constexpr std::string_view kV2Signature{"\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A", 12};
constexpr std::string_view kV1Prefix{"PROXY "};

ProxyHeader invalid(const char* reason) {
  ProxyHeader h;
  h.status = ProxyHeader::Status::Invalid;
  h.reason = reason;
  return h;
}

ProxyHeader needMore() { return ProxyHeader{}; }

ProxyHeader done(size_t length, std::optional<IpAddress> source) {
  ProxyHeader h;
  h.status = ProxyHeader::Status::Done;
  h.length = length;
  h.source = source;
  return h;
}

// Spec 2.1: a port is a decimal 0-65535 (no sign, no spaces).
bool validPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535;
}

ProxyHeader parseV1(std::string_view bytes) {
  const size_t checked = std::min(bytes.size(), kV1Prefix.size());
  if (bytes.substr(0, checked) != kV1Prefix.substr(0, checked)) return invalid("bad_signature");
  const size_t window = std::min(bytes.size(), kProxyV1MaxBytes);
  const size_t lf = bytes.substr(0, window).find('\n');
  if (lf == std::string_view::npos) return bytes.size() >= kProxyV1MaxBytes ? invalid("no_crlf") : needMore();
  if (lf == 0 || bytes[lf - 1] != '\r') return invalid("no_crlf");
  std::string_view line = bytes.substr(kV1Prefix.size(), lf - 1 - kV1Prefix.size());
  if (line.find('\r') != std::string_view::npos) return invalid("no_crlf");
  std::vector<std::string_view> fields;
  while (true) {
    size_t sp = line.find(' ');
    fields.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  // Spec 2.1: "UNKNOWN" may be followed by anything up to the CRLF; the receiver ignores it.
  if (fields[0] == "UNKNOWN") return done(lf + 1, std::nullopt);
  if (fields[0] != "TCP4" && fields[0] != "TCP6") return invalid("bad_family");
  if (fields.size() != 5) return invalid("bad_address");
  auto source = IpAddress::parse(fields[1]);
  auto destination = IpAddress::parse(fields[2]);
  const bool v6 = fields[0] == "TCP6";
  if (!source || !destination || source->isV6() != v6 || destination->isV6() != v6 || !validPort(fields[3]) ||
      !validPort(fields[4]))
    return invalid("bad_address");
  return done(lf + 1, source);
}

ProxyHeader parseV2(std::string_view bytes) {
  const size_t checked = std::min(bytes.size(), kV2Signature.size());
  if (bytes.substr(0, checked) != kV2Signature.substr(0, checked)) return invalid("bad_signature");
  if (bytes.size() < 16) return needMore();
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  if ((byte(12) >> 4) != 2) return invalid("bad_version");
  const unsigned command = byte(12) & 0x0F;
  if (command > 1) return invalid("bad_command");
  const size_t payload = (static_cast<size_t>(byte(14)) << 8) | byte(15);
  if (payload > kProxyV2MaxPayloadBytes) return invalid("too_long");
  const unsigned family = byte(13) >> 4;
  const unsigned transport = byte(13) & 0x0F;
  if (family > 3 || transport > 2) return invalid("bad_family");
  const size_t total = 16 + payload;
  if (bytes.size() < total) return needMore();
  // Spec 2.2: LOCAL (0x0): the proxy's own connection (health checks); the address block, if any, is ignored.
  if (command == 0) return done(total, std::nullopt);
  // UNSPEC: the proxy does not know (or tell) the client: the connection keeps the proxy's address, as spec 2.2
  // allows. UNIX sockets and datagrams have no place on a TCP listener.
  if (family == 0) return done(total, std::nullopt);
  if ((family != 1 && family != 2) || transport != 1) return invalid("bad_family");
  const size_t addressBytes = family == 1 ? 4 : 16;
  if (payload < 2 * addressBytes + 4) return invalid("bad_address");
  sockaddr_storage ss{};
  if (family == 1) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    std::copy_n(bytes.data() + 16, 4, reinterpret_cast<char*>(&sin->sin_addr));
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::copy_n(bytes.data() + 16, 16, reinterpret_cast<char*>(&sin6->sin6_addr));
  }
  auto source = IpAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&ss));
  if (!source) return invalid("bad_address");
  return done(total, source);
}

}  // namespace

ProxyHeader parseProxyHeader(std::string_view bytes) {
  if (bytes.empty()) return needMore();
  if (bytes[0] == kV1Prefix[0]) return parseV1(bytes);
  if (bytes[0] == kV2Signature[0]) return parseV2(bytes);
  ProxyHeader h;
  h.status = ProxyHeader::Status::NotProxy;
  return h;
}

}  // namespace rtcgate::signaling

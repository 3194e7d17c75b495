// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sdp/ice_candidate.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

#include "rtcgate/core/address.h"

namespace rtcgate::sdp {

namespace {

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool toNumber(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool IceCandidate::isMdns() const {
  return address.size() > 6 && lower(std::string_view(address).substr(address.size() - 6)) == ".local";
}

bool IceCandidate::hasIpAddress() const { return IpAddress::parse(address).has_value(); }

std::optional<IceCandidate> parseCandidate(std::string_view value) {
  if (value.starts_with("a=")) value.remove_prefix(2);
  if (value.starts_with("candidate:")) value.remove_prefix(10);
  auto f = split(value);
  // foundation component transport priority address port "typ" type
  if (f.size() < 8 || f[6] != "typ") return std::nullopt;
  IceCandidate c;
  c.foundation = std::string(f[0]);
  if (c.foundation.empty() || c.foundation.size() > 32) return std::nullopt;
  if (!toNumber(f[1], c.component) || c.component < 1 || c.component > 256) return std::nullopt;
  c.transport = lower(f[2]);
  if (!toNumber(f[3], c.priority)) return std::nullopt;
  c.address = std::string(f[4]);
  if (c.address.empty() || c.address.size() > 255) return std::nullopt;
  // RFC 8839 §5.1 connection-address: an IP literal or an FQDN (mDNS .local). Anything else (control bytes, NULs)
  // would be written back into our answer's c= line unreadably (found by the sdp_browser fuzz target).
  for (char ch : c.address)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != ':' && ch != '-') return std::nullopt;
  if (!toNumber(f[5], c.port)) return std::nullopt;
  c.type = lower(f[7]);
  if (c.type != "host" && c.type != "srflx" && c.type != "prflx" && c.type != "relay") return std::nullopt;
  // Extension attributes come in name/value pairs (RFC 8839 §5.1).
  for (size_t i = 8; i + 1 < f.size(); i += 2) {
    if (f[i] == "raddr") {
      c.relAddr = std::string(f[i + 1]);
    } else if (f[i] == "rport") {
      if (!toNumber(f[i + 1], c.relPort)) return std::nullopt;
    } else if (f[i] == "tcptype") {
      c.tcpType = lower(f[i + 1]);
    } else {
      c.extensions.emplace_back(std::string(f[i]), std::string(f[i + 1]));
    }
  }
  return c;
}

std::string formatCandidate(const IceCandidate& c) {
  std::ostringstream o;
  o << c.foundation << ' ' << c.component << ' ' << c.transport << ' ' << c.priority << ' ' << c.address << ' '
    << c.port << " typ " << c.type;
  if (!c.relAddr.empty()) o << " raddr " << c.relAddr << " rport " << c.relPort;
  if (!c.tcpType.empty()) o << " tcptype " << c.tcpType;
  for (auto& [k, v] : c.extensions) o << ' ' << k << ' ' << v;
  return o.str();
}

}  // namespace rtcgate::sdp

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sdp/session_description.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace rtcgate::sdp {

namespace {

// Bounds against hostile input (the SDP arrives from a browser over the network).
constexpr size_t kMaxLines = 2000;
constexpr size_t kMaxMedia = 16;

template <typename T>
bool toNumber(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

Connection parseConnection(std::string_view v, size_t line) {
  auto w = words(v);
  if (w.size() != 3) throw SdpError(line, "c= needs nettype, addrtype and address");
  Connection c{std::string(w[0]), std::string(w[1]), std::string(w[2])};
  // Multicast TTL/count suffixes are not used by WebRTC or SIP trunks; keep the address only.
  if (auto slash = c.address.find('/'); slash != std::string::npos) c.address.resize(slash);
  // "c=IN IP4 /127" leaves nothing: no address to send to, and nothing rtcgate could write back (found by fuzzing).
  if (c.address.empty()) throw SdpError(line, "c= has an empty address");
  return c;
}

Attribute parseAttribute(std::string_view v) {
  auto colon = v.find(':');
  if (colon == std::string_view::npos) return {std::string(v), {}};
  return {std::string(v.substr(0, colon)), std::string(v.substr(colon + 1))};
}

MediaDescription parseMediaLine(std::string_view v, size_t line) {
  auto w = words(v);
  if (w.size() < 3) throw SdpError(line, "m= needs media, port and proto");
  MediaDescription m;
  m.media = std::string(w[0]);
  auto portField = w[1];
  if (auto slash = portField.find('/'); slash != std::string_view::npos) {
    if (!toNumber(portField.substr(slash + 1), m.portCount)) throw SdpError(line, "bad port count in m=");
    portField = portField.substr(0, slash);
  }
  if (!toNumber(portField, m.port)) throw SdpError(line, "bad port in m=");
  m.proto = std::string(w[2]);
  for (size_t i = 3; i < w.size(); ++i) m.formats.emplace_back(w[i]);
  return m;
}

void writeConnection(std::ostringstream& o, const Connection& c) {
  o << "c=" << c.netType << ' ' << c.addrType << ' ' << c.address << "\r\n";
}

void writeAttributes(std::ostringstream& o, const AttributeList& a) {
  for (auto& at : a.items) {
    o << "a=" << at.name;
    if (!at.value.empty()) o << ':' << at.value;
    o << "\r\n";
  }
}

}  // namespace

SdpError::SdpError(size_t line, const std::string& what)
    : std::runtime_error(fmt::format("SDP line {}: {}", line, what)), line_(line) {}

const Attribute* AttributeList::find(std::string_view name) const {
  for (auto& a : items)
    if (a.name == name) return &a;
  return nullptr;
}

std::optional<std::string> AttributeList::value(std::string_view name) const {
  if (auto* a = find(name)) return a->value;
  return std::nullopt;
}

std::vector<std::string> AttributeList::values(std::string_view name) const {
  std::vector<std::string> out;
  for (auto& a : items)
    if (a.name == name) out.push_back(a.value);
  return out;
}

void AttributeList::add(std::string name, std::string value) { items.push_back({std::move(name), std::move(value)}); }

void AttributeList::remove(std::string_view name) {
  std::erase_if(items, [&](const Attribute& a) { return a.name == name; });
}

void AttributeList::set(std::string name, std::string value) {
  for (auto it = items.begin(); it != items.end(); ++it) {
    if (it->name == name) {
      it->value = std::move(value);
      // Drop later duplicates, keep the first position.
      items.erase(std::remove_if(std::next(it), items.end(), [&](const Attribute& a) { return a.name == name; }),
                  items.end());
      return;
    }
  }
  add(std::move(name), std::move(value));
}

std::vector<RtpMap> MediaDescription::rtpMaps() const {
  std::vector<RtpMap> out;
  for (auto& v : attributes.values("rtpmap")) {
    // "<pt> <encoding>/<clock>[/<channels>]"
    auto space = v.find(' ');
    if (space == std::string::npos) continue;
    RtpMap r;
    if (!toNumber(std::string_view(v).substr(0, space), r.payloadType)) continue;
    std::string_view rest = std::string_view(v).substr(space + 1);
    auto s1 = rest.find('/');
    if (s1 == std::string_view::npos) continue;
    r.encoding = std::string(rest.substr(0, s1));
    rest = rest.substr(s1 + 1);
    auto s2 = rest.find('/');
    if (!toNumber(rest.substr(0, s2), r.clockRate)) continue;
    if (s2 != std::string_view::npos && !toNumber(rest.substr(s2 + 1), r.channels)) continue;
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<std::string> MediaDescription::fmtp(int payloadType) const {
  auto prefix = std::to_string(payloadType) + " ";
  for (auto& v : attributes.values("fmtp"))
    if (v.starts_with(prefix)) return v.substr(prefix.size());
  return std::nullopt;
}

std::vector<int> MediaDescription::payloadTypes() const {
  std::vector<int> out;
  for (auto& f : formats)
    if (int pt = -1; toNumber(std::string_view(f), pt) && pt >= 0 && pt <= 127) out.push_back(pt);
  return out;
}

Connection connectionTo(std::string address) {
  Connection c;
  c.addrType = address.find(':') != std::string::npos ? "IP6" : "IP4";
  c.address = std::move(address);
  return c;
}

const Connection* connectionOf(const SessionDescription& sd, size_t mediaIndex) {
  const auto& m = sd.media.at(mediaIndex);
  if (m.connection) return &*m.connection;
  return sd.connection ? &*sd.connection : nullptr;
}

std::vector<std::string> SessionDescription::bundleMids() const {
  for (auto& v : attributes.values("group")) {
    auto w = words(v);
    if (!w.empty() && w[0] == "BUNDLE") {
      std::vector<std::string> mids;
      for (size_t i = 1; i < w.size(); ++i) mids.emplace_back(w[i]);
      return mids;
    }
  }
  return {};
}

SessionDescription parse(std::string_view text) {
  SessionDescription sd;
  MediaDescription* current = nullptr;
  bool sawVersion = false;
  size_t lineNo = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++lineNo;
    if (lineNo > kMaxLines) throw SdpError(lineNo, "too many lines");
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;  // tolerate blank lines (trailing CRLF, hand-written SDP)
    if (line.size() < 2 || line[1] != '=') throw SdpError(lineNo, "expected <type>=<value>");
    char type = line[0];
    std::string_view value = line.substr(2);
    if (!sawVersion) {
      if (type != 'v') throw SdpError(lineNo, "SDP must start with v=");
      if (!toNumber(value, sd.version) || sd.version != 0) throw SdpError(lineNo, "unsupported SDP version");
      sawVersion = true;
      continue;
    }
    switch (type) {
      case 'o': {
        auto w = words(value);
        if (w.size() != 6) throw SdpError(lineNo, "o= needs six fields");
        sd.origin = {std::string(w[0]), std::string(w[1]), std::string(w[2]),
                     std::string(w[3]), std::string(w[4]), std::string(w[5])};
        break;
      }
      case 's':
        sd.sessionName = std::string(value);
        break;
      case 't':
        sd.timing = std::string(value);
        break;
      case 'c':
        if (current != nullptr)
          current->connection = parseConnection(value, lineNo);
        else
          sd.connection = parseConnection(value, lineNo);
        break;
      case 'b':
        (current != nullptr ? current->bandwidths : sd.bandwidths).emplace_back(value);
        break;
      case 'm':
        if (sd.media.size() >= kMaxMedia) throw SdpError(lineNo, "too many m= sections");
        sd.media.push_back(parseMediaLine(value, lineNo));
        current = &sd.media.back();
        break;
      case 'a':
        (current != nullptr ? current->attributes : sd.attributes).items.push_back(parseAttribute(value));
        break;
      default:
        break;  // i=, u=, e=, p=, z=, k=, r=: not used by rtcgate (RFC 8866 says ignore unknown types)
    }
  }
  if (!sawVersion) throw SdpError(lineNo, "empty SDP");
  return sd;
}

std::string write(const SessionDescription& sd) {
  std::ostringstream o;
  o << "v=" << sd.version << "\r\n";
  auto& og = sd.origin;
  o << "o=" << og.username << ' ' << og.sessionId << ' ' << og.sessionVersion << ' ' << og.netType << ' '
    << og.addrType << ' ' << og.address << "\r\n";
  o << "s=" << (sd.sessionName.empty() ? "-" : sd.sessionName) << "\r\n";
  if (sd.connection) writeConnection(o, *sd.connection);
  for (auto& b : sd.bandwidths) o << "b=" << b << "\r\n";
  o << "t=" << sd.timing << "\r\n";
  writeAttributes(o, sd.attributes);
  for (auto& m : sd.media) {
    o << "m=" << m.media << ' ' << m.port;
    if (m.portCount != 0) o << '/' << m.portCount;
    o << ' ' << m.proto;
    for (auto& f : m.formats) o << ' ' << f;
    o << "\r\n";
    if (m.connection) writeConnection(o, *m.connection);
    for (auto& b : m.bandwidths) o << "b=" << b << "\r\n";
    writeAttributes(o, m.attributes);
  }
  return o.str();
}

}  // namespace rtcgate::sdp

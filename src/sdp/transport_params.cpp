// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cctype>

#include "rtcgate/sdp/session_description.h"

namespace rtcgate::sdp {

std::optional<Setup> parseSetup(std::string_view v) {
  if (v == "actpass") return Setup::ActPass;
  if (v == "active") return Setup::Active;
  if (v == "passive") return Setup::Passive;
  if (v == "holdconn") return Setup::HoldConn;
  return std::nullopt;
}

const char* toString(Setup s) {
  switch (s) {
    case Setup::ActPass: return "actpass";
    case Setup::Active: return "active";
    case Setup::Passive: return "passive";
    case Setup::HoldConn: return "holdconn";
  }
  return "actpass";
}

const char* toString(Direction d) {
  switch (d) {
    case Direction::SendRecv: return "sendrecv";
    case Direction::SendOnly: return "sendonly";
    case Direction::RecvOnly: return "recvonly";
    case Direction::Inactive: return "inactive";
  }
  return "sendrecv";
}

std::optional<Fingerprint> parseFingerprint(std::string_view v) {
  auto space = v.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  Fingerprint f;
  for (char c : v.substr(0, space)) f.algorithm.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  auto hex = v.substr(space + 1);
  while (!hex.empty() && hex.front() == ' ') hex.remove_prefix(1);
  // "XX:XX:...": pairs of hex digits; normalise to upper case so comparison is a string compare (RFC 8122 §5).
  if (hex.empty() || hex.size() > 64 * 3 || (hex.size() + 1) % 3 != 0) return std::nullopt;
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    if (i % 3 == 2) {
      if (c != ':') return std::nullopt;
      f.value.push_back(':');
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
      f.value.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  return f;
}

namespace {

std::optional<Direction> directionIn(const AttributeList& a) {
  // The last direction attribute wins if a sender repeats it; browsers send one.
  std::optional<Direction> d;
  for (auto& at : a.items) {
    if (at.name == "sendrecv") d = Direction::SendRecv;
    else if (at.name == "sendonly") d = Direction::SendOnly;
    else if (at.name == "recvonly") d = Direction::RecvOnly;
    else if (at.name == "inactive") d = Direction::Inactive;
  }
  return d;
}

bool hasOption(const std::optional<std::string>& options, std::string_view opt) {
  if (!options) return false;
  std::string_view s = *options;
  size_t i = 0;
  while (i < s.size()) {
    auto j = s.find(' ', i);
    if (s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i) == opt) return true;
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return false;
}

}  // namespace

Direction directionOf(const SessionDescription& sd, size_t mediaIndex) {
  const auto& m = sd.media.at(mediaIndex);
  return directionIn(m.attributes).value_or(directionIn(sd.attributes).value_or(Direction::SendRecv));
}

TransportParams transportOf(const SessionDescription& sd, size_t mediaIndex) {
  const auto& m = sd.media.at(mediaIndex);
  const auto& ma = m.attributes;
  const auto& sa = sd.attributes;
  // RFC 8839 §5.4 and RFC 8122 §5: these may appear at session level; the media level overrides.
  auto pick = [&](std::string_view name) { return ma.has(name) ? ma.value(name) : sa.value(name); };

  TransportParams t;
  t.mid = ma.value("mid").value_or("");
  t.iceUfrag = pick("ice-ufrag").value_or("");
  t.icePwd = pick("ice-pwd").value_or("");
  t.iceLite = sa.has("ice-lite") || ma.has("ice-lite");
  t.trickle = hasOption(pick("ice-options"), "trickle");
  for (auto& v : ma.values("candidate")) {
    auto c = parseCandidate(v);
    // mDNS names are not resolved by rtcgate (no DNS on a media loop, and <uuid>.local is unresolvable
    // off-LAN anyway): such a peer is reached through its srflx/relay or peer-reflexive candidates.
    if (!c || !c->hasIpAddress() || c->component != 1) {
      ++t.ignoredCandidates;
      continue;
    }
    t.candidates.push_back(std::move(*c));
  }
  t.endOfCandidates = ma.has("end-of-candidates") || sa.has("end-of-candidates");
  const auto& fpSource = ma.has("fingerprint") ? ma : sa;
  for (auto& v : fpSource.values("fingerprint"))
    if (auto f = parseFingerprint(v)) t.fingerprints.push_back(std::move(*f));
  if (auto s = pick("setup")) t.setup = parseSetup(*s);
  t.rtcpMux = ma.has("rtcp-mux");
  t.direction = directionOf(sd, mediaIndex);
  return t;
}

void applyTransport(MediaDescription& m, const TransportParams& t) {
  auto& a = m.attributes;
  for (auto name : {"mid", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "candidate", "end-of-candidates",
                    "fingerprint", "setup", "rtcp-mux", "sendrecv", "sendonly", "recvonly", "inactive"})
    a.remove(name);
  // Transport attributes go first, in the order browsers write them; codec attributes follow.
  AttributeList head;
  for (auto& c : t.candidates) head.add("candidate", formatCandidate(c));
  if (!t.iceUfrag.empty()) head.add("ice-ufrag", t.iceUfrag);
  if (!t.icePwd.empty()) head.add("ice-pwd", t.icePwd);
  if (t.trickle) head.add("ice-options", "trickle");
  for (auto& f : t.fingerprints) head.add("fingerprint", f.algorithm + " " + f.value);
  if (t.setup) head.add("setup", toString(*t.setup));
  if (!t.mid.empty()) head.add("mid", t.mid);
  head.add(toString(t.direction));
  if (t.rtcpMux) head.add("rtcp-mux");
  if (t.endOfCandidates) head.add("end-of-candidates");
  a.items.insert(a.items.begin(), head.items.begin(), head.items.end());
}

}  // namespace rtcgate::sdp

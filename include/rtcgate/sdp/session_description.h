// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rtcgate/sdp/ice_candidate.h"

namespace rtcgate::sdp {

// rtcgate's own SDP model (RFC 8866): lines kept in order, attributes kept verbatim so that what we do not
// understand survives a parse/write round trip, plus typed views for the parts the media legs use.
// Thread: none (plain values).

// A parse failure; line is 1-based.
class SdpError : public std::runtime_error {
public:
  SdpError(size_t line, const std::string& what);
  size_t line() const { return line_; }

private:
  size_t line_;
};

struct Attribute {
  std::string name;
  std::string value;  // empty for flag attributes such as a=rtcp-mux
  bool operator==(const Attribute&) const = default;
};

// Attribute list with lookups (session level and media level share it).
struct AttributeList {
  std::vector<Attribute> items;

  const Attribute* find(std::string_view name) const;
  std::optional<std::string> value(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  std::vector<std::string> values(std::string_view name) const;
  void add(std::string name, std::string value = {});
  void remove(std::string_view name);
  // Replaces every attribute of that name with one.
  void set(std::string name, std::string value = {});
  bool operator==(const AttributeList&) const = default;
};

struct Origin {
  std::string username = "-";
  std::string sessionId = "0";
  std::string sessionVersion = "0";
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address = "127.0.0.1";
  bool operator==(const Origin&) const = default;
};

struct Connection {
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address = "0.0.0.0";
  bool operator==(const Connection&) const = default;
};

struct RtpMap {
  int payloadType = -1;
  std::string encoding;
  uint32_t clockRate = 0;
  uint32_t channels = 1;
  bool operator==(const RtpMap&) const = default;
};

struct MediaDescription {
  std::string media = "audio";
  uint16_t port = 9;
  uint16_t portCount = 0;  // 0: no "/count"
  std::string proto = "UDP/TLS/RTP/SAVPF";
  std::vector<std::string> formats;
  std::optional<Connection> connection;
  std::vector<std::string> bandwidths;  // b= lines verbatim
  AttributeList attributes;

  std::vector<RtpMap> rtpMaps() const;
  std::optional<std::string> fmtp(int payloadType) const;
  // The formats that are RTP payload types (0..127), in m= order; others are left out.
  std::vector<int> payloadTypes() const;
  bool operator==(const MediaDescription&) const = default;
};

struct SessionDescription {
  int version = 0;
  Origin origin;
  std::string sessionName = "-";
  std::optional<Connection> connection;
  std::vector<std::string> bandwidths;
  std::string timing = "0 0";
  AttributeList attributes;
  std::vector<MediaDescription> media;

  // mids of the first a=group:BUNDLE (empty if none).
  std::vector<std::string> bundleMids() const;
  bool operator==(const SessionDescription&) const = default;
};

// Lenient parser (unknown lines and attributes are kept; what browsers send in the field must parse):
// throws SdpError only for structural faults (missing v=/m= fields, bad numbers, lines before v=).
SessionDescription parse(std::string_view text);
// CRLF line endings (RFC 8866 §5).
std::string write(const SessionDescription& sd);

enum class Setup { ActPass, Active, Passive, HoldConn };
enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };

std::optional<Setup> parseSetup(std::string_view v);
const char* toString(Setup s);
const char* toString(Direction d);

// "IN IP4 <address>" or "IN IP6 <address>", by the address's form.
Connection connectionTo(std::string address);
// What applies to a media section: its own c= or direction attribute, else the session's (RFC 8866 §5.7,
// RFC 3264 §5.1). No c= at all: nullptr. No direction at all: sendrecv.
const Connection* connectionOf(const SessionDescription& sd, size_t mediaIndex);
Direction directionOf(const SessionDescription& sd, size_t mediaIndex);

struct Fingerprint {
  std::string algorithm;  // lower case, e.g. "sha-256"
  std::string value;      // upper-case hex pairs separated by ':'
  bool operator==(const Fingerprint&) const = default;
};
std::optional<Fingerprint> parseFingerprint(std::string_view v);

// The ICE/DTLS transport of one media section: what a media leg produces and consumes. Media-level attributes
// override session-level ones (Firefox puts fingerprint, ice-options and direction at session level).
struct TransportParams {
  std::string mid;
  std::string iceUfrag;
  std::string icePwd;
  bool iceLite = false;
  bool trickle = false;
  std::vector<IceCandidate> candidates;  // mDNS (.local) and unparsable candidates are left out
  size_t ignoredCandidates = 0;          // how many a=candidate lines were left out
  bool endOfCandidates = false;
  std::vector<Fingerprint> fingerprints;
  std::optional<Setup> setup;
  bool rtcpMux = false;
  Direction direction = Direction::SendRecv;
  bool operator==(const TransportParams&) const = default;
};

TransportParams transportOf(const SessionDescription& sd, size_t mediaIndex);
// Writes the transport attributes into a media section (replacing any present); session-level attributes of the
// same names are the caller's to drop.
void applyTransport(MediaDescription& m, const TransportParams& t);

}  // namespace rtcgate::sdp

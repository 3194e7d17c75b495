// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rtcgate/codec/media_bridge.h"
#include "rtcgate/sdp/session_description.h"
#include "rtcgate/session/codec_negotiation.h"

namespace rtcgate::session {

// The two legs' SDP, each built from that leg's own state (never forwarded from the other leg): the browser leg
// speaks UDP/TLS/RTP/SAVPF with ICE/DTLS and Opus/G.711, the Genesys leg RTP/AVP with G.711. Thread: any.

// Payload types rtcgate uses in its own browser offers (Chrome's numbers, so browsers change nothing).
inline constexpr uint8_t kOpusPt = 111;
inline constexpr uint8_t kTelephoneEvent48kPt = 110;
inline constexpr uint8_t kTelephoneEvent8kPt = 126;
inline constexpr uint8_t kGenesysTelephoneEventPt = 101;

// The audio m-line of a browser SDP: its formats, and its ICE/DTLS transport.
struct BrowserMedia {
  sdp::SessionDescription description;
  size_t audioIndex = 0;
  OfferedCodecs codecs;
  sdp::TransportParams transport;
};
// Parses a browser offer or answer; nullopt (and `error`) if there is no usable audio m-line.
std::optional<BrowserMedia> readBrowserSdp(const std::string& text, std::string* error);

// Our offer to a browser: every codec of `preference`, telephone-event at the clock rate of the first one only
// (48 kHz for Opus, 8 kHz for G.711: see the .cpp for why not both), `transport`.
std::string browserOffer(const std::vector<codec::CodecId>& preference, const sdp::TransportParams& transport,
                         uint64_t sessionId, uint64_t version);
// Our answer to a browser's offer: the chosen codec with the browser's payload type, its telephone-event at the
// same clock rate when offered, the browser's mid, `transport`.
// `direction`: the answer's a= direction (mirrorDirection of the offer's for re-offers: hold).
std::string browserAnswer(const BrowserMedia& offer, codec::CodecId chosen, uint8_t chosenPt,
                          const sdp::TransportParams& transport, uint64_t sessionId, uint64_t version,
                          sdp::Direction direction = sdp::Direction::SendRecv);

// Genesys-leg SDP (plain RTP/AVP): the RTP leg's address/port, payload types in preference order plus
// telephone-event with the event list `telephoneEvents` (an answer passes answerTelephoneEvents() of the offer),
// 20 ms packets.
std::string genesysSdp(const std::string& address, uint16_t port, const std::vector<std::pair<codec::CodecId, uint8_t>>& codecs,
                       std::optional<uint8_t> telephoneEventPt, uint64_t sessionId, uint64_t version,
                       sdp::Direction direction = sdp::Direction::SendRecv,
                       std::string_view telephoneEvents = kTelephoneEventsOffered);
// The Genesys leg's first audio m-line: where to send (c= of the section, else of the session), its direction and
// its formats (static PTs 0/8 and telephone-event). nullopt when there is none, it is not RTP/AVP, has no c= or a
// malformed a=rtcp.
struct GenesysMedia {
  std::string address;
  uint16_t port = 0;  // 0: stream rejected
  // RFC 3605 a=rtcp: RTCP port (0: port + 1) and address (empty: `address`).
  uint16_t rtcpPort = 0;
  std::string rtcpAddress;
  // c=0.0.0.0 (or ::): RFC 3264 §8.4's old hold, no destination.
  bool nullAddress() const;
  sdp::Direction direction = sdp::Direction::SendRecv;
  OfferedCodecs codecs;
};
std::optional<GenesysMedia> readGenesysSdp(const std::string& text);
// RFC 3264 §6.1: the answer's direction for an offered one: sendonly → recvonly, recvonly → sendonly, inactive →
// inactive, sendrecv → sendrecv.
sdp::Direction mirrorDirection(sdp::Direction offered);
// The same for a Genesys offer, where a c=0.0.0.0 hold (RFC 2543 style) is answered inactive.
sdp::Direction answerDirection(const GenesysMedia& offer);

}  // namespace rtcgate::session

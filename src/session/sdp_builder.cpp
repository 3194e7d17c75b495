// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/sdp_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "rtcgate/core/address.h"

namespace rtcgate::session {
namespace {

sdp::SessionDescription skeleton(uint64_t sessionId, uint64_t version) {
  sdp::SessionDescription sd;
  sd.origin.username = "rtcgate";
  sd.origin.sessionId = std::to_string(sessionId);
  sd.origin.sessionVersion = std::to_string(version);
  sd.sessionName = "-";
  return sd;
}

void addCodec(sdp::MediaDescription& m, codec::CodecId id, uint8_t pt) {
  m.formats.push_back(std::to_string(pt));
  switch (id) {
    case codec::CodecId::Opus:
      m.attributes.add("rtpmap", fmt::format("{} opus/48000/2", pt));
      // RFC 7587 §6.1: in-band FEC helps the transcoder conceal browser-side loss.
      m.attributes.add("fmtp", fmt::format("{} minptime=10;useinbandfec=1", pt));
      break;
    case codec::CodecId::Pcmu: m.attributes.add("rtpmap", fmt::format("{} PCMU/8000", pt)); break;
    case codec::CodecId::Pcma: m.attributes.add("rtpmap", fmt::format("{} PCMA/8000", pt)); break;
  }
}

// `events`: the RFC 4733 event list (our offers: 0-16; answers: what the offer listed, at most 0-16).
void addTelephoneEvent(sdp::MediaDescription& m, uint8_t pt, uint32_t rate,
                       std::string_view events = kTelephoneEventsOffered) {
  m.formats.push_back(std::to_string(pt));
  m.attributes.add("rtpmap", fmt::format("{} telephone-event/{}", pt, rate));
  if (!events.empty()) m.attributes.add("fmtp", fmt::format("{} {}", pt, events));
}

// Browsers ignore m=/c= for ICE, but RFC 8839 §4.2.1.1 wants the default candidate there.
void setDefaultCandidate(sdp::MediaDescription& m, const sdp::TransportParams& t) {
  m.connection = sdp::Connection{};
  m.port = 9;
  for (const auto& c : t.candidates) {
    if (c.component != 1 || !c.hasIpAddress()) continue;
    m.port = c.port;
    m.connection = sdp::connectionTo(c.address);
    break;
  }
}

std::string finish(sdp::SessionDescription sd, sdp::MediaDescription m, const sdp::TransportParams& t) {
  setDefaultCandidate(m, t);
  m.proto = "UDP/TLS/RTP/SAVPF";
  sdp::applyTransport(m, t);
  sd.attributes.add("group", "BUNDLE " + t.mid);
  sd.attributes.add("msid-semantic", " WMS");
  sd.media.push_back(std::move(m));
  return sdp::write(sd);
}

// The m-line's payload types with what its rtpmaps say of them (static ones may have none).
std::vector<PayloadFormat> formatsOf(const sdp::MediaDescription& m) {
  std::vector<PayloadFormat> formats;
  auto maps = m.rtpMaps();
  for (int pt : m.payloadTypes()) {
    PayloadFormat pf;
    pf.payloadType = static_cast<uint8_t>(pt);
    for (const auto& r : maps)
      if (r.payloadType == pt) {
        pf.encoding = r.encoding;
        pf.clockRate = r.clockRate;
        pf.channels = r.channels;
      }
    formats.push_back(pf);
  }
  return formats;
}

// classify() of the m-line, with the event lists (a=fmtp) of its telephone-event payload types.
OfferedCodecs classifyMedia(const sdp::MediaDescription& m) {
  auto codecs = classify(formatsOf(m));
  for (const auto& [rate, pt] : codecs.telephoneEvents)
    codecs.telephoneEventLists.emplace_back(pt, m.fmtp(pt).value_or(""));
  return codecs;
}

}  // namespace

std::optional<BrowserMedia> readBrowserSdp(const std::string& text, std::string* error) {
  BrowserMedia out;
  try {
    out.description = sdp::parse(text);
  } catch (const sdp::SdpError& e) {
    if (error) *error = fmt::format("SDP line {}: {}", e.line(), e.what());
    return std::nullopt;
  }
  bool found = false;
  for (size_t i = 0; i < out.description.media.size(); ++i) {
    const auto& m = out.description.media[i];
    if (m.media == "audio" && m.port != 0) {
      out.audioIndex = i;
      found = true;
      break;
    }
  }
  if (!found) {
    if (error) *error = "no audio m-line";
    return std::nullopt;
  }
  out.codecs = classifyMedia(out.description.media[out.audioIndex]);
  out.transport = sdp::transportOf(out.description, out.audioIndex);
  if (out.transport.mid.empty()) out.transport.mid = "0";
  return out;
}

std::string browserOffer(const std::vector<codec::CodecId>& preference, const sdp::TransportParams& transport,
                         uint64_t sessionId, uint64_t version) {
  auto sd = skeleton(sessionId, version);
  sdp::MediaDescription m;
  m.media = "audio";
  for (auto id : preference)
    addCodec(m, id, id == codec::CodecId::Opus ? kOpusPt : (id == codec::CodecId::Pcmu ? 0 : 8));
  // RFC 4733 §7.1.1: telephone-event runs at the clock of the audio codec in use, which the browser takes from the
  // head of this list. Only that one rate is offered: libwebrtc (Chrome, Edge, Safari) matches the telephone-event
  // rate to its send codec only for codecs that allow comfort noise (G.711, not Opus; WebRtcVoiceSendChannel::
  // SetSendCodecs), otherwise it sends on the lowest rate negotiated. Offered Opus with both rates, Chrome answered
  // both and sent its digits on telephone-event/8000 while counting their durations on Opus's 48 kHz clock
  // (a 100 ms tone: three end packets after 20 ms), which the bridge, expecting the 48 kHz PT, dropped (issue 13).
  if (!preference.empty()) {
    if (preference.front() == codec::CodecId::Opus) addTelephoneEvent(m, kTelephoneEvent48kPt, 48000);
    else addTelephoneEvent(m, kTelephoneEvent8kPt, 8000);
  }
  return finish(std::move(sd), std::move(m), transport);
}

std::string browserAnswer(const BrowserMedia& offer, codec::CodecId chosen, uint8_t chosenPt,
                          const sdp::TransportParams& transport, uint64_t sessionId, uint64_t version,
                          sdp::Direction direction) {
  auto sd = skeleton(sessionId, version);
  sdp::MediaDescription m;
  m.media = "audio";
  addCodec(m, chosen, chosenPt);
  if (auto te = pickTelephoneEvent(offer.codecs, codec::rtpClockRate(chosen)))
    addTelephoneEvent(m, *te, codec::rtpClockRate(chosen), answerTelephoneEvents(offer.codecs, *te));
  auto t = transport;
  t.mid = offer.transport.mid;
  t.direction = direction;
  return finish(std::move(sd), std::move(m), t);
}

std::string genesysSdp(const std::string& address, uint16_t port,
                       const std::vector<std::pair<codec::CodecId, uint8_t>>& codecs,
                       std::optional<uint8_t> telephoneEventPt, uint64_t sessionId, uint64_t version,
                       sdp::Direction direction, std::string_view telephoneEvents) {
  auto sd = skeleton(sessionId, version);
  sd.sessionName = "rtcgate";
  sd.connection = sdp::connectionTo(address);
  sd.origin.addrType = sd.connection->addrType;
  sd.origin.address = address;
  sdp::MediaDescription m;
  m.media = "audio";
  m.port = port;
  m.proto = "RTP/AVP";
  for (const auto& [id, pt] : codecs) addCodec(m, id, pt);
  if (telephoneEventPt) addTelephoneEvent(m, *telephoneEventPt, 8000, telephoneEvents);
  m.attributes.add("ptime", "20");
  m.attributes.add(sdp::toString(direction));
  sd.media.push_back(std::move(m));
  return sdp::write(sd);
}

sdp::Direction mirrorDirection(sdp::Direction offered) {
  switch (offered) {
    case sdp::Direction::SendOnly: return sdp::Direction::RecvOnly;
    case sdp::Direction::RecvOnly: return sdp::Direction::SendOnly;
    case sdp::Direction::Inactive: return sdp::Direction::Inactive;
    case sdp::Direction::SendRecv: break;
  }
  return sdp::Direction::SendRecv;
}

bool GenesysMedia::nullAddress() const {
  auto a = IpAddress::parse(address);
  return a && a->isUnspecified();
}

sdp::Direction answerDirection(const GenesysMedia& offer) {
  // RFC 3264 §8.4: the old-style hold puts 0.0.0.0 in c=.
  if (offer.nullAddress()) return sdp::Direction::Inactive;
  return mirrorDirection(offer.direction);
}

std::optional<GenesysMedia> readGenesysSdp(const std::string& text) {
  constexpr size_t kMaxFormats = 32;  // a bound on what we classify from a trunk's offer
  sdp::SessionDescription sd;
  try {
    sd = sdp::parse(text);
  } catch (const sdp::SdpError&) {
    return std::nullopt;
  }
  auto audio = std::find_if(sd.media.begin(), sd.media.end(), [](const auto& m) { return m.media == "audio"; });
  if (audio == sd.media.end() || audio->proto != "RTP/AVP") return std::nullopt;
  auto index = static_cast<size_t>(audio - sd.media.begin());
  const auto* connection = sdp::connectionOf(sd, index);
  if (connection == nullptr || connection->netType != "IN" || connection->address.empty()) return std::nullopt;
  if (audio->payloadTypes().size() != audio->formats.size() || audio->formats.size() > kMaxFormats) return std::nullopt;

  GenesysMedia g;
  g.address = connection->address;
  g.port = audio->port;
  if (auto rtcp = audio->attributes.value("rtcp")) {
    // RFC 3605 §2.1: "a=rtcp:" port [nettype space addrtype space connection-address]
    std::string_view v = *rtcp;
    const auto space = v.find(' ');
    const auto digits = v.substr(0, space);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535)
      return std::nullopt;
    g.rtcpPort = static_cast<uint16_t>(port);
    if (space != std::string_view::npos) {
      auto rest = v.substr(space + 1);
      if (rest.rfind("IN IP4 ", 0) != 0 && rest.rfind("IN IP6 ", 0) != 0) return std::nullopt;
      g.rtcpAddress = std::string(rest.substr(7));
    }
  }
  g.direction = sdp::directionOf(sd, index);
  g.codecs = classifyMedia(*audio);
  return g;
}

}  // namespace rtcgate::session

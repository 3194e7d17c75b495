// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/sdp_builder.h"

#include <fmt/format.h>

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

void addTelephoneEvent(sdp::MediaDescription& m, uint8_t pt, uint32_t rate) {
  m.formats.push_back(std::to_string(pt));
  m.attributes.add("rtpmap", fmt::format("{} telephone-event/{}", pt, rate));
  m.attributes.add("fmtp", fmt::format("{} 0-16", pt));
}

// Browsers ignore m=/c= for ICE, but RFC 8839 §4.2.1.1 wants the default candidate there.
void setDefaultCandidate(sdp::MediaDescription& m, const sdp::TransportParams& t) {
  m.connection = sdp::Connection{};
  m.port = 9;
  for (const auto& c : t.candidates) {
    if (c.component != 1 || !c.hasIpAddress()) continue;
    m.port = c.port;
    m.connection->address = c.address;
    m.connection->addrType = c.address.find(':') != std::string::npos ? "IP6" : "IP4";
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
  const auto& m = out.description.media[out.audioIndex];
  std::vector<PayloadFormat> formats;
  auto maps = m.rtpMaps();
  for (const auto& f : m.formats) {
    PayloadFormat pf;
    try {
      pf.payloadType = static_cast<uint8_t>(std::stoi(f));
    } catch (const std::exception&) {
      continue;
    }
    for (const auto& r : maps)
      if (r.payloadType == pf.payloadType) {
        pf.encoding = r.encoding;
        pf.clockRate = r.clockRate;
        pf.channels = r.channels;
      }
    formats.push_back(pf);
  }
  out.codecs = classify(formats);
  out.transport = sdp::transportOf(out.description, out.audioIndex);
  if (out.transport.mid.empty()) out.transport.mid = "0";
  return out;
}

std::string browserOffer(const std::vector<codec::CodecId>& preference, const sdp::TransportParams& transport,
                         uint64_t sessionId, uint64_t version) {
  auto sd = skeleton(sessionId, version);
  sdp::MediaDescription m;
  m.media = "audio";
  bool opus = false;
  for (auto id : preference) {
    addCodec(m, id, id == codec::CodecId::Opus ? kOpusPt : (id == codec::CodecId::Pcmu ? 0 : 8));
    opus = opus || id == codec::CodecId::Opus;
  }
  // RFC 4733 §7.1.1: telephone-event's rate must match the audio codec in use, so offer both rates.
  if (opus) addTelephoneEvent(m, kTelephoneEvent48kPt, 48000);
  addTelephoneEvent(m, kTelephoneEvent8kPt, 8000);
  return finish(std::move(sd), std::move(m), transport);
}

std::string browserAnswer(const BrowserMedia& offer, codec::CodecId chosen, uint8_t chosenPt,
                          const sdp::TransportParams& transport, uint64_t sessionId, uint64_t version) {
  auto sd = skeleton(sessionId, version);
  sdp::MediaDescription m;
  m.media = "audio";
  addCodec(m, chosen, chosenPt);
  if (auto te = pickTelephoneEvent(offer.codecs, codec::rtpClockRate(chosen)))
    addTelephoneEvent(m, *te, codec::rtpClockRate(chosen));
  auto t = transport;
  t.mid = offer.transport.mid;
  return finish(std::move(sd), std::move(m), t);
}

std::string genesysSdp(const std::string& address, uint16_t port,
                       const std::vector<std::pair<codec::CodecId, uint8_t>>& codecs,
                       std::optional<uint8_t> telephoneEventPt, uint64_t sessionId, uint64_t version,
                       const std::string& direction) {
  media::PlainSdp p;
  p.direction = direction;
  p.address = address;
  p.port = port;
  for (const auto& [id, pt] : codecs) p.payloadTypes.push_back(pt);
  p.telephoneEventPt = telephoneEventPt ? *telephoneEventPt : -1;
  p.sessionId = sessionId;
  p.sessionVersion = version;
  return media::buildPlainSdp(p);
}

std::string answerDirection(const media::PlainSdp& offer) {
  // RFC 3264 §8.4: the old-style hold puts 0.0.0.0 in c=.
  if (offer.address == "0.0.0.0" || offer.direction == "inactive") return "inactive";
  if (offer.direction == "sendonly") return "recvonly";
  if (offer.direction == "recvonly") return "sendonly";
  return "sendrecv";
}

std::optional<GenesysMedia> readGenesysSdp(const std::string& text) {
  auto plain = media::parsePlainSdp(text);
  if (!plain) return std::nullopt;
  GenesysMedia g;
  g.plain = *plain;
  std::vector<PayloadFormat> formats;
  for (int pt : plain->payloadTypes)
    if (pt >= 0 && pt < 128) formats.push_back({static_cast<uint8_t>(pt), "", 0, 1});
  if (plain->telephoneEventPt >= 0)
    formats.push_back({static_cast<uint8_t>(plain->telephoneEventPt), "telephone-event", 8000, 1});
  g.codecs = classify(formats);
  return g;
}

}  // namespace rtcgate::session

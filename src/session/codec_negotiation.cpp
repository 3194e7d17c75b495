// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/codec_negotiation.h"

#include <algorithm>
#include <cctype>

namespace rtcgate::session {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

OfferedCodecs classify(const std::vector<PayloadFormat>& formats) {
  OfferedCodecs out;
  for (const auto& f : formats) {
    auto enc = lower(f.encoding);
    // Static payload types may come without an rtpmap (RFC 3551 table 4).
    if (enc.empty() && f.payloadType == 0) enc = "pcmu";
    if (enc.empty() && f.payloadType == 8) enc = "pcma";
    if (enc == "pcmu" && (f.clockRate == 0 || f.clockRate == 8000)) {
      out.audio.emplace_back(codec::CodecId::Pcmu, f.payloadType);
    } else if (enc == "pcma" && (f.clockRate == 0 || f.clockRate == 8000)) {
      out.audio.emplace_back(codec::CodecId::Pcma, f.payloadType);
    } else if (enc == "opus" && f.clockRate == 48000 && f.channels == 2) {
      // RFC 7587 §7: Opus is always signalled as opus/48000/2.
      out.audio.emplace_back(codec::CodecId::Opus, f.payloadType);
    } else if (enc == "telephone-event" && f.clockRate != 0) {
      out.telephoneEvents.emplace_back(f.clockRate, f.payloadType);
    }
  }
  return out;
}

std::optional<std::pair<codec::CodecId, uint8_t>> pickCodec(const OfferedCodecs& offered,
                                                            const std::vector<codec::CodecId>& preference) {
  for (auto want : preference)
    for (const auto& [id, pt] : offered.audio)
      if (id == want) return std::make_pair(id, pt);
  return std::nullopt;
}

std::optional<uint8_t> pickTelephoneEvent(const OfferedCodecs& offered, uint32_t clockRate) {
  for (const auto& [rate, pt] : offered.telephoneEvents)
    if (rate == clockRate) return pt;
  return std::nullopt;
}

std::optional<std::pair<codec::CodecId, uint8_t>> pickAnswerCodec(const OfferedCodecs& offered,
                                                                  std::optional<codec::CodecId> current,
                                                                  const std::vector<codec::CodecId>& preference) {
  if (current)
    if (auto same = pickCodec(offered, {*current})) return same;
  return pickCodec(offered, preference);
}

std::optional<std::pair<codec::CodecId, uint8_t>> pickBrowserCodec(const OfferedCodecs& browserOffer,
                                                                   codec::CodecId upstreamCodec, bool passthrough,
                                                                   const std::vector<codec::CodecId>& preference) {
  if (passthrough) {
    const auto other = upstreamCodec == codec::CodecId::Pcmu ? codec::CodecId::Pcma : codec::CodecId::Pcmu;
    if (auto same = pickCodec(browserOffer, {upstreamCodec})) return same;
    if (upstreamCodec != codec::CodecId::Opus)
      if (auto law = pickCodec(browserOffer, {other})) return law;
  }
  return pickCodec(browserOffer, preference);
}

std::vector<codec::CodecId> codecIds(const std::vector<std::string>& names) {
  std::vector<codec::CodecId> out;
  for (const auto& n : names)
    if (auto id = codec::parseCodecName(n)) out.push_back(*id);
  return out;
}

}  // namespace rtcgate::session

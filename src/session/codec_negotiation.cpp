// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/codec_negotiation.h"

#include <algorithm>
#include <bitset>
#include <cctype>
#include <charconv>
#include <string_view>

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

std::string answerTelephoneEvents(const OfferedCodecs& offered, uint8_t pt) {
  constexpr unsigned kMaxEvent = 16;  // what rtcgate handles: DTMF 0-15 and flash
  std::string_view list = "0-15";    // RFC 4733 §2.4.1: no fmtp means 0-15
  for (const auto& [p, events] : offered.telephoneEventLists)
    if (p == pt && !events.empty()) list = events;
  std::bitset<kMaxEvent + 1> common;
  auto number = [](std::string_view s, unsigned& v) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && ptr == s.data() + s.size() && v <= 255;
  };
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    unsigned lo = 0, hi = 0;
    auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (!number(item, lo)) continue;
      hi = lo;
    } else if (!number(item.substr(0, dash), lo) || !number(item.substr(dash + 1), hi) || hi < lo) {
      continue;
    }
    for (unsigned e = lo; e <= std::min(hi, kMaxEvent); ++e) common.set(e);
  }
  std::string out;
  for (unsigned e = 0; e <= kMaxEvent;) {
    if (!common.test(e)) {
      ++e;
      continue;
    }
    unsigned end = e;
    while (end + 1 <= kMaxEvent && common.test(end + 1)) ++end;
    if (!out.empty()) out += ',';
    out += std::to_string(e);
    if (end > e) out += '-' + std::to_string(end);
    e = end + 1;
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

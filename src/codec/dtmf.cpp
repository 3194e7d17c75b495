// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/dtmf.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace rtcgate::codec {

namespace {
constexpr std::string_view kDigits = "0123456789*#ABCD";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

uint16_t clampDtmfDurationMs(uint32_t ms) {
  return static_cast<uint16_t>(
      std::clamp<uint32_t>(ms, kDtmfMinDurationMs, kDtmfMaxDurationMs));
}

std::optional<uint8_t> dtmfEventCode(char digit) {
  auto pos = kDigits.find(static_cast<char>(std::toupper(static_cast<unsigned char>(digit))));
  if (pos == std::string_view::npos) return std::nullopt;
  return static_cast<uint8_t>(pos);
}

std::optional<char> dtmfDigit(uint8_t code) {
  if (code >= kDigits.size()) return std::nullopt;
  return kDigits[code];
}

std::optional<TelephoneEvent> parseTelephoneEvent(std::span<const uint8_t> p) {
  if (p.size() < 4) return std::nullopt;
  TelephoneEvent ev;
  ev.event = p[0];
  ev.end = (p[1] & 0x80) != 0;
  ev.volume = p[1] & 0x3f;
  ev.duration = static_cast<uint16_t>(p[2] << 8 | p[3]);
  return ev;
}

void writeTelephoneEvent(const TelephoneEvent& ev, std::span<uint8_t, 4> out) {
  out[0] = ev.event;
  out[1] = static_cast<uint8_t>((ev.end ? 0x80 : 0) | (ev.volume & 0x3f));
  out[2] = static_cast<uint8_t>(ev.duration >> 8);
  out[3] = static_cast<uint8_t>(ev.duration);
}

DtmfDigitEvent DtmfReceiver::finish() const {
  DtmfDigitEvent out;
  out.digit = dtmfDigit(lastEvent_).value_or('\0');
  out.durationMs = clampDtmfDurationMs(static_cast<uint32_t>(uint64_t{lastDuration_} * 1000 / clockRateHz_));
  return out;
}

DtmfReceiver::Result DtmfReceiver::onPacket(uint32_t ts, std::span<const uint8_t> payload) {
  Result r;
  auto ev = parseTelephoneEvent(payload);
  if (!ev) return r;
  if (haveLast_ && ts == lastTimestamp_) {
    // An update or a retransmitted end packet of the current event.
    if (lastEnded_) return r;
    lastDuration_ = std::max(lastDuration_, ev->duration);
    if (ev->end) {
      lastEnded_ = true;
      if (dtmfDigit(lastEvent_)) r.ended = finish();
    }
    return r;
  }
  if (haveLast_ && !lastEnded_ && dtmfDigit(lastEvent_)) r.abandoned = finish();
  haveLast_ = true;
  lastTimestamp_ = ts;
  lastEvent_ = ev->event;
  lastDuration_ = ev->duration;
  lastEnded_ = ev->end;
  r.started = dtmfDigit(ev->event);
  if (ev->end && r.started) r.ended = finish();
  return r;
}

DtmfSender::DtmfSender(char digit, uint16_t durationMs, uint32_t clockRateHz)
    : ticksPer20ms_(clockRateHz / 50),
      totalDuration_(uint32_t{clampDtmfDurationMs(durationMs)} * (clockRateHz / 1000)),
      updates_((uint32_t{clampDtmfDurationMs(durationMs)} + 19) / 20),
      totalPackets_(updates_ + 2) {
  if (auto code = dtmfEventCode(digit)) {
    valid_ = true;
    event_ = *code;
  }
  // Durations are 16-bit (§2.3.5): long events would need segments; 5000 ms at 8 kHz is 40000 and fits, but at
  // 48 kHz it would not, so clamp at the field's maximum instead.
  totalDuration_ = std::min<uint32_t>(totalDuration_, 0xffff);
}

TelephoneEvent DtmfSender::next(bool& marker) {
  TelephoneEvent ev;
  ev.event = event_;
  marker = sent_ == 0;
  if (sent_ + 1 < updates_) {
    ev.duration = static_cast<uint16_t>(std::min(totalDuration_, (sent_ + 1) * ticksPer20ms_));
  } else {
    ev.duration = static_cast<uint16_t>(totalDuration_);
    ev.end = true;
  }
  ++sent_;
  return ev;
}

std::optional<InfoDtmf> parseInfoDtmf(std::string_view contentType, std::string_view body) {
  auto semi = contentType.find(';');
  auto type = trim(contentType.substr(0, semi));
  InfoDtmf out{'\0', 100};
  if (iequals(type, "application/dtmf")) {
    auto d = trim(body);
    if (d.size() != 1 || !dtmfEventCode(d[0])) return std::nullopt;
    out.digit = static_cast<char>(std::toupper(static_cast<unsigned char>(d[0])));
    return out;
  }
  if (!iequals(type, "application/dtmf-relay")) return std::nullopt;
  bool haveSignal = false;
  while (!body.empty()) {
    auto nl = body.find('\n');
    auto line = trim(body.substr(0, nl));
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    if (iequals(key, "Signal")) {
      if (value.size() != 1 || !dtmfEventCode(value[0])) return std::nullopt;
      out.digit = static_cast<char>(std::toupper(static_cast<unsigned char>(value[0])));
      haveSignal = true;
    } else if (iequals(key, "Duration")) {
      unsigned v = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec == std::errc() && ptr == value.data() + value.size()) out.durationMs = clampDtmfDurationMs(v);
    }
  }
  if (!haveSignal) return std::nullopt;
  return out;
}

std::string formatDtmfRelay(char digit, uint16_t durationMs) {
  return "Signal=" + std::string(1, digit) + "\r\nDuration=" + std::to_string(durationMs) + "\r\n";
}

}  // namespace rtcgate::codec

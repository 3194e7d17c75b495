// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rtcgate::codec {

// DTMF interworking pieces: RFC 4733 telephone-event payloads on RTP, and the SIP INFO bodies JsSIP and SIP.js
// send (application/dtmf-relay "Signal=5\r\nDuration=100"; application/dtmf "5").

// The range of digit durations the gateway sends and reports (INFO bodies, RFC 4733 events of either leg): shorter
// ones are too short for IVR detectors, longer ones are stuck keys.
inline constexpr uint16_t kDtmfMinDurationMs = 40;
inline constexpr uint16_t kDtmfMaxDurationMs = 5000;
uint16_t clampDtmfDurationMs(uint32_t ms);

// '0'-'9', '*', '#', 'A'-'D' ⇄ RFC 4733 §3.2 event codes 0-15. Returns nullopt for anything else.
std::optional<uint8_t> dtmfEventCode(char digit);
std::optional<char> dtmfDigit(uint8_t eventCode);

struct TelephoneEvent {
  uint8_t event = 0;
  bool end = false;
  uint8_t volume = 10;     // -dBm0, 0..63
  uint16_t duration = 0;   // in RTP timestamp units
};

// RFC 4733 §2.3 payload: exactly 4 bytes per event (redundant events in one packet are not used by browsers or
// Genesys; only the first is read).
std::optional<TelephoneEvent> parseTelephoneEvent(std::span<const uint8_t> payload);
void writeTelephoneEvent(const TelephoneEvent& ev, std::span<uint8_t, 4> out);

struct DtmfDigitEvent {
  char digit = '\0';
  uint16_t durationMs = 0;  // clamped to kDtmfMinDurationMs..kDtmfMaxDurationMs
};

// Turns the stream of telephone-event packets of one direction into digits, once each: an event is identified by
// its RTP timestamp (RFC 4733 §2.5.1.3: all packets of one event share it), so retransmitted end packets and
// updates do not repeat the digit. Each digit is reported twice: when it starts (first packet, for logs) and when
// it ends (first packet with the E bit), with its duration converted from timestamp units to ms. An event whose
// end packets were all lost is ended by the next event, with the last duration seen. Thread: owning media worker.
class DtmfReceiver {
public:
  explicit DtmfReceiver(uint32_t clockRateHz = 8000) : clockRateHz_(clockRateHz ? clockRateHz : 8000) {}
  void setClockRate(uint32_t clockRateHz) { clockRateHz_ = clockRateHz ? clockRateHz : 8000; }
  struct Result {
    std::optional<char> started;              // this packet starts a new event
    std::optional<DtmfDigitEvent> abandoned;  // the previous event, never ended, superseded by this one
    std::optional<DtmfDigitEvent> ended;      // this packet ends the current event (E bit, first time)
  };
  Result onPacket(uint32_t rtpTimestamp, std::span<const uint8_t> payload);

private:
  DtmfDigitEvent finish() const;
  uint32_t clockRateHz_;
  bool haveLast_ = false;
  bool lastEnded_ = false;
  uint32_t lastTimestamp_ = 0;
  uint8_t lastEvent_ = 0;
  uint16_t lastDuration_ = 0;  // timestamp units
};

// Produces the RFC 4733 packets of one digit: one every 20 ms while it lasts, then the end packet three times
// (§2.5.1.4). Thread: owning media worker.
class DtmfSender {
public:
  DtmfSender(char digit, uint16_t durationMs, uint32_t clockRateHz);
  bool valid() const { return valid_; }
  bool done() const { return sent_ >= totalPackets_; }
  // The next packet's payload; `marker` is true on the first one (§2.5.1.1). Call every 20 ms until done().
  TelephoneEvent next(bool& marker);

private:
  bool valid_ = false;
  uint8_t event_ = 0;
  uint32_t ticksPer20ms_;
  uint32_t totalDuration_;
  uint32_t updates_;
  uint32_t totalPackets_;
  uint32_t sent_ = 0;
};

struct InfoDtmf {
  char digit;
  uint16_t durationMs;
};
// Parses an INFO body by its Content-Type. Durations are clamped to kDtmfMinDurationMs..kDtmfMaxDurationMs;
// default 100 ms.
std::optional<InfoDtmf> parseInfoDtmf(std::string_view contentType, std::string_view body);
// application/dtmf-relay body for sending a digit to a browser (JsSIP reports it as newDTMF).
std::string formatDtmfRelay(char digit, uint16_t durationMs);

}  // namespace rtcgate::codec

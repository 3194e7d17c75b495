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

// Turns the stream of telephone-event packets of one direction into digits, once each: an event is identified by
// its RTP timestamp (RFC 4733 §2.5.1.3: all packets of one event share it), so retransmitted end packets and
// updates do not repeat the digit. Thread: owning media worker.
class DtmfReceiver {
public:
  // Returns the digit when this packet starts a new event (reported at its first packet for low latency).
  std::optional<char> onPacket(uint32_t rtpTimestamp, std::span<const uint8_t> payload);

private:
  bool haveLast_ = false;
  uint32_t lastTimestamp_ = 0;
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
// Parses an INFO body by its Content-Type. Durations are clamped to 40..2000 ms; default 100 ms.
std::optional<InfoDtmf> parseInfoDtmf(std::string_view contentType, std::string_view body);
// application/dtmf-relay body for sending a digit to a browser (JsSIP reports it as newDTMF).
std::string formatDtmfRelay(char digit, uint16_t durationMs);

}  // namespace rtcgate::codec

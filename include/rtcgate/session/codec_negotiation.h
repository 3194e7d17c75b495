// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/codec/audio_codec.h"
#include "rtcgate/codec/media_bridge.h"

namespace rtcgate::session {

// One payload format of an m-line as offered or answered: an rtpmap entry, or a static payload type (0 PCMU,
// 8 PCMA) without one (RFC 3551 §6).
struct PayloadFormat {
  uint8_t payloadType = 0;
  std::string encoding;  // as written (case-insensitive)
  uint32_t clockRate = 0;
  uint32_t channels = 1;
};

// The audio codecs rtcgate speaks, found in an offer, with the offerer's payload types (an answer must reuse them,
// RFC 3264 §6.1).
struct OfferedCodecs {
  std::vector<std::pair<codec::CodecId, uint8_t>> audio;  // in the offer's order
  // telephone-event payload types by clock rate (Chrome offers 126 @ 8000 and 110 @ 48000).
  std::vector<std::pair<uint32_t, uint8_t>> telephoneEvents;
  // telephone-event payload type → its a=fmtp event list as offered ("0-15"; empty when there was no fmtp).
  std::vector<std::pair<uint8_t, std::string>> telephoneEventLists;
};

OfferedCodecs classify(const std::vector<PayloadFormat>& formats);

// The events rtcgate lists for its own telephone-event offers: DTMF 0-15 and flash 16 (RFC 4733 §3.2).
inline constexpr const char* kTelephoneEventsOffered = "0-16";
// The event list of an answer for the offered telephone-event `pt`: the offer's list (RFC 4733 §2.4.1: no fmtp
// means 0-15) intersected with what rtcgate handles (0-16), as a comma-separated list of ranges. An answer must not
// claim events the offerer did not list. Empty when nothing is in common.
std::string answerTelephoneEvents(const OfferedCodecs& offered, uint8_t pt);

// First codec of `preference` present in `offered`, with the offerer's payload type.
std::optional<std::pair<codec::CodecId, uint8_t>> pickCodec(const OfferedCodecs& offered,
                                                            const std::vector<codec::CodecId>& preference);
// telephone-event at `clockRate` (RFC 4733 §7.1.1: its rate must match the audio codec's).
std::optional<uint8_t> pickTelephoneEvent(const OfferedCodecs& offered, uint32_t clockRate);

// The codec of our answer to a re-offer: the codec in use when the offer still has it (no needless switch), else
// the first of `preference` it offers (PCMU → PCMA when Genesys re-offers PCMA only). Only ever an offered codec,
// with the offerer's payload type; nullopt when the offer has none of ours (488).
std::optional<std::pair<codec::CodecId, uint8_t>> pickAnswerCodec(const OfferedCodecs& offered,
                                                                  std::optional<codec::CodecId> current,
                                                                  const std::vector<codec::CodecId>& preference);

// The browser leg's codec once Genesys's codec is known: G.711 passthrough when `passthrough` is allowed and the
// browser offered a G.711 law (the same law preferred, then the other law byte-mapped), else the first browser
// preference the browser offered (transcoding).
std::optional<std::pair<codec::CodecId, uint8_t>> pickBrowserCodec(const OfferedCodecs& browserOffer,
                                                                   codec::CodecId upstreamCodec, bool passthrough,
                                                                   const std::vector<codec::CodecId>& preference);

// Config codec names ("opus", "pcmu", "pcma") to ids; unknown names were refused by the config loader.
std::vector<codec::CodecId> codecIds(const std::vector<std::string>& names);

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
// Target (c), browser variant: an SDP offer or answer from JsSIP/SIP.js (Chrome, Firefox) through the project's
// SDP model (parse, write, re-parse), the ICE/DTLS transport reader and the browser leg's offer/answer code.
// Invariants: what the model writes parses again, and so does every answer rtcgate builds from an accepted offer.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_support.h"
#include "rtcgate/sdp/ice_candidate.h"
#include "rtcgate/sdp/session_description.h"
#include "rtcgate/session/sdp_builder.h"

namespace {

using namespace rtcgate;

void mustParse(const std::string& text) {
  try {
    (void)sdp::parse(text);
  } catch (const sdp::SdpError& e) {
    std::fprintf(stderr, "rtcgate wrote SDP it cannot read back (%s):\n%s\n", e.what(), text.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::silenceLogs();
  const std::string text(fuzz::asText(data, size));
  try {
    auto sd = sdp::parse(text);
    mustParse(sdp::write(sd));
    for (size_t i = 0; i < sd.media.size(); ++i) {
      (void)sdp::connectionOf(sd, i);
      (void)sdp::directionOf(sd, i);
      auto transport = sdp::transportOf(sd, i);
      for (const auto& c : transport.candidates)
        if (!sdp::parseCandidate(sdp::formatCandidate(c))) std::abort();  // a kept candidate must round-trip
    }
  } catch (const sdp::SdpError&) {
  }

  std::string error;
  auto offer = session::readBrowserSdp(text, &error);
  if (!offer) return 0;
  const std::vector<codec::CodecId> preference{codec::CodecId::Opus, codec::CodecId::Pcmu, codec::CodecId::Pcma};
  auto chosen = session::pickCodec(offer->codecs, preference);
  if (!chosen) return 0;
  auto direction = session::mirrorDirection(offer->transport.direction);
  mustParse(session::browserAnswer(*offer, chosen->first, chosen->second, offer->transport, 1, 2, direction));
  return 0;
}

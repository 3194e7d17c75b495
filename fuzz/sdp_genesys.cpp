// SPDX-License-Identifier: Apache-2.0
// Target (c), Genesys variant: an SDP offer or answer from SIP Server (plain RTP/AVP, G.711, telephone-event)
// through the Genesys leg's reader and the answer rtcgate builds for it. Invariant: that answer parses.
#include <cstdlib>
#include <string>

#include "fuzz_support.h"
#include "rtcgate/sdp/session_description.h"
#include "rtcgate/session/sdp_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rtcgate;
  fuzz::silenceLogs();
  auto media = session::readGenesysSdp(std::string(fuzz::asText(data, size)));
  if (!media) return 0;
  auto chosen = session::pickCodec(media->codecs, {codec::CodecId::Pcmu, codec::CodecId::Pcma});
  if (!chosen) return 0;
  std::optional<uint8_t> dtmfPt = session::pickTelephoneEvent(media->codecs, 8000);
  std::string events = dtmfPt ? session::answerTelephoneEvents(media->codecs, *dtmfPt) : std::string();
  auto answer = session::genesysSdp("192.0.2.1", 20000, {*chosen}, dtmfPt, 1, 2, session::answerDirection(*media),
                                    events);
  try {
    (void)sdp::parse(answer);
  } catch (const sdp::SdpError&) {
    std::abort();  // rtcgate wrote SDP that it cannot read back
  }
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
// Target (g): DTMF as it arrives. The input's first line is a Content-Type and the rest an INFO body from the
// browser (application/dtmf-relay from JsSIP, application/dtmf from SIP.js), through parseInfoDtmf; the same bytes
// are then read as RFC 4733 packets, 8 bytes each (a 4-byte RTP timestamp, a 4-byte telephone-event payload),
// through parseTelephoneEvent and the DtmfReceiver that turns them into digits.
#include <cstdlib>
#include <string>

#include "fuzz_support.h"
#include "rtcgate/codec/dtmf.h"
#include "rtcgate/media/rtp/rtp_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rtcgate;
  fuzz::silenceLogs();
  auto text = fuzz::asText(data, size);
  auto eol = text.find('\n');
  std::string_view contentType = eol == std::string_view::npos ? text : text.substr(0, eol);
  std::string_view body = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  if (auto info = codec::parseInfoDtmf(contentType, body)) {
    if (info->durationMs < codec::kDtmfMinDurationMs || info->durationMs > codec::kDtmfMaxDurationMs) std::abort();
    // What rtcgate sends back to a browser for that digit must read back as the same digit.
    auto relay = codec::formatDtmfRelay(info->digit, info->durationMs);
    auto again = codec::parseInfoDtmf("application/dtmf-relay", relay);
    if (!again || again->digit != info->digit) std::abort();
  }

  codec::DtmfReceiver receiver(8000);
  for (size_t at = 0; at + 8 <= size && at < 8 * 64; at += 8) {
    const uint32_t timestamp = media::load32(data + at);
    std::span<const uint8_t> payload(data + at + 4, 4);
    (void)codec::parseTelephoneEvent(payload);
    (void)receiver.onPacket(timestamp, payload);
  }
  return 0;
}

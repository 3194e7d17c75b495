// SPDX-License-Identifier: Apache-2.0
// Target (f): Opus from the browser through the call's media bridge (RTP parse, the Opus decoder with FEC/PLC on
// gaps, the G.711 encoder, RFC 4733 events), plus a little G.711 and telephone-event from the Genesys side.
// The input is a list of records: a control byte, a length byte, that many payload bytes. Control bits 0-1 pick
// the payload type (Opus 111, telephone-event 110/48k, an unnegotiated one), bit 2 the marker, bits 3-4 the
// sequence step (next, repeat, gap of 3, one back), bit 5 the direction (set: from Genesys, PCMU 0 or event 101).
#include <array>
#include <memory>

#include "fuzz_support.h"
#include "rtcgate/codec/media_bridge.h"
#include "rtcgate/media/rtp/rtp_packet.h"

namespace {

using namespace rtcgate;

struct Direction {
  uint16_t seq = 1000;
  uint32_t timestamp = 160000;
};

void step(Direction& d, uint8_t control, uint32_t ticks) {
  switch ((control >> 3) & 3) {
    case 0: d.seq += 1; d.timestamp += ticks; break;
    case 1: break;  // a duplicate
    case 2: d.seq += 4; d.timestamp += 4 * ticks; break;  // three packets lost
    default: d.seq -= 1; d.timestamp -= ticks; break;      // reordered
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::silenceLogs();
  EventLoop loop{"worker"};
  loop.adoptCurrentThread();
  codec::BridgeCodecs codecs;
  codecs.browserCodec = codec::CodecId::Opus;
  codecs.browserPt = 111;
  codecs.upstreamCodec = codec::CodecId::Pcmu;
  codecs.upstreamPt = 0;
  codecs.browserDtmfPt = 110;
  codecs.upstreamDtmfPt = 101;
  size_t out = 0;
  codec::MediaBridge::Sinks sinks;
  sinks.toBrowser = [&out](uint8_t*, size_t n, size_t) { out += n; };
  sinks.toUpstream = [&out](const media::RtpHeader&, std::span<const uint8_t> payload) { out += payload.size(); };
  sinks.dtmfFromBrowser = [](char, uint16_t) {};
  sinks.dtmfFromUpstream = [](char, uint16_t) {};
  codec::MediaBridge bridge(loop, codecs, config::Opus{}, 0x11111111, 0x22222222, sinks);

  Direction browser, upstream;
  std::array<uint8_t, 12 + 255> packet{};
  size_t records = 0;
  while (size >= 2 && records++ < 64) {
    const uint8_t control = data[0];
    const size_t len = std::min<size_t>(data[1], size - 2);
    const bool fromGenesys = control & 0x20;
    media::RtpHeader h;
    h.marker = control & 0x04;
    if (fromGenesys) {
      h.payloadType = (control & 3) == 1 ? 101 : (control & 3) == 2 ? 96 : 0;
      step(upstream, control, 160);
      h.sequence = upstream.seq;
      h.timestamp = upstream.timestamp;
      h.ssrc = 0x33333333;
    } else {
      h.payloadType = (control & 3) == 1 ? 110 : (control & 3) == 2 ? 96 : 111;
      step(browser, control, 960);
      h.sequence = browser.seq;
      h.timestamp = browser.timestamp;
      h.ssrc = 0x44444444;
    }
    const size_t header = media::writeRtpHeader(h, packet);
    std::copy(data + 2, data + 2 + len, packet.begin() + static_cast<std::ptrdiff_t>(header));
    if (fromGenesys) bridge.fromUpstream(packet.data(), header + len);
    else bridge.fromBrowser(packet.data(), header + len);
    data += 2 + len;
    size -= 2 + len;
  }
  return out == SIZE_MAX;  // keeps the sinks' work observable
}

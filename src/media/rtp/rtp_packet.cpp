// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/rtp_packet.h"

namespace rtcgate::media {

RtpStatus parseRtp(std::span<const uint8_t> p, RtpHeader& h) {
  if (p.size() < 12) return RtpStatus::TooShort;
  if ((p[0] >> 6) != 2) return RtpStatus::BadVersion;
  h.padding = (p[0] & 0x20) != 0;
  h.extension = (p[0] & 0x10) != 0;
  h.csrcCount = p[0] & 0x0F;
  h.marker = (p[1] & 0x80) != 0;
  h.payloadType = p[1] & 0x7F;
  h.sequence = load16(&p[2]);
  h.timestamp = load32(&p[4]);
  h.ssrc = load32(&p[8]);
  size_t size = 12 + size_t{h.csrcCount} * 4;
  if (p.size() < size) return RtpStatus::BadLength;
  if (h.extension) {
    // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words.
    if (p.size() < size + 4) return RtpStatus::BadLength;
    size += 4 + size_t{load16(&p[size + 2])} * 4;
    if (p.size() < size) return RtpStatus::BadLength;
  }
  size_t pad = 0;
  if (h.padding) {
    pad = p[p.size() - 1];
    if (pad == 0 || p.size() < size + pad) return RtpStatus::BadLength;
  }
  h.headerSize = size;
  h.payloadSize = p.size() - size - pad;
  return RtpStatus::Ok;
}

size_t writeRtpHeader(const RtpHeader& h, std::span<uint8_t> out) {
  if (out.size() < 12) return 0;
  out[0] = 0x80;
  out[1] = static_cast<uint8_t>((h.marker ? 0x80 : 0) | (h.payloadType & 0x7F));
  store16(&out[2], h.sequence);
  store32(&out[4], h.timestamp);
  store32(&out[8], h.ssrc);
  return 12;
}

}  // namespace rtcgate::media

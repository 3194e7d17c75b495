// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/rtcp_packet.h"

#include <cstring>

namespace rtcgate::media {
namespace {

constexpr uint8_t kSr = 200, kRr = 201, kSdes = 202;

ReportBlock readBlock(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = load32(p);
  b.fractionLost = p[4];
  uint32_t lost = (uint32_t{p[5]} << 16) | (uint32_t{p[6]} << 8) | p[7];
  b.cumulativeLost = (lost & 0x800000) != 0 ? static_cast<int32_t>(lost | 0xFF000000u) : static_cast<int32_t>(lost);
  b.extendedHighestSeq = load32(p + 8);
  b.jitter = load32(p + 12);
  b.lastSr = load32(p + 16);
  b.delaySinceLastSr = load32(p + 20);
  return b;
}

void writeBlock(uint8_t* p, const ReportBlock& b) {
  store32(p, b.ssrc);
  p[4] = b.fractionLost;
  // Clamp to the 24-bit signed range of the field.
  int32_t lost = b.cumulativeLost > 0x7FFFFF ? 0x7FFFFF : b.cumulativeLost < -0x800000 ? -0x800000 : b.cumulativeLost;
  auto u = static_cast<uint32_t>(lost);
  p[5] = static_cast<uint8_t>(u >> 16);
  p[6] = static_cast<uint8_t>(u >> 8);
  p[7] = static_cast<uint8_t>(u);
  store32(p + 8, b.extendedHighestSeq);
  store32(p + 12, b.jitter);
  store32(p + 16, b.lastSr);
  store32(p + 20, b.delaySinceLastSr);
}

// SDES with one CNAME chunk, padded to a 32-bit boundary (RFC 3550 §6.5).
size_t writeSdes(uint32_t ssrc, const char* cname, uint8_t* p, size_t room) {
  size_t n = std::strlen(cname);
  if (n > 255) n = 255;
  size_t chunk = 4 + 2 + n + 1;  // ssrc, type+len, text, end item
  size_t total = 4 + ((chunk + 3) & ~size_t{3});
  if (room < total) return 0;
  std::memset(p, 0, total);
  p[0] = 0x81;
  p[1] = kSdes;
  store16(p + 2, static_cast<uint16_t>(total / 4 - 1));
  store32(p + 4, ssrc);
  p[8] = 1;  // CNAME
  p[9] = static_cast<uint8_t>(n);
  std::memcpy(p + 10, cname, n);
  return total;
}

}  // namespace

RtpStatus parseRtcp(std::span<const uint8_t> d, RtcpSummary& out, std::optional<uint32_t> reportAbout) {
  out = RtcpSummary{};  // also what a refused compound leaves: nothing of it is half-read
  if (d.size() < 8) return RtpStatus::TooShort;
  RtcpSummary r;
  bool found = false;
  size_t off = 0;
  while (off < d.size()) {
    if (d.size() - off < 4) return RtpStatus::BadLength;
    const uint8_t* p = d.data() + off;
    if ((p[0] >> 6) != 2) return RtpStatus::BadVersion;
    size_t len = (size_t{load16(p + 2)} + 1) * 4;
    if (d.size() - off < len) return RtpStatus::BadLength;
    const unsigned count = p[0] & 0x1F;
    if (p[1] == kSr || p[1] == kRr) {
      const bool sr = p[1] == kSr;
      const size_t blocks = sr ? 28 : 8;
      // RFC 3550 A.2: a report count that does not fit the packet's length makes the whole compound invalid.
      if (len < blocks + count * 24) return RtpStatus::BadLength;
      const bool first = !found;
      if (first) {
        found = true;
        r.isSenderReport = sr;
        r.isReceiverReport = !sr;
        r.ssrc = load32(p + 4);
        if (sr) {
          r.sender.ntp = (uint64_t{load32(p + 8)} << 32) | load32(p + 12);
          r.sender.rtpTimestamp = load32(p + 16);
          r.sender.packetCount = load32(p + 20);
          r.sender.octetCount = load32(p + 24);
        }
      }
      for (unsigned i = 0; i < count && !r.report; ++i) {
        const uint8_t* b = p + blocks + i * 24;
        if (reportAbout ? load32(b) == *reportAbout : first && i == 0) r.report = readBlock(b);
      }
    }
    off += len;
  }
  if (!found) return RtpStatus::BadLength;
  out = r;
  return RtpStatus::Ok;
}

size_t writeSenderReport(uint32_t ssrc, const SenderInfo& info, const ReportBlock* block, const char* cname,
                         std::span<uint8_t> out) {
  size_t len = 28 + (block != nullptr ? 24 : 0);
  if (out.size() < len) return 0;
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(0x80 | (block != nullptr ? 1 : 0));
  p[1] = kSr;
  store16(p + 2, static_cast<uint16_t>(len / 4 - 1));
  store32(p + 4, ssrc);
  store32(p + 8, static_cast<uint32_t>(info.ntp >> 32));
  store32(p + 12, static_cast<uint32_t>(info.ntp));
  store32(p + 16, info.rtpTimestamp);
  store32(p + 20, info.packetCount);
  store32(p + 24, info.octetCount);
  if (block != nullptr) writeBlock(p + 28, *block);
  size_t sdes = writeSdes(ssrc, cname, p + len, out.size() - len);
  return sdes == 0 ? 0 : len + sdes;
}

size_t writeReceiverReport(uint32_t ssrc, const ReportBlock* block, const char* cname, std::span<uint8_t> out) {
  size_t len = 8 + (block != nullptr ? 24 : 0);
  if (out.size() < len) return 0;
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(0x80 | (block != nullptr ? 1 : 0));
  p[1] = kRr;
  store16(p + 2, static_cast<uint16_t>(len / 4 - 1));
  store32(p + 4, ssrc);
  if (block != nullptr) writeBlock(p + 8, *block);
  size_t sdes = writeSdes(ssrc, cname, p + len, out.size() - len);
  return sdes == 0 ? 0 : len + sdes;
}

}  // namespace rtcgate::media

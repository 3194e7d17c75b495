// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtcgate/media/rtp/rtcp_packet.h"
#include "rtcgate/media/rtp/rtp_packet.h"
#include "rtcgate/media/rtp/rtp_port_pool.h"

namespace rtcgate::media {
namespace {

TEST(RtpPacket, WriteThenParseRoundTrips) {
  std::array<uint8_t, 172> buf{};
  RtpHeader h;
  h.payloadType = 8;
  h.marker = true;
  h.sequence = 0xFFFE;
  h.timestamp = 0x12345678;
  h.ssrc = 0xCAFEBABE;
  ASSERT_EQ(writeRtpHeader(h, buf), 12u);
  EXPECT_EQ(buf[0], 0x80);
  EXPECT_EQ(buf[1], 0x88);
  RtpHeader p;
  ASSERT_EQ(parseRtp(buf, p), RtpStatus::Ok);
  EXPECT_EQ(p.payloadType, 8);
  EXPECT_TRUE(p.marker);
  EXPECT_EQ(p.sequence, 0xFFFE);
  EXPECT_EQ(p.timestamp, 0x12345678u);
  EXPECT_EQ(p.ssrc, 0xCAFEBABEu);
  EXPECT_EQ(p.headerSize, 12u);
  EXPECT_EQ(p.payloadSize, 160u);
  EXPECT_EQ(writeRtpHeader(h, std::span<uint8_t>(buf.data(), 11)), 0u);
}

TEST(RtpPacket, CsrcExtensionAndPaddingAreAccountedFor) {
  // V=2 P=1 X=1 CC=1, one CSRC, a one-word extension, 4 payload bytes, 3 padding bytes.
  std::vector<uint8_t> p{0xB1, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                         0xBE, 0xDE, 0, 1, 1, 2, 3, 4, 9, 9, 9, 9, 0, 0, 3};
  RtpHeader h;
  ASSERT_EQ(parseRtp(p, h), RtpStatus::Ok);
  EXPECT_EQ(h.csrcCount, 1);
  EXPECT_EQ(h.headerSize, 24u);
  EXPECT_EQ(h.payloadSize, 4u);
}

TEST(RtpPacket, RejectsMalformedInput) {
  RtpHeader h;
  std::vector<uint8_t> shortPkt(11, 0x80);
  EXPECT_EQ(parseRtp(shortPkt, h), RtpStatus::TooShort);
  std::vector<uint8_t> v1(12, 0);
  v1[0] = 0x40;
  EXPECT_EQ(parseRtp(v1, h), RtpStatus::BadVersion);
  std::vector<uint8_t> csrc(12, 0);
  csrc[0] = 0x8F;  // 15 CSRCs announced, none present
  EXPECT_EQ(parseRtp(csrc, h), RtpStatus::BadLength);
  std::vector<uint8_t> ext(16, 0);
  ext[0] = 0x90;
  ext[14] = 0xFF;  // extension length far beyond the packet
  ext[15] = 0xFF;
  EXPECT_EQ(parseRtp(ext, h), RtpStatus::BadLength);
  std::vector<uint8_t> pad(13, 0);
  pad[0] = 0xA0;
  pad[12] = 200;  // padding longer than the packet
  EXPECT_EQ(parseRtp(pad, h), RtpStatus::BadLength);
}

TEST(Rtcp, SenderReportRoundTripsWithReportBlock) {
  std::array<uint8_t, 256> buf{};
  SenderInfo info{0x0102030405060708ull, 160, 50, 8000};
  ReportBlock b;
  b.ssrc = 7;
  b.fractionLost = 25;
  b.cumulativeLost = -3;
  b.extendedHighestSeq = 70000;
  b.jitter = 12;
  b.lastSr = 0x04050607;
  b.delaySinceLastSr = 65536;
  size_t n = writeSenderReport(42, info, &b, "rtcgate", buf);
  ASSERT_GT(n, 52u);
  EXPECT_EQ(n % 4, 0u);
  RtcpSummary s;
  ASSERT_EQ(parseRtcp(std::span<const uint8_t>(buf.data(), n), s), RtpStatus::Ok);
  EXPECT_TRUE(s.isSenderReport);
  EXPECT_EQ(s.ssrc, 42u);
  EXPECT_EQ(s.sender.ntp, info.ntp);
  EXPECT_EQ(s.sender.packetCount, 50u);
  EXPECT_EQ(s.sender.octetCount, 8000u);
  ASSERT_TRUE(s.report.has_value());
  EXPECT_EQ(s.report->cumulativeLost, -3);
  EXPECT_EQ(s.report->extendedHighestSeq, 70000u);
  EXPECT_EQ(s.report->fractionLost, 25);
  EXPECT_EQ(s.report->delaySinceLastSr, 65536u);
}

TEST(Rtcp, ReceiverReportAndTruncation) {
  std::array<uint8_t, 256> buf{};
  size_t n = writeReceiverReport(9, nullptr, "x", buf);
  ASSERT_GT(n, 8u);
  RtcpSummary s;
  ASSERT_EQ(parseRtcp(std::span<const uint8_t>(buf.data(), n), s), RtpStatus::Ok);
  EXPECT_TRUE(s.isReceiverReport);
  EXPECT_FALSE(s.report.has_value());
  EXPECT_EQ(parseRtcp(std::span<const uint8_t>(buf.data(), n - 1), s), RtpStatus::BadLength);
  EXPECT_EQ(writeReceiverReport(9, nullptr, "x", std::span<uint8_t>(buf.data(), 8)), 0u);
}

TEST(RtpPortPool, SlicesAreDisjointAndEven) {
  RtpPortPool pool(20001, 20100, 3);
  ASSERT_EQ(pool.size(), 3u);
  EXPECT_EQ(pool.slice(0).first(), 20002);
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(pool.slice(i).first() % 2, 0);
    EXPECT_EQ(pool.slice(i).last() % 2, 1);
    if (i > 0) {
      EXPECT_GT(pool.slice(i).first(), pool.slice(i - 1).last());
    }
  }
  EXPECT_LE(pool.slice(2).last(), 20100);
  EXPECT_THROW(RtpPortPool(20000, 20001, 2), std::invalid_argument);
}

}  // namespace
}  // namespace rtcgate::media

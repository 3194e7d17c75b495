// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include "rtcgate/media/rtp/rtcp_packet.h"
#include "rtcgate/media/rtp/rtcp_reporter.h"
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

// RFC 3550 6.4.1's own example: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s),
// DLSR = 0x0005:4000 (5.250 s): RTT = 0x0006:2000 = 6.125 s.
TEST(RtcpRtt, TheRfcExample) {
  auto rtt = roundTripMs(0xb7108000u, 0xb7052000u, 0x00054000u);
  ASSERT_TRUE(rtt.has_value());
  EXPECT_DOUBLE_EQ(*rtt, 6125.0);
  EXPECT_DOUBLE_EQ(*roundTripMs(0x00018000u, 0x00010000u, 0x00004000u), 250.0);  // 1.5 s - 1 s - 0.25 s
}

// The middle 32 bits of NTP wrap every 65536 s (18.2 h): an SR sent 0.25 s before the wrap, answered after it.
TEST(RtcpRtt, AcrossTheWrapOfTheMiddleBits) {
  auto rtt = roundTripMs(0x00004000u, 0xFFFFC000u, 0x00002000u);  // 0.5 s since the SR, held 0.125 s
  ASSERT_TRUE(rtt.has_value());
  EXPECT_DOUBLE_EQ(*rtt, 375.0);
}

// LSR 0: the peer received no SR from us (RFC 3550 6.4.1), so there is no RTT, whatever DLSR says.
TEST(RtcpRtt, NoSenderReportReceivedMeansNoRtt) {
  EXPECT_FALSE(roundTripMs(0x00018000u, 0, 0).has_value());
  EXPECT_FALSE(roundTripMs(0x00018000u, 0, 0x1000).has_value());
}

// A DLSR longer than the time since our SR is a bogus (or clock-skewed) report: no RTT; one unit of round-off is 0.
TEST(RtcpRtt, ADelayLongerThanTheElapsedTimeGivesNoRtt) {
  EXPECT_FALSE(roundTripMs(0x00018000u, 0x00010000u, 0x00009000u).has_value());
  EXPECT_DOUBLE_EQ(*roundTripMs(0x00018000u, 0x00010000u, 0x00008001u), 0.0);
  EXPECT_DOUBLE_EQ(*roundTripMs(0x00018000u, 0x00010000u, 0x00008000u), 0.0);
}

RtcpSummary reportAbout(uint32_t ssrc, uint32_t lsr, uint32_t dlsr) {
  RtcpSummary s;
  s.isReceiverReport = true;
  s.ssrc = 99;
  ReportBlock b;
  b.ssrc = ssrc;
  b.lastSr = lsr;
  b.delaySinceLastSr = dlsr;
  s.report = b;
  return s;
}

TEST(RtcpReporter, RttFromThePeersBlockAboutOurStreamOnly) {
  RtcpReporter r;
  const uint64_t arrival = uint64_t{0x00018000u} << 16;  // middle bits 0x0001:8000
  r.onReport(reportAbout(42, 0, 0), 42, arrival);        // no SR seen by the peer yet
  EXPECT_FALSE(r.rttMs().has_value());
  EXPECT_TRUE(r.remoteReport().has_value());
  r.onReport(reportAbout(7, 0x00010000u, 0x4000), 42, arrival);  // about another source: ignored
  EXPECT_FALSE(r.rttMs().has_value());
  r.onReport(reportAbout(42, 0x00010000u, 0x4000), 42, arrival);
  ASSERT_TRUE(r.rttMs().has_value());
  EXPECT_DOUBLE_EQ(*r.rttMs(), 250.0);
  r.onReport(reportAbout(42, 0, 0), 42, arrival);  // a later block without LSR keeps the last RTT
  EXPECT_DOUBLE_EQ(*r.rttMs(), 250.0);
}

// Our report echoes the peer's last SR (LSR = its NTP middle bits) and is an SR only when we sent RTP since the last.
TEST(RtcpReporter, ReportsEchoThePeersSenderReport) {
  RtcpReporter r;
  RtcpSummary peerSr;
  peerSr.isSenderReport = true;
  peerSr.ssrc = 77;
  peerSr.sender.ntp = 0x1122334455667788ull;
  r.onReport(peerSr, 42);
  RtpReceiveStats rx;
  rx.update(1, 160, 160);
  std::array<uint8_t, 256> out{};
  size_t n = r.writeReport({42, 320, 2, 320}, &rx, 77, "rtcgate", out);
  RtcpSummary s;
  ASSERT_EQ(parseRtcp(std::span<const uint8_t>(out.data(), n), s, 77), RtpStatus::Ok);
  EXPECT_TRUE(s.isSenderReport);
  EXPECT_EQ(s.sender.packetCount, 2u);
  EXPECT_EQ(s.sender.octetCount, 320u);
  EXPECT_EQ(s.sender.rtpTimestamp, 320u);
  ASSERT_TRUE(s.report.has_value());
  EXPECT_EQ(s.report->lastSr, 0x33445566u);
  EXPECT_LT(s.report->delaySinceLastSr, 65536u);  // well under a second since the SR above
  n = r.writeReport({42, 320, 2, 320}, &rx, 77, "rtcgate", out);  // nothing sent since: RR
  ASSERT_EQ(parseRtcp(std::span<const uint8_t>(out.data(), n), s), RtpStatus::Ok);
  EXPECT_TRUE(s.isReceiverReport);
}

// RFC 3550 6.2: randomised to 0.5..1.5 x the interval (the first report after half of that), never all alike.
TEST(RtcpReporter, IntervalIsRandomisedAroundTheMinimum) {
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto next = RtcpReporter::nextInterval(std::chrono::milliseconds(5000)).count();
    EXPECT_GE(next, 2500);
    EXPECT_LE(next, 7500);
    seen.insert(next);
    auto first = RtcpReporter::nextInterval(std::chrono::milliseconds(5000), true).count();
    EXPECT_GE(first, 1250);
    EXPECT_LE(first, 3750);
  }
  EXPECT_GT(seen.size(), 20u);
}

std::vector<uint8_t> receiverReport(uint8_t count, uint16_t lengthWords, size_t blocks) {
  std::vector<uint8_t> p(8 + blocks * 24, 0);
  p[0] = static_cast<uint8_t>(0x80 | count);
  p[1] = 201;
  store16(p.data() + 2, lengthWords);
  store32(p.data() + 4, 99);
  for (size_t i = 0; i < blocks; ++i) store32(p.data() + 8 + i * 24, static_cast<uint32_t>(100 + i));
  return p;
}

RtpStatus parse(const std::vector<uint8_t>& d, RtcpSummary& s, std::optional<uint32_t> about = std::nullopt) {
  return parseRtcp(std::span<const uint8_t>(d.data(), d.size()), s, about);
}

// Hostile RTCP (reliability-security.md 5): short, counts that do not fit, lengths past the datagram. Each is
// refused as a whole (the legs count it in their malformed counters and ignore it), never read past its end.
TEST(Rtcp, HostileReportsAreRefused) {
  RtcpSummary s;
  EXPECT_EQ(parse({0x80, 201, 0, 1}, s), RtpStatus::TooShort);
  EXPECT_EQ(parse(receiverReport(2, 7, 1), s), RtpStatus::BadLength);   // 2 blocks claimed, room for 1
  EXPECT_EQ(parse(receiverReport(31, 7, 1), s), RtpStatus::BadLength);  // the largest count
  EXPECT_EQ(parse(receiverReport(1, 13, 1), s), RtpStatus::BadLength);  // length past the datagram
  auto v1 = receiverReport(1, 7, 1);
  v1[0] = 0x41;
  EXPECT_EQ(parse(v1, s), RtpStatus::BadVersion);
  // A valid RR followed by one whose count does not fit: the compound is invalid (RFC 3550 A.2).
  auto compound = receiverReport(1, 7, 1);
  auto bad = receiverReport(3, 7, 1);
  compound.insert(compound.end(), bad.begin(), bad.end());
  EXPECT_EQ(parse(compound, s), RtpStatus::BadLength);
  EXPECT_FALSE(s.report.has_value());
  // An SR whose count of 1 leaves no room for its block.
  std::vector<uint8_t> sr(28, 0);
  sr[0] = 0x81;
  sr[1] = 200;
  store16(sr.data() + 2, 6);
  EXPECT_EQ(parse(sr, s), RtpStatus::BadLength);
  // No SR or RR at all (an SDES alone).
  std::vector<uint8_t> sdes{0x81, 202, 0, 1, 0, 0, 0, 1};
  EXPECT_EQ(parse(sdes, s), RtpStatus::BadLength);
}

// With several blocks (a browser receiving more than one source), the block about our SSRC is the one kept.
TEST(Rtcp, TheBlockAboutOurSsrcIsPicked) {
  auto rr = receiverReport(3, 19, 3);  // blocks about 100, 101, 102
  RtcpSummary s;
  ASSERT_EQ(parse(rr, s), RtpStatus::Ok);
  EXPECT_EQ(s.report->ssrc, 100u);
  ASSERT_EQ(parse(rr, s, 102), RtpStatus::Ok);
  EXPECT_EQ(s.report->ssrc, 102u);
  ASSERT_EQ(parse(rr, s, 7), RtpStatus::Ok);
  EXPECT_FALSE(s.report.has_value());
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

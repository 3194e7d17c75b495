// SPDX-License-Identifier: Apache-2.0
// Two RTP legs over loopback on one worker loop: real sockets, real GLib sources.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

#include "rtcgate/media/rtp/rtp_leg.h"
#include "support/rtp_builder.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate::media {
namespace {

using namespace std::chrono_literals;

class RtpLegTest : public ::testing::Test {
protected:
  void SetUp() override {
    loop.adoptCurrentThread();
    // A per-test range around a free port, split between two "workers" (one slice per leg).
    uint16_t base = test::freePortRangeBase(204);  // SliceRunsOutOfPairs uses the 4 ports after the pool
    pool = std::make_unique<RtpPortPool>(base, static_cast<uint16_t>(base + 199), 2);
  }
  std::unique_ptr<RtpLeg> makeLeg(unsigned slice, std::chrono::milliseconds timeout = 0ms,
                                  std::chrono::milliseconds rtcp = 5000ms, Rate packetRate = {}) {
    RtpLegConfig c;
    c.localAddress = "127.0.0.1";
    c.inactivityTimeout = timeout;
    c.rtcpInterval = rtcp;
    c.packetRate = packetRate;
    auto leg = std::make_unique<RtpLeg>(loop, pool->slice(slice), c, metrics);
    EXPECT_TRUE(leg->open());
    return leg;
  }
  void connect(RtpLeg& a, RtpLeg& b) {
    ASSERT_TRUE(a.setRemote("127.0.0.1", b.localPort()));
    ASSERT_TRUE(b.setRemote("127.0.0.1", a.localPort()));
  }

  EventLoop loop{"media-worker"};
  Metrics metrics;
  std::unique_ptr<RtpPortPool> pool;
};

TEST_F(RtpLegTest, TwoLegsExchangePacketsAndCountThem) {
  auto a = makeLeg(0), b = makeLeg(1);
  EXPECT_EQ(a->localPort() % 2, 0);
  EXPECT_GE(b->localPort(), pool->slice(1).first());
  connect(*a, *b);
  int gotA = 0, gotB = 0;
  a->setOnPacket([&](const RtpHeader& h, std::span<const uint8_t> p) {
    EXPECT_EQ(h.payloadType, 0);
    EXPECT_EQ(p.size(), 160u);
    ++gotA;
  });
  b->setOnPacket([&](const RtpHeader&, std::span<const uint8_t>) { ++gotB; });
  std::array<uint8_t, 160> payload{};
  for (uint32_t i = 0; i < 10; ++i) {
    ASSERT_EQ(a->send(0, i * 160, i == 0, payload), RtpStatus::Ok);
    ASSERT_EQ(b->send(0, i * 160, i == 0, payload), RtpStatus::Ok);
  }
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return gotA == 10 && gotB == 10; }));
  auto sa = a->stats(), sb = b->stats();
  EXPECT_EQ(sa.packetsSent, 10u);
  EXPECT_EQ(sa.bytesSent, 1600u);
  EXPECT_EQ(sb.packetsReceived, 10u);
  EXPECT_EQ(sb.bytesReceived, 1600u);
  EXPECT_EQ(sb.packetsLost, 0);
  EXPECT_EQ(sb.droppedForeign, 0u);
}

// Issue 11, reliability-security.md 3.10 and 5 item 37 (ASVS 17.2.5): a legitimate peer (the SDP's address) sends
// 10x the normal packet rate, 500 packets/s (2 ms apart, on an absolute schedule) where 20 ms ptime makes 50.
// media.packet_rate at its default (150/s, burst 150) lets the burst and 150/s through and drops the rest before
// the packet callback (the bridge), counted. Another stream at the normal rate on the same worker loses nothing.
TEST_F(RtpLegTest, PacketRateCapDropsAFloodingPeersExcessAndSparesAnotherStream) {
  const Rate cap{150, 150};
  auto flooder = makeLeg(0), flooded = makeLeg(1, 0ms, 5000ms, cap);
  auto normal = makeLeg(0), quiet = makeLeg(1, 0ms, 5000ms, cap);
  connect(*flooder, *flooded);
  connect(*normal, *quiet);
  int gotFlooded = 0, gotQuiet = 0;
  flooded->setOnPacket([&](const RtpHeader&, std::span<const uint8_t>) { ++gotFlooded; });
  quiet->setOnPacket([&](const RtpHeader&, std::span<const uint8_t>) { ++gotQuiet; });
  std::array<uint8_t, 160> payload{};
  constexpr int kFlood = 500;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kFlood; ++i) {
    const auto due = start + std::chrono::milliseconds(2 * i);
    test::pumpUntil(loop, [&] { return std::chrono::steady_clock::now() >= due; }, 1s);
    ASSERT_EQ(flooder->send(0, static_cast<uint32_t>(i) * 16, i == 0, payload), RtpStatus::Ok);
    if (i % 10 == 0) {
      ASSERT_EQ(normal->send(0, static_cast<uint32_t>(i) * 16, i == 0, payload), RtpStatus::Ok);
    }
  }
  // Every datagram is either delivered or dropped by the cap; bounded wait for the last ones.
  ASSERT_TRUE(test::pumpUntil(loop, [&] {
    auto s = flooded->stats();
    return s.packetsReceived + s.rateLimited == static_cast<uint64_t>(kFlood) && gotQuiet == kFlood / 10;
  })) << flooded->stats().packetsReceived << " + " << flooded->stats().rateLimited;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto s = flooded->stats();
  EXPECT_EQ(static_cast<uint64_t>(gotFlooded), s.packetsReceived);  // nothing dropped reached the callback
  EXPECT_GE(gotFlooded, 150);                                         // the burst passes
  EXPECT_LE(gotFlooded, 150 + 150 * seconds + 1) << gotFlooded << " in " << seconds << " s";
  EXPECT_GE(s.rateLimited, static_cast<uint64_t>(kFlood - 150 - 150 * seconds - 1));
  EXPECT_EQ(metrics.counter("rtcgate_rtp_rate_limited_total", "").load(), s.rateLimited);
  EXPECT_EQ(quiet->stats().rateLimited, 0u);
  EXPECT_EQ(quiet->stats().packetsReceived, static_cast<uint64_t>(kFlood / 10));
}

TEST_F(RtpLegTest, LossIsCountedFromSequenceGaps) {
  auto a = makeLeg(0), b = makeLeg(1);
  connect(*a, *b);
  std::array<uint8_t, 160> payload{};
  // Send 10, but skip two sequence numbers by sending two packets toward a dead address in between.
  int got = 0;
  b->setOnPacket([&](const RtpHeader&, std::span<const uint8_t>) { ++got; });
  for (uint32_t i = 0; i < 10; ++i) {
    if (i == 4 || i == 5) {
      ASSERT_TRUE(a->setRemote("127.0.0.1", 9));  // discard port: these two never arrive
      ASSERT_EQ(a->send(0, i * 160, false, payload), RtpStatus::Ok);
      ASSERT_TRUE(a->setRemote("127.0.0.1", b->localPort()));
      continue;
    }
    ASSERT_EQ(a->send(0, i * 160, false, payload), RtpStatus::Ok);
  }
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return got == 8; }));
  EXPECT_EQ(b->stats().packetsLost, 2);
}

TEST_F(RtpLegTest, LatchingRefusesAForeignSource) {
  auto a = makeLeg(0), b = makeLeg(1);
  connect(*a, *b);
  int got = 0;
  b->setOnPacket([&](const RtpHeader&, std::span<const uint8_t>) { ++got; });
  // An intruder on another loopback address sends well-formed RTP to b.
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.2", &from.sin_addr);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&from), sizeof from), 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(b->localPort());
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  std::array<uint8_t, 172> pkt{};
  RtpHeader h;
  h.ssrc = 666;
  writeRtpHeader(h, pkt);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(sendto(s, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 172);
  close(s);
  std::array<uint8_t, 160> payload{};
  ASSERT_EQ(a->send(0, 0, true, payload), RtpStatus::Ok);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return got == 1 && b->stats().droppedForeign == 3; }));
  EXPECT_EQ(b->stats().packetsReceived, 1u);
  EXPECT_EQ(metrics.counter("rtcgate_rtp_dropped_foreign_total", "").load(), 3u);
}

// A UDP socket on `address`, port 0 (kept), for a peer that is not the leg's SDP peer.
struct Intruder {
  explicit Intruder(const char* address) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, address, &a.sin_addr);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~Intruder() { close(fd); }
  void sendTo(uint16_t port, const std::vector<uint8_t>& p) const {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    EXPECT_EQ(sendto(fd, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(p.size()));
  }
  size_t pending() const {
    size_t n = 0;
    std::array<uint8_t, 1500> buf;
    while (recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) > 0) ++n;
    return n;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
};

uint16_t portOf(int fd) {
  sockaddr_in s{};
  socklen_t len = sizeof s;
  getsockname(fd, reinterpret_cast<sockaddr*>(&s), &len);
  return ntohs(s.sin_port);
}

std::vector<uint8_t> rtp(uint32_t ssrc) {
  std::vector<uint8_t> pkt(172);
  RtpHeader h;
  h.ssrc = ssrc;
  writeRtpHeader(h, pkt);
  return pkt;
}

// Issue 11 (reliability-security.md §5 item 34): the leg was latched to the SDP's address only, so any port of
// it was accepted (and became the destination: symmetric-RTP port learning). Now only the SDP's port is: RTP and
// RTCP from another port of the same address are dropped and counted, before and after the peer's first packet,
// and nothing is sent to that port.
TEST_F(RtpLegTest, LatchingRefusesAnotherPortOfTheSdpAddress) {
  auto a = makeLeg(0, 0ms, 100ms), b = makeLeg(1, 0ms, 100ms);
  connect(*a, *b);
  int got = 0;
  b->setOnPacket([&](const RtpHeader& h, std::span<const uint8_t>) {
    EXPECT_NE(h.ssrc, 666u);
    ++got;
  });
  Intruder intruder("127.0.0.1");
  for (int i = 0; i < 3; ++i) intruder.sendTo(b->localPort(), rtp(666));  // before the first legitimate packet
  intruder.sendTo(static_cast<uint16_t>(b->localPort() + 1), test::rtcpReceiverReport(666));
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return b->stats().droppedForeign == 4; }));
  std::array<uint8_t, 160> payload{};
  ASSERT_EQ(a->send(0, 0, true, payload), RtpStatus::Ok);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return got == 1; }));
  for (int i = 0; i < 3; ++i) intruder.sendTo(b->localPort(), rtp(666));  // mid-call
  ASSERT_EQ(a->send(0, 160, false, payload), RtpStatus::Ok);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return got == 2 && b->stats().droppedForeign == 7; }));
  // b answers and reports to a's SDP ports only; RTCP from a (its odd port) is accepted.
  ASSERT_EQ(b->send(0, 0, true, payload), RtpStatus::Ok);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return b->stats().srReceived >= 1 && a->stats().rtcpSent >= 1; }, 3s));
  EXPECT_EQ(a->stats().packetsReceived, 1u);
  EXPECT_EQ(b->stats().packetsReceived, 2u);
  EXPECT_EQ(a->stats().droppedForeign, 0u);
  EXPECT_EQ(intruder.pending(), 0u) << "the leg sent to the intruder's port";
  EXPECT_EQ(metrics.counter("rtcgate_rtp_dropped_foreign_total", "").load(), 7u);
}

// RFC 3605 a=rtcp: RTCP goes to, and is accepted only from, the port the SDP names for it.
TEST_F(RtpLegTest, RtcpPortFromTheSdpIsUsedBothWays) {
  auto a = makeLeg(0, 0ms, 100ms);
  Intruder peerRtp("127.0.0.1"), peerRtcp("127.0.0.1"), other("127.0.0.1");
  ASSERT_TRUE(a->setRemote("127.0.0.1", portOf(peerRtp.fd), "127.0.0.1", portOf(peerRtcp.fd)));
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return a->stats().rtcpSent >= 2; }, 3s));
  EXPECT_EQ(peerRtp.pending(), 0u);
  EXPECT_GE(peerRtcp.pending(), 2u);
  other.sendTo(static_cast<uint16_t>(a->localPort() + 1), test::rtcpReceiverReport(7));
  peerRtcp.sendTo(static_cast<uint16_t>(a->localPort() + 1), test::rtcpReceiverReport(8));
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return a->stats().rrReceived == 1 && a->stats().droppedForeign == 1; }));
}

// RFC 3264 §8.4: c=0.0.0.0 is a hold marker, never a destination: after clearRemote nothing goes out (RTP or
// RTCP) until a new address comes; the held peer's music on hold is still taken from where it was locked.
TEST_F(RtpLegTest, NoDestinationMeansNothingSent) {
  auto a = makeLeg(0, 0ms, 50ms), b = makeLeg(1, 0ms, 50ms);
  connect(*a, *b);
  a->clearRemote();
  EXPECT_FALSE(a->hasDestination());
  std::array<uint8_t, 160> payload{};
  EXPECT_NE(a->send(0, 0, true, payload), RtpStatus::Ok);
  const auto rtcpBefore = a->stats().rtcpSent;
  ASSERT_EQ(b->send(0, 0, true, payload), RtpStatus::Ok);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return a->stats().packetsReceived == 1 && b->stats().rtcpSent >= 3; }, 3s));
  EXPECT_EQ(a->stats().rtcpSent, rtcpBefore);
  EXPECT_EQ(b->stats().packetsReceived, 0u);
  EXPECT_EQ(b->stats().rrReceived + b->stats().srReceived, 0u);
  ASSERT_TRUE(a->setRemote("127.0.0.1", b->localPort()));
  ASSERT_EQ(a->send(0, 160, false, payload), RtpStatus::Ok);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return b->stats().packetsReceived == 1; }));
}

TEST_F(RtpLegTest, InactivityTimeoutFiresOnceAndRearmsAfterTraffic) {
  auto a = makeLeg(0, 150ms), b = makeLeg(1);
  connect(*a, *b);
  int timeouts = 0;
  a->setOnTimeout([&] { ++timeouts; });
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return timeouts == 1; }, 2s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  // Traffic resumes, then stops again: a second report.
  std::array<uint8_t, 160> payload{};
  ASSERT_EQ(b->send(0, 0, true, payload), RtpStatus::Ok);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return a->stats().packetsReceived == 1; }));
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return timeouts == 2; }, 2s));
}

TEST_F(RtpLegTest, HoldSuspendsTheInactivityTimeout) {
  auto a = makeLeg(0, 150ms), b = makeLeg(1);
  connect(*a, *b);
  int timeouts = 0;
  a->setOnTimeout([&] { ++timeouts; });
  a->setExpectingMedia(false);  // the peer is on hold: silence is expected
  EXPECT_FALSE(test::pumpUntil(loop, [&] { return timeouts > 0; }, 600ms));
  // Retrieved: the count starts again from the resume, then fires once.
  auto resumed = std::chrono::steady_clock::now();
  a->setExpectingMedia(true);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return timeouts == 1; }, 2s));
  EXPECT_GE(std::chrono::steady_clock::now() - resumed, 150ms);
}

TEST_F(RtpLegTest, SenderReportsAndReceiverReportsFlow) {
  auto a = makeLeg(0, 0ms, 100ms), b = makeLeg(1, 0ms, 100ms);
  connect(*a, *b);
  std::array<uint8_t, 160> payload{};
  for (uint32_t i = 0; i < 5; ++i) ASSERT_EQ(a->send(0, i * 160, false, payload), RtpStatus::Ok);
  // a sent RTP: its report is an SR; b only receives: RRs about a's stream.
  // An RR sent after b has seen a's SR echoes its timestamp (LSR): wait for that one.
  ASSERT_TRUE(test::pumpUntil(loop, [&] {
    auto r = a->stats().remoteReport;
    return b->stats().srReceived >= 1 && r.has_value() && r->lastSr != 0;
  }, 3s));
  auto ra = a->stats().remoteReport;
  EXPECT_EQ(ra->ssrc, a->ssrc());
  EXPECT_EQ(ra->cumulativeLost, 0);
  EXPECT_EQ(b->stats().packetsReceived, 5u);
  EXPECT_GE(a->stats().rrReceived, 1u);
}

// RFC 3550 6.4.1 on the Genesys leg: a real socket peer receives rtcgate's SR, holds it 300 ms, then answers with
// an RR whose block about rtcgate's SSRC carries LSR = that SR's NTP middle bits and DLSR = 100 ms. rtcgate's RTT
// is then the 300 ms hold (plus loopback and the leg's own wakeup) minus 100 ms: bracketed exactly by the NTP clock
// the leg uses, read before the answer was sent and after the RTT appeared. Hostile RTCP before it (a count that
// does not fit, a block claiming our SSRC cut short) is counted as malformed and changes nothing.
TEST_F(RtpLegTest, PeerAnswersOurSenderReportAndTheRoundTripTimeIsMeasured) {
  auto a = makeLeg(0, 0ms, 100ms);
  Intruder peerRtp("127.0.0.1"), peerRtcp("127.0.0.1");
  ASSERT_TRUE(a->setRemote("127.0.0.1", portOf(peerRtp.fd), "127.0.0.1", portOf(peerRtcp.fd)));
  std::array<uint8_t, 160> payload{};
  for (uint32_t i = 0; i < 3; ++i) ASSERT_EQ(a->send(0, i * 160, i == 0, payload), RtpStatus::Ok);
  // The first SR (a sent RTP, so its first report is one).
  RtcpSummary sr;
  ASSERT_TRUE(test::pumpUntil(loop, [&] {
    std::array<uint8_t, 1500> buf;
    ssize_t n = recv(peerRtcp.fd, buf.data(), buf.size(), MSG_DONTWAIT);
    return n > 0 && parseRtcp(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), sr) == RtpStatus::Ok &&
           sr.isSenderReport;
  }, 3s));
  const auto srSeenAt = std::chrono::steady_clock::now();
  EXPECT_EQ(sr.ssrc, a->ssrc());
  EXPECT_EQ(sr.sender.packetCount, 3u);
  EXPECT_EQ(sr.sender.octetCount, 480u);
  EXPECT_FALSE(a->stats().rttMs.has_value());

  const uint16_t legRtcp = static_cast<uint16_t>(a->localPort() + 1);
  const uint32_t lsr = ntpMiddle(sr.sender.ntp), dlsr = 6554;  // 100 ms in 1/65536 s
  ReportBlock block;
  block.ssrc = a->ssrc();
  block.lastSr = lsr;
  block.delaySinceLastSr = dlsr;
  std::vector<uint8_t> rr(256);
  rr.resize(writeReceiverReport(0x5EE, &block, "peer", rr));
  auto badCount = rr;
  badCount[0] = 0x83;  // 3 blocks claimed, 1 there
  auto cut = rr;
  cut.resize(20);      // the block claiming our SSRC cut short
  cut[3] = 4;
  peerRtcp.sendTo(legRtcp, badCount);
  peerRtcp.sendTo(legRtcp, cut);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return a->stats().malformed == 2; }, 3s));
  EXPECT_EQ(metrics.counter("rtcgate_rtp_malformed_total", "").load(), 2u);
  EXPECT_EQ(a->stats().rrReceived, 0u);
  EXPECT_FALSE(a->stats().rttMs.has_value());

  // Hold the SR 300 ms (the leg goes on sending reports meanwhile; the answer is about the first one).
  (void)test::pumpUntil(loop, [&] { return std::chrono::steady_clock::now() - srSeenAt >= 300ms; }, 2s);
  const uint32_t sentAt = ntpMiddle(ntpNow());
  peerRtcp.sendTo(legRtcp, rr);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return a->stats().rttMs.has_value(); }, 3s));
  const uint32_t seenAt = ntpMiddle(ntpNow());
  const double rtt = *a->stats().rttMs;
  // RTT = arrival - LSR - DLSR with sentAt <= arrival <= seenAt (units of 1/65536 s, one unit of round-off).
  EXPECT_GE(rtt, (sentAt - lsr - dlsr) * 1000.0 / 65536 - 0.02) << rtt;
  EXPECT_LE(rtt, (seenAt - lsr - dlsr) * 1000.0 / 65536 + 0.02) << rtt;
  EXPECT_GE(rtt, 200.0 - 0.02);  // the hold minus DLSR, whatever the scheduling
  RecordProperty("rtt_ms", std::to_string(rtt));
  EXPECT_EQ(a->stats().rrReceived, 1u);
  ASSERT_TRUE(a->stats().remoteReport.has_value());
  EXPECT_EQ(a->stats().remoteReport->lastSr, lsr);
}

// Issue 14 (docs/adr/0010-batch-socket-io.md): the leg takes what is queued with recvmmsg, up to 16 datagrams per
// call. A burst of 100 datagrams that queued up while the worker was busy (the loop is not iterated while they
// are sent) is processed whole and in order, with the counters a one-at-a-time reader would give, in a handful of
// receive calls instead of 101.
TEST_F(RtpLegTest, ABurstOf100QueuedDatagramsIsProcessedInOrderInBatches) {
  auto b = makeLeg(1);
  Intruder peer("127.0.0.1");  // the SDP's peer here: b is latched to its address and port
  sockaddr_in self{};
  socklen_t len = sizeof self;
  ASSERT_EQ(getsockname(peer.fd, reinterpret_cast<sockaddr*>(&self), &len), 0);
  ASSERT_TRUE(b->setRemote("127.0.0.1", ntohs(self.sin_port)));
  std::vector<uint16_t> seqs;
  int wrongPayload = 0;
  b->setOnPacket([&](const RtpHeader& h, std::span<const uint8_t> p) {
    seqs.push_back(h.sequence);
    if (p.size() != 160 || p.front() != static_cast<uint8_t>(h.sequence) || p.back() != static_cast<uint8_t>(h.sequence))
      ++wrongPayload;
  });
  constexpr int kBurst = 100;
  for (int i = 0; i < kBurst; ++i) {
    std::vector<uint8_t> payload(160, static_cast<uint8_t>(i));
    peer.sendTo(b->localPort(), test::rtpPacket(0, static_cast<uint16_t>(i), static_cast<uint32_t>(i) * 160, 0xb0b, payload));
  }
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return seqs.size() == kBurst; }, 3s)) << seqs.size();
  for (int i = 0; i < kBurst; ++i) EXPECT_EQ(seqs[static_cast<size_t>(i)], i);
  EXPECT_EQ(wrongPayload, 0);
  const auto st = b->stats();
  EXPECT_EQ(st.packetsReceived, static_cast<uint64_t>(kBurst));
  EXPECT_EQ(st.bytesReceived, static_cast<uint64_t>(kBurst) * 160);
  EXPECT_EQ(st.packetsLost, 0);
  EXPECT_EQ(st.malformed, 0u);
  EXPECT_EQ(st.droppedForeign, 0u);
  // ceil(100 / 16) = 7 calls take the burst; one more if the loop woke while the burst was still arriving.
  EXPECT_GE(st.rtpReceiveCalls, 7u);
  EXPECT_LE(st.rtpReceiveCalls, 9u);
}

// A datagram larger than the leg's 1,500-byte buffer used to be cut by recvfrom and forwarded as a shorter
// packet; a 7-byte one is no RTP. Both sit in the middle of one batch: each is counted as malformed and skipped,
// and the datagrams around them, in the same recvmmsg call, are processed whole and in order.
TEST_F(RtpLegTest, AnOversizeAndATruncatedDatagramInABatchAreCountedAndSkipped) {
  auto b = makeLeg(1);
  Intruder peer("127.0.0.1");
  sockaddr_in self{};
  socklen_t len = sizeof self;
  ASSERT_EQ(getsockname(peer.fd, reinterpret_cast<sockaddr*>(&self), &len), 0);
  ASSERT_TRUE(b->setRemote("127.0.0.1", ntohs(self.sin_port)));
  std::vector<uint16_t> seqs;
  std::vector<size_t> sizes;
  b->setOnPacket([&](const RtpHeader& h, std::span<const uint8_t> p) {
    seqs.push_back(h.sequence);
    sizes.push_back(p.size());
  });
  uint16_t seq = 0;
  auto good = [&] {
    std::vector<uint8_t> payload(160, 0x55);
    peer.sendTo(b->localPort(), test::rtpPacket(0, seq, seq * 160u, 0xb0b, payload));
    ++seq;
  };
  for (int i = 0; i < 5; ++i) good();
  std::vector<uint8_t> jumbo(2000, 0x77);  // a valid RTP header, then more than the buffer holds
  peer.sendTo(b->localPort(), test::rtpPacket(0, 999, 0, 0xb0b, jumbo));
  for (int i = 0; i < 3; ++i) good();
  peer.sendTo(b->localPort(), std::vector<uint8_t>{0x80, 0, 0, 1, 0, 0, 0});  // 7 bytes: shorter than a header
  for (int i = 0; i < 4; ++i) good();
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return b->stats().malformed == 2 && seqs.size() == 12; }, 3s))
      << b->stats().malformed << " malformed, " << seqs.size() << " delivered";
  for (size_t i = 0; i < seqs.size(); ++i) {
    EXPECT_EQ(seqs[i], i);
    EXPECT_EQ(sizes[i], 160u);
  }
  const auto st = b->stats();
  EXPECT_EQ(st.packetsReceived, 12u);
  EXPECT_EQ(st.bytesReceived, 12u * 160);
  EXPECT_EQ(st.packetsLost, 0);
  EXPECT_EQ(metrics.counter("rtcgate_rtp_malformed_total", "").load(), 2u);
  EXPECT_LE(st.rtpReceiveCalls, 3u);  // 14 datagrams: one batch (two if the loop woke while they arrived)
}

TEST_F(RtpLegTest, SliceRunsOutOfPairs) {
  RtpPortPool tiny(static_cast<uint16_t>(pool->slice(1).last() + 1), static_cast<uint16_t>(pool->slice(1).last() + 4),
                   1);
  RtpLegConfig c;
  RtpLeg l1(loop, tiny.slice(0), c, metrics), l2(loop, tiny.slice(0), c, metrics), l3(loop, tiny.slice(0), c, metrics);
  EXPECT_TRUE(l1.open());
  EXPECT_TRUE(l2.open());
  EXPECT_FALSE(l3.open());
}

}  // namespace
}  // namespace rtcgate::media

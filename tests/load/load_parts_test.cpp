// SPDX-License-Identifier: Apache-2.0
// rtcgate-load's parts without sockets: the receive accounting the report's loss and latency rest on, the command
// line contract (exit 2 cases), percentiles and the SIP digest answer.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "load_options.h"
#include "load_report.h"
#include "media_flow.h"
#include "rtcgate/signaling/digest_auth.h"
#include "rtcgate/signaling/sip_message.h"
#include "sip_text.h"
#include "udp_socket.h"
#include "rtcgate/core/event_loop.h"

namespace rtcgate::load {
namespace {

using namespace std::chrono_literals;

struct Stream {
  EncodedTone tone = encodeTone(codec::CodecId::Pcmu, 9);
  RtpSender sender{&tone, 0, 0x1234};
  std::vector<media::RtpHeader> sent;
  Clock::time_point t0 = Clock::now();
  // Sends `n` packets 20 ms apart (their send times), keeping the headers as they left.
  void send(int n) {
    std::array<uint8_t, 1600> buf{};
    for (int i = 0; i < n; ++i) {
      const size_t len = sender.build(buf.data(), buf.size());
      media::RtpHeader h;
      ASSERT_EQ(media::parseRtp({buf.data(), len}, h), media::RtpStatus::Ok);
      sent.push_back(h);
      sender.sent(t0 + 20ms * static_cast<int>(sent.size() - 1));
    }
  }
};

TEST(LoadReceiver, GatewayDropRenumberedWithoutGapCountsAsLossNotLate) {
  Stream s;
  s.send(10);
  RtpReceiver rx(8000, 60);
  DirectionTotals totals;
  // rtcgate dropped packets 3 and 4 and renumbered the rest contiguously; timestamps keep their pace.
  uint16_t seq = 500;
  for (int i = 0; i < 10; ++i) {
    if (i == 3 || i == 4) continue;
    media::RtpHeader h = s.sent[static_cast<size_t>(i)];
    h.sequence = seq++;
    rx.onPacket(h, s.t0 + 20ms * i + 1ms, s.sender, totals);
  }
  EXPECT_EQ(totals.packetsReceived, 8u);
  EXPECT_EQ(totals.late, 0u);
  ASSERT_EQ(totals.addedLatencyMs.size(), 8u);
  for (float ms : totals.addedLatencyMs) EXPECT_NEAR(ms, 1.0, 0.01);
}

TEST(LoadReceiver, DuplicateCountedOnceAndLateBeyondThreshold) {
  Stream s;
  s.send(3);
  RtpReceiver rx(8000, 60);
  DirectionTotals totals;
  rx.onPacket(s.sent[0], s.t0 + 2ms, s.sender, totals);
  rx.onPacket(s.sent[0], s.t0 + 3ms, s.sender, totals);
  rx.onPacket(s.sent[1], s.t0 + 20ms + 61ms, s.sender, totals);
  EXPECT_EQ(totals.packetsReceived, 2u);
  EXPECT_EQ(totals.duplicates, 1u);
  EXPECT_EQ(totals.late, 1u);
}

TEST(LoadOptions, UsageErrors) {
  auto parse = [](std::vector<std::string> args, std::string& error) {
    std::vector<char*> argv{const_cast<char*>("rtcgate-load")};
    for (auto& a : args) argv.push_back(a.data());
    LoadOptions o;
    return parseOptions(static_cast<int>(argv.size()), argv.data(), o, error);
  };
  const std::vector<std::string> base = {"--wss", "wss://127.0.0.1:8443/", "--genesys-listen", "127.0.0.1:5060",
                                         "--password", "p"};
  std::string error;
  EXPECT_TRUE(parse(base, error)) << error;
  auto with = [&](std::vector<std::string> more) {
    auto args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  EXPECT_FALSE(parse(with({"--agents", "2", "--concurrency", "3"}), error));
  EXPECT_FALSE(parse(with({"--codec", "g722"}), error));
  EXPECT_FALSE(parse(with({"--agent-pattern", "agent%s"}), error));
  EXPECT_FALSE(parse(with({"--direction", "sideways"}), error));
  EXPECT_FALSE(parse({"--wss", "wss://gateway.example:8443/", "--genesys-listen", "127.0.0.1:5060", "--password", "p"},
                     error));
  EXPECT_EQ(expandPattern("agent%04d", 7), "agent0007");
}

TEST(LoadReport, NearestRankPercentile) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_EQ(percentile(v, 50), 3);
  EXPECT_EQ(percentile(v, 99), 5);
  std::vector<double> none;
  EXPECT_EQ(percentile(none, 99), 0);
}

TEST(LoadSipText, DigestAnswerMatchesTheServerSideComputation) {
  auto parsed = signaling::SipMessage::parse(
      "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@d>;tag=1\r\n"
      "To: <sip:a@d>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n"
      "WWW-Authenticate: Digest realm=\"rtcgate\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\"\r\n"
      "WWW-Authenticate: Digest realm=\"rtcgate\", nonce=\"n2\", algorithm=MD5, qop=\"auth\"\r\n"
      "Content-Length: 0\r\n\r\n");
  ASSERT_EQ(parsed.status, signaling::SipMessage::ParseStatus::Ok);
  auto challenge = pickChallenge(*parsed.message);
  ASSERT_TRUE(challenge.has_value());
  EXPECT_EQ(challenge->nonce, "n2");  // MD5 preferred, as JsSIP
  const std::string header = authorizationHeader(*challenge, "agent0001", "pw", "REGISTER", "sip:d", 1);
  const auto cnonceAt = header.find("cnonce=\"") + 8;
  const std::string cnonce = header.substr(cnonceAt, header.find('"', cnonceAt) - cnonceAt);
  const std::string ha1 = signaling::digestHa1(signaling::DigestAlgorithm::Md5, "agent0001", "rtcgate", "pw");
  const std::string expected = signaling::digestResponse(signaling::DigestAlgorithm::Md5, ha1, "n2", "00000001",
                                                         cnonce, "auth", "REGISTER", "sip:d");
  EXPECT_NE(header.find("response=\"" + expected + "\""), std::string::npos) << header;
}

}  // namespace
}  // namespace rtcgate::load

// The Genesys side's RTP socket takes each datagram's arrival from the kernel (SO_TIMESTAMPNS), so a packet that
// waited in the socket while the generator's loop was busy is not counted as latency rtcgate added.
TEST(LoadUdpSocket, ArrivalIsTheKernelsReceiveTimeNotWhenTheLoopReadIt) {
  EventLoop loop("load-udp-test");
  UdpSocket receiver(loop, "127.0.0.1", 0, nullptr);
  ASSERT_TRUE(receiver.enableArrivalTimestamps());
  UdpSocket sender(loop, "127.0.0.1", 0, nullptr);
  const auto beforeSend = Clock::now();
  ASSERT_TRUE(sender.sendTo("x", "127.0.0.1", receiver.port()));
  // The datagram sits in the receive queue while "the loop is busy": a wait the arrival time must not include.
  const auto busyUntil = Clock::now() + 50ms;
  while (Clock::now() < busyUntil) {
  }
  uint8_t buf[16];
  Clock::time_point arrival;
  ASSERT_EQ(receiver.receive(buf, sizeof(buf), arrival), 1);
  EXPECT_GE(arrival, beforeSend);
  EXPECT_LT(arrival, busyUntil - 40ms);
}

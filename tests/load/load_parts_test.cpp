// SPDX-License-Identifier: Apache-2.0
// rtcgate-load's parts without sockets: the receive accounting the report's loss and latency rest on, the command
// line contract (exit 2 cases), percentiles, the SIP digest answer, dialog route sets, registration refresh and the
// UDP retransmission timers (a fake clock: the schedule alone), and the Genesys side against a real socket peer
// that drops rtcgate's first copy.
#include <gtest/gtest.h>

#include <poll.h>

#include <array>
#include <string>
#include <vector>

#include "load_options.h"
#include "load_report.h"
#include "media_flow.h"
#include "retransmission.h"
#include "rtcgate/core/event_loop.h"
#include "udp_socket.h"
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
  EXPECT_FALSE(parse(with({"--wait-dns", "sometimes"}), error));
}

TEST(LoadOptions, DnRegistrationsAwaitedForInboundRunsUnlessForced) {
  auto options = [](std::vector<std::string> more) {
    std::vector<std::string> args = {"--wss", "wss://127.0.0.1:8443/", "--genesys-listen", "127.0.0.1:5060",
                                     "--password", "p"};
    args.insert(args.end(), more.begin(), more.end());
    std::vector<char*> argv{const_cast<char*>("rtcgate-load")};
    for (auto& a : args) argv.push_back(a.data());
    LoadOptions o;
    std::string error;
    EXPECT_TRUE(parseOptions(static_cast<int>(argv.size()), argv.data(), o, error)) << error;
    return o;
  };
  // Outbound calls need no DN Contact (an anchor such as Kamailio registers none); inbound calls do.
  EXPECT_FALSE(waitsForDns(options({})));
  EXPECT_TRUE(waitsForDns(options({"--direction", "inbound"})));
  EXPECT_TRUE(waitsForDns(options({"--wait-dns", "yes"})));
  EXPECT_FALSE(waitsForDns(options({"--direction", "inbound", "--wait-dns", "no"})));
  // Through a registrar-proxy (--inbound-via) inbound calls need no DN either.
  EXPECT_FALSE(waitsForDns(options({"--direction", "inbound", "--inbound-via", "127.0.0.1:5062"})));
  EXPECT_TRUE(options({"--verbose", "--agents", "2"}).verbose);
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

signaling::SipMessage::ParseResult parse(const std::string& text) { return signaling::SipMessage::parse(text); }

TEST(LoadSipText, RouteSetFromRecordRouteReversedForTheUacAndKeptForTheUas) {
  const std::string common =
      "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@d>;tag=1\r\nTo: <sip:b@d>;tag=2\r\n"
      "Call-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:b@10.0.0.9:5080>\r\n"
      "Record-Route: <sip:p2.example;lr>\r\nRecord-Route: <sip:p1.example:5070;lr;transport=udp>, <sip:p0;lr>\r\n";
  auto ok = parse("SIP/2.0 200 OK\r\n" + common + "Content-Length: 0\r\n\r\n");
  ASSERT_EQ(ok.status, signaling::SipMessage::ParseStatus::Ok);
  // RFC 3261 12.1.2: the UAC takes the 2xx's Record-Route in reverse.
  const std::vector<std::string> uac = routeSetOf(*ok.message, true);
  ASSERT_EQ(uac.size(), 3u);
  EXPECT_EQ(uriOf(uac[0]), "sip:p0;lr");
  EXPECT_EQ(uriOf(uac[1]), "sip:p1.example:5070;lr;transport=udp");
  EXPECT_EQ(uriOf(uac[2]), "sip:p2.example;lr");
  // 12.1.1: the UAS takes the request's in order.
  auto req = parse("INVITE sip:b@d SIP/2.0\r\n" + common + "Content-Length: 0\r\n\r\n");
  ASSERT_EQ(req.status, signaling::SipMessage::ParseStatus::Ok);
  const std::vector<std::string> uas = routeSetOf(*req.message, false);
  ASSERT_EQ(uas.size(), 3u);
  EXPECT_EQ(uriOf(uas[0]), "sip:p2.example;lr");
  // A response to it carries the Record-Route back (12.1.1), so the peer builds the same set.
  const std::string resp = formatResponse(*req.message, 200, "OK", "t");
  EXPECT_NE(resp.find("p2.example;lr"), std::string::npos) << resp;
  EXPECT_NE(resp.find("p0;lr"), std::string::npos) << resp;
}

TEST(LoadSipText, InDialogRequestGoesToTheFirstRouteWithRouteHeaders) {
  // Loose routing: Request-URI = remote target, every route a Route header, sent to the first route.
  auto loose = inDialogTarget({"<sip:p1.example:5070;lr>", "<sip:p2;lr>"}, "sip:b@10.0.0.9:5080");
  EXPECT_EQ(loose.requestUri, "sip:b@10.0.0.9:5080");
  EXPECT_EQ(loose.nextHop, "sip:p1.example:5070;lr");
  EXPECT_EQ(loose.routeHeaders, (std::vector<std::string>{"Route: <sip:p1.example:5070;lr>", "Route: <sip:p2;lr>"}));
  // No route set: straight to the remote target.
  auto none = inDialogTarget({}, "sip:b@10.0.0.9:5080");
  EXPECT_EQ(none.nextHop, "sip:b@10.0.0.9:5080");
  EXPECT_TRUE(none.routeHeaders.empty());
  // A strict router (no ;lr, RFC 3261 12.2.1.1): it is the Request-URI, the remote target the last Route.
  auto strict = inDialogTarget({"<sip:p1.example>"}, "sip:b@10.0.0.9");
  EXPECT_EQ(strict.requestUri, "sip:p1.example");
  EXPECT_EQ(strict.routeHeaders, (std::vector<std::string>{"Route: <sip:b@10.0.0.9>"}));
}

TEST(LoadSipText, RegistrationRefreshFollowsTheGrantedExpiry) {
  const std::string head =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@d>;tag=1\r\n"
      "To: <sip:a@d>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n";
  // Our Contact's expires param wins over Expires (RFC 3261 10.2.4); another agent's Contact is not ours.
  auto ok = parse(head + "Contact: <sip:other@y.invalid;transport=ws>;expires=3000\r\n"
                         "Contact: <sip:me@x.invalid;transport=ws;ob>;expires=30\r\nExpires: 600\r\n"
                         "Content-Length: 0\r\n\r\n");
  ASSERT_EQ(ok.status, signaling::SipMessage::ParseStatus::Ok);
  EXPECT_EQ(grantedExpiresS(*ok.message, "sip:me@x.invalid;transport=ws;ob", 600), 30u);
  auto expiresOnly = parse(head + "Expires: 120\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(expiresOnly.status, signaling::SipMessage::ParseStatus::Ok);
  EXPECT_EQ(grantedExpiresS(*expiresOnly.message, "sip:me@x.invalid;transport=ws;ob", 600), 120u);
  auto bare = parse(head + "Content-Length: 0\r\n\r\n");
  ASSERT_EQ(bare.status, signaling::SipMessage::ParseStatus::Ok);
  EXPECT_EQ(grantedExpiresS(*bare.message, "sip:me@x.invalid;transport=ws;ob", 600), 600u);
  EXPECT_EQ(refreshAfterS(30), 15u);
  EXPECT_EQ(refreshAfterS(1), 1u);
}

std::vector<int64_t> steps(RetransmitKind kind, bool& endsInTimeout) {
  RetransmitSchedule s(kind);
  std::vector<int64_t> waits;
  for (int i = 0; i < 64; ++i) {
    auto step = s.next();
    waits.push_back(step.wait.count());
    if (step.timeout) {
      endsInTimeout = true;
      return waits;
    }
  }
  endsInTimeout = false;
  return waits;
}

TEST(LoadRetransmission, InviteTimerADoublesUntilTimerB) {
  bool timeout = false;
  // RFC 3261 17.1.1.2: copies at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; Timer B at 64*T1 = 32 s.
  EXPECT_EQ(steps(RetransmitKind::InviteRequest, timeout),
            (std::vector<int64_t>{500, 1000, 2000, 4000, 8000, 16000, 500}));
  EXPECT_TRUE(timeout);
}

TEST(LoadRetransmission, NonInviteAndTwoHundredCapAtT2UntilTimerF) {
  for (auto kind : {RetransmitKind::NonInviteRequest, RetransmitKind::InviteAnswer}) {
    bool timeout = false;
    // 17.1.2.2 Timer E (and 13.3.1.4 for the 2xx): doubling up to T2 = 4 s; Timer F / the 2xx's end at 32 s.
    auto waits = steps(kind, timeout);
    EXPECT_EQ(waits, (std::vector<int64_t>{500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000, 500}));
    EXPECT_TRUE(timeout);
  }
}

TEST(LoadRetransmission, ResendsOverUdpUntilAPeerThatDroppedTheFirstCopyAnswers) {
  EventLoop loop("retransmit-test");
  loop.adoptCurrentThread();
  UdpSocket peer(loop, "127.0.0.1", 0, nullptr);
  UdpSocket us(loop, "127.0.0.1", 0, nullptr);
  int copiesSeen = 0, resent = 0;
  bool answered = false, timedOut = false;
  Retransmission tx;
  // The peer drops the first copy (as a lossy network would) and answers the second.
  peer.setReadable([&] {
    uint8_t b[64];
    while (peer.receive(b, sizeof(b)) > 0)
      if (++copiesSeen == 2) peer.sendTo("SIP/2.0 200 OK", "127.0.0.1", us.port());
  });
  us.setReadable([&] {
    uint8_t b[64];
    while (us.receive(b, sizeof(b)) > 0) {
      answered = true;
      tx.stop();
      loop.quit();
    }
  });
  us.sendTo("BYE", "127.0.0.1", peer.port());
  tx.start(
      loop, RetransmitKind::NonInviteRequest,
      [&] {
        ++resent;
        us.sendTo("BYE", "127.0.0.1", peer.port());
      },
      [&] {
        timedOut = true;
        loop.quit();
      });
  // Bounded: without a retransmission nothing would ever answer.
  Timer guard(loop, std::chrono::seconds(5), [&] {
    loop.quit();
    return false;
  });
  loop.run();
  EXPECT_TRUE(answered);
  EXPECT_FALSE(timedOut);
  EXPECT_EQ(copiesSeen, 2);
  EXPECT_EQ(resent, 1);  // Timer E's first firing (T1 = 500 ms), then stopped by the answer
}

// The Genesys side's RTP socket takes each datagram's arrival from the kernel (SO_TIMESTAMPNS), so a packet that
// waited in the socket while the generator's loop was busy is not counted as latency rtcgate added.
TEST(LoadUdpSocket, ArrivalIsTheKernelsReceiveTimeNotWhenTheLoopReadIt) {
  EventLoop loop("load-udp-test");
  UdpSocket receiver(loop, "127.0.0.1", 0, nullptr);
  ASSERT_TRUE(receiver.enableArrivalTimestamps());
  UdpSocket sender(loop, "127.0.0.1", 0, nullptr);
  uint8_t buf[16];
  Clock::time_point arrival, queuedBy, beforeSend;
  // One datagram, awaited in the receive queue (the kernel may deliver it from softirq a little later on a busy
  // machine), then kept waiting there `hold` "while the loop is busy": a wait its arrival must not include.
  auto sendQueueAndRead = [&](std::chrono::milliseconds hold) {
    beforeSend = Clock::now();
    ASSERT_TRUE(sender.sendTo("x", "127.0.0.1", receiver.port()));
    pollfd pfd{receiver.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&pfd, 1, 2000), 1);
    queuedBy = Clock::now();
    while (Clock::now() < queuedBy + hold) {
    }
    ASSERT_EQ(receiver.receive(buf, sizeof(buf), arrival), 1);
  };
  // The kernel turns receive timestamps on for the whole system through a deferred static key (net_enable_timestamp
  // schedules it): until then it stamps at recvmsg time. Wait (bounded) until a probe comes back stamped earlier.
  for (int probe = 0; probe < 100; ++probe) {
    sendQueueAndRead(2ms);
    if (arrival <= queuedBy) break;
  }
  sendQueueAndRead(50ms);
  EXPECT_GE(arrival, beforeSend);
  EXPECT_LE(arrival, queuedBy);
}

}  // namespace
}  // namespace rtcgate::load

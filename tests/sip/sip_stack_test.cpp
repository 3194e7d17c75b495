// SPDX-License-Identifier: Apache-2.0
// SipStack against real SIPp (Debian sip-tester) on 127.0.0.1, ports chosen at runtime.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <tuple>

#include "rtcgate/media/rtp/rtp_leg.h"
#include "rtcgate/sdp/session_description.h"
#include "rtcgate/sip/sip_stack.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate::sip {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTestSdp =
    "v=0\r\no=rtcgate 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 20000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

// Stands in for the session layer's transfer: observes the INVITE placed for a REFER and ends it once answered.
struct TransferRecorder : UpstreamCallObserver {
  EventLoop* loop = nullptr;
  std::shared_ptr<UpstreamCall> call;
  bool answered = false;
  int terminatedStatus = 0;
  void onAnswered(std::string_view) override {
    answered = true;
    loop->post([c = call] { c->hangup(); });
  }
  void onTerminated(int status, std::string_view) override { terminatedStatus = status; }
};

// Stands in for the session layer: answers (or only rings) calls with a fixed plain-RTP SDP and records events.
struct TestHandler : UpstreamCallHandler, UpstreamCallObserver {
  enum class Mode { Answer, RingOnly, AnswerThenHangup };
  EventLoop* loop = nullptr;
  Mode mode = Mode::Answer;
  bool hangupWhenAnswered = true;  // our outbound call: BYE as soon as Genesys answers
  std::string answerSdp = kTestSdp;
  std::vector<std::shared_ptr<UpstreamCall>> calls;
  std::shared_ptr<UpstreamCall> outbound;
  bool confirmed = false, answered = false, terminated = false;
  int terminatedStatus = 0;
  std::string confirmedSdp, answeredSdp;
  std::vector<int> progress;
  std::vector<std::string> remoteControl;
  std::vector<std::string> reoffers;  // offers seen by onReoffer
  int offersRequested = 0;
  std::vector<std::pair<int, std::string>> reinviteAnswers;

  void onIncomingCall(std::shared_ptr<UpstreamCall> call) override {
    calls.push_back(call);
    call->setObserver(this);
    call->ring();
    if (mode != Mode::RingOnly) call->answer(answerSdp);
  }
  void onConfirmed(std::string_view sdp) override {
    confirmed = true;
    confirmedSdp = std::string(sdp);
    if (mode == Mode::AnswerThenHangup) loop->post([c = calls.back()] { c->hangup(); });
    if (!referTo.empty())
      loop->post([this, c = calls.back()] { referSent = c->refer(referTo, referredBy); });
  }
  // A transfer asked by the agent: REFER once the call is confirmed.
  std::string referTo, referredBy;
  bool referSent = false;
  std::vector<int> referResponses;
  std::vector<std::tuple<int, std::string, bool>> referNotifies;
  void onReferResponse(int status, std::string_view) override { referResponses.push_back(status); }
  bool hangupWhenReferEnds = false;
  void onReferNotify(int code, std::string_view phrase, bool over) override {
    referNotifies.emplace_back(code, std::string(phrase), over);
    if (over && hangupWhenReferEnds) loop->post([c = calls.back()] { c->hangup(); });
  }
  void onProgress(int status, std::string_view) override { progress.push_back(status); }
  void onAnswered(std::string_view sdp) override {
    answered = true;
    answeredSdp = std::string(sdp);
    if (hangupWhenAnswered) loop->post([this] { outbound->hangup(); });
  }
  // As the session layer does through the browser: a remote "talk" answers the ringing call.
  void onRemoteControl(std::string_view event) override {
    remoteControl.emplace_back(event);
    if (event == "talk" && mode == Mode::RingOnly && !calls.empty() && calls.back()->state() == CallState::Ringing)
      calls.back()->answer(answerSdp);
  }
  std::string onReoffer(std::string_view offer) override {
    reoffers.emplace_back(offer);
    // The session layer's choice, simplified: hold answered inactive, anything without PCMU refused (488).
    if (offer.find("RTP/AVP 0") == std::string_view::npos) return {};
    std::string answer = kTestSdp;
    answer.replace(answer.find("a=sendrecv"), 10, "a=inactive");
    return answer;
  }
  std::string onOfferRequested() override {
    ++offersRequested;
    std::string offer = kTestSdp;
    offer.replace(offer.find("m=audio 20000"), 13, "m=audio 20002");
    return offer;
  }
  void onReinviteAnswer(int status, std::string_view sdp) override { reinviteAnswers.emplace_back(status, sdp); }
  // As the session does for a REFER: the new INVITE with our offer.
  bool onTransferRequested(const TransferRequest& request) override {
    transfers.push_back(request);
    transfer.call = stack->placeTransfer(*calls.back(), kTestSdp, &transfer);
    return transfer.call != nullptr;
  }
  // As the session does for an INVITE with Replaces: answer the new dialog, end the one it replaces.
  bool onReplacedBy(std::shared_ptr<UpstreamCall> call) override {
    replacements.push_back(call);
    call->answer(answerSdp);
    loop->post([old = calls.back()] { old->hangup(); });
    return true;
  }
  std::vector<std::shared_ptr<UpstreamCall>> replacements;
  SipStack* stack = nullptr;
  std::vector<TransferRequest> transfers;
  TransferRecorder transfer;
  void onTerminated(int status, std::string_view) override {
    terminated = true;
    terminatedStatus = status;
  }
};

class SipStackTest : public ::testing::Test {
protected:
  void SetUp() override {
    loop.adoptCurrentThread();
    handler.loop = &loop;
    upstreamPort = test::freePort();
    cfg = std::make_shared<config::Config>();
    cfg->upstream.sipBind = {"127.0.0.1", 0};
    cfg->upstream.transports = {config::SipTransport::Udp, config::SipTransport::Tcp};
    cfg->upstream.servers = {{"127.0.0.1", upstreamPort, config::SipTransport::Udp}};
    cfg->upstream.registerRetryMinMs = 200;
    cfg->upstream.registerRetryMaxMs = 800;
    config::Agent a;
    a.user = "agent1001";
    a.dn = "1001";
    a.dnPassword = Secret("s3cret");
    cfg->agents.push_back(a);
    a.user = "agent1002";
    a.dn = "1002";
    a.dnPassword = Secret();
    cfg->agents.push_back(a);
  }
  void TearDown() override { stack.reset(); }

  void startStack() {
    stack = std::make_unique<SipStack>(loop, cfg, metrics, handler);
    handler.stack = stack.get();
    handler.transfer.loop = &loop;
    stack->start();
    ASSERT_TRUE(test::pumpUntil(loop, [&] { return stack->ready(); }));
  }

  // SIPp as the upstream sending requests to rtcgate (UAC).
  std::unique_ptr<test::SippProcess> uac(const std::string& name, const std::string& user,
                                         const std::string& from = "127.0.0.1", bool tcp = false,
                                         const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"127.0.0.1:" + std::to_string(stack->port()), "-i", from, "-p",
                                  std::to_string(test::freePort(from.c_str())), "-mp",
                                  std::to_string(test::freeMediaPort()), "-s", user, "-m", "1", "-timeout", "15s",
                                  "-timeout_error"};
    if (from != "127.0.0.1") args.push_back("-bind_local");
    if (tcp) args.insert(args.end(), {"-t", "t1"});
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<test::SippProcess>(dir.path(), test::scenario(name), args);
  }
  // SIPp as the upstream answering rtcgate (UAS) on upstreamPort.
  std::unique_ptr<test::SippProcess> uas(const std::string& name, const std::string& timeout = "15s") {
    auto p = std::make_unique<test::SippProcess>(
        dir.path(), test::scenario(name),
        std::vector<std::string>{"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                                 std::to_string(test::freeMediaPort()), "-m", "1", "-timeout", timeout, "-timeout_error",
                                 "-bind_local"});
    EXPECT_TRUE(test::pumpUntil(loop, [&] { return test::udpPortBound(upstreamPort) || p->exited(); }))
        << p->output();
    return p;
  }
  int finish(test::SippProcess& p, std::chrono::milliseconds timeout = 20s) {
    EXPECT_TRUE(p.started()) << "sipp could not be started (is sip-tester installed?)";
    EXPECT_TRUE(test::pumpUntil(loop, [&] { return p.exited(); }, timeout)) << p.output();
    p.stop();
    return p.exitCode();
  }
  uint64_t counter(const std::string& name) { return metrics.counter(name, "").load(); }

  EventLoop loop{"control"};
  Metrics metrics;
  test::TempDir dir;
  TestHandler handler;
  uint16_t upstreamPort = 0;
  std::shared_ptr<config::Config> cfg;
  std::unique_ptr<SipStack> stack;
};

TEST_F(SipStackTest, BindsAnEphemeralPort) {
  startStack();
  EXPECT_NE(stack->port(), 0);
}

TEST_F(SipStackTest, OptionsHealthCheckToUnknownUserGets200WithAllowEvents) {
  startStack();
  auto p = uac("options_health_check_unknown_user.xml", "nobody");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_EQ(counter("rtcgate_sip_options_received_total"), 1u);
}

TEST_F(SipStackTest, TcpTransportSharesThePortAndAnswersOptions) {
  startStack();
  auto p = uac("options_health_check_unknown_user.xml", "anyone", "127.0.0.1", true);
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_EQ(counter("rtcgate_sip_options_received_total"), 1u);
}

TEST_F(SipStackTest, InboundCallToRegisteredDnRingsAnswersAndEndsOnBye) {
  // The answer is a real RTP leg's SDP, as the session layer will give.
  auto base = test::freePortRangeBase(100);
  media::RtpPortPool ports(base, static_cast<uint16_t>(base + 99), 1);
  media::RtpLeg leg(loop, ports.slice(0), media::RtpLegConfig{}, metrics);
  ASSERT_TRUE(leg.open());
  handler.answerSdp = "v=0\r\no=rtcgate 1 1 IN IP4 " + leg.localAddress() + "\r\ns=rtcgate\r\nc=IN IP4 " +
                      leg.localAddress() + "\r\nt=0 0\r\nm=audio " + std::to_string(leg.localPort()) +
                      " RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_to_registered_dn.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  ASSERT_EQ(handler.calls.size(), 1u);
  const auto& call = *handler.calls[0];
  EXPECT_EQ(call.dn(), "1001");
  EXPECT_EQ(call.direction(), CallDirection::Inbound);
  EXPECT_EQ(call.genesysCallUuid(), "0A1B2C3D4E5F6071");
  auto remote = sdp::parse(call.remoteSdp());
  ASSERT_EQ(remote.media.size(), 1u) << call.remoteSdp();
  const auto* connection = sdp::connectionOf(remote, 0);
  ASSERT_NE(connection, nullptr) << call.remoteSdp();
  EXPECT_EQ(connection->address, "127.0.0.1");
  auto maps = remote.media[0].rtpMaps();
  EXPECT_TRUE(std::any_of(maps.begin(), maps.end(), [](const auto& r) {
    return r.payloadType == 101 && r.encoding == "telephone-event";
  })) << call.remoteSdp();
  EXPECT_TRUE(leg.setRemote(connection->address, remote.media[0].port));
  EXPECT_FALSE(call.lateOffer());
  EXPECT_TRUE(handler.confirmed);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
  EXPECT_EQ(call.state(), CallState::Terminated);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
}

// RFC 4028 §4 allows Session-Expires down to 90 s; nua's default Min-SE of 120 answered 90 with 422 (issue 10).
TEST_F(SipStackTest, SessionExpires90IsAcceptedWithTheDefaultMinSe) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_session_expires_90_accepted.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_TRUE(handler.confirmed);
}

TEST_F(SipStackTest, SessionExpiresBelowMinSeGets422WithMinSe90) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_session_expires_60_gets_422.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.calls.empty());
}

// Issue 10, RFC 4028 with Genesys as refresher: its refresh re-INVITE (same SDP) goes to the session layer like any
// re-offer, its refresh UPDATE (no SDP) is answered by nua alone; both 200s carry Session-Expires.
TEST_F(SipStackTest, GenesysRefreshByReinviteThenUpdateGets200WithSessionExpires) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_genesys_refreshes_by_reinvite_then_update.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_TRUE(handler.confirmed);
  EXPECT_EQ(handler.reoffers.size(), 1u);  // the re-INVITE; the UPDATE carried no offer
  EXPECT_EQ(handler.offersRequested, 0);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
}

// Issue 10: NOTIFY Event: talk / hold (BroadWorks remote control, advertised in Allow-Events) got 481.
TEST_F(SipStackTest, NotifyTalkWhileRingingAndHoldWhenConnectedGet200) {
  handler.mode = TestHandler::Mode::RingOnly;
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_notify_talk_and_hold.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_EQ(handler.remoteControl, (std::vector<std::string>{"talk", "hold", "talk"}));
  EXPECT_TRUE(handler.confirmed);
  // Only the Call-Info entry asking for auto-answer is kept, for the browser's INVITE.
  const auto& ci = handler.calls[0]->autoAnswerCallInfo();
  EXPECT_NE(ci.find("answer-after=0"), std::string::npos) << ci;
  EXPECT_EQ(ci.find("purpose=icon"), std::string::npos) << ci;
  // The caller's identity for the browser's INVITE (the agent app shows it), quotes removed.
  EXPECT_EQ(handler.calls[0]->callerUser(), "7000");
  EXPECT_EQ(handler.calls[0]->callerName(), "Genesys");
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
}

TEST_F(SipStackTest, NotifyOutsideADialogStillGets481) {
  startStack();
  auto p = uac("notify_talk_out_of_dialog_481.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.calls.empty());
}

// Issue 10, transfer asked by the agent: REFER on the Genesys dialog with Refer-To and Referred-By in our domain
// (SIPp checks both), 202, NOTIFY 100 then 200 answered 200 (SIPp checks) and their status lines delivered; then
// Genesys ends the transferred call with BYE.
TEST_F(SipStackTest, ReferOnInboundCallGets202AndItsNotifiesAreAnswered) {
  startStack();
  handler.referTo = "<" + stack->userUri("5001") + ">";
  handler.referredBy = "<" + stack->userUri("1001") + ">";
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_transfer_by_refer_accepted.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.referSent);
  EXPECT_EQ(handler.referResponses, std::vector<int>{202});
  using N = std::tuple<int, std::string, bool>;
  EXPECT_EQ(handler.referNotifies, (std::vector<N>{N{100, "Trying", false}, N{200, "OK", true}}));
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_FALSE(handler.calls[0]->referInProgress());
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
}

// A REFER Genesys refuses: the 403 is delivered, no subscription is left, and the call stays up until its BYE.
TEST_F(SipStackTest, ReferRefused403LeavesTheCallUp) {
  startStack();
  handler.referTo = "<" + stack->userUri("5001") + ">";
  handler.referredBy = "<" + stack->userUri("1001") + ">";
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_transfer_by_refer_refused_403.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_EQ(handler.referResponses, std::vector<int>{403});
  EXPECT_TRUE(handler.referNotifies.empty());
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_FALSE(handler.calls[0]->referInProgress());
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
}

// A subscription whose next NOTIFY does not come before its expiry (Genesys said expires=1) ends on its own with
// 408, so the transfer state is not stuck (a later REFER could be sent).
TEST_F(SipStackTest, ReferSubscriptionWithoutFinalNotifyEndsAtItsExpiry) {
  startStack();
  handler.referTo = "<" + stack->userUri("5001") + ">";
  handler.referredBy = "<" + stack->userUri("1001") + ">";
  handler.hangupWhenReferEnds = true;
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_transfer_by_refer_no_final_notify.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  using N = std::tuple<int, std::string, bool>;
  EXPECT_EQ(handler.referNotifies, (std::vector<N>{N{100, "Trying", false}, N{408, "Request Timeout", true}}));
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_FALSE(handler.calls[0]->referInProgress());
}

TEST_F(SipStackTest, InboundCallToUnknownDnGets404) {
  startStack();
  auto p = uac("inbound_call_to_unknown_dn_404.xml", "9999");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.calls.empty());
  EXPECT_EQ(counter("rtcgate_sip_invites_unknown_dn_total"), 1u);
}

// Issue 11, reliability-security.md 5 item 19: an INVITE flood from the upstream at 10x the rated rate
// (security.rate_limits.upstream_invites, here 10/s after a burst of 10; SIPp sends 100/s). Every INVITE is
// answered: admitted ones reach the DN lookup (404 here), the excess gets 503 with Retry-After: 1 (SIPp checks each),
// counted. A call established before the flood goes on through it and ends normally; afterwards INVITEs are admitted
// again. The response times are a benchmark's business (scripts/invite_flood_bench.sh), not this test's.
TEST_F(SipStackTest, InviteFloodAtTenTimesTheRatedRateGets503WithRetryAfterAndSparesTheLiveCall) {
  cfg->security.rateLimits.upstreamInvites = {10, 10};
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  // The scenario names its SDP port with -key rtpport (the RTP leg latches to it); no media is sent here.
  auto live = uac("session_uac_call_dn_hold_4s.xml", "1001", "127.0.0.1", false,
                  {"-key", "rtpport", std::to_string(test::freeMediaPort())});
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return handler.confirmed || live->exited(); }, 10s)) << live->output();
  ASSERT_TRUE(handler.confirmed) << live->output();

  constexpr int kFlood = 200;
  auto flood = std::make_unique<test::SippProcess>(
      dir.path(), test::scenario("invite_flood_404_or_503_retry_after.xml"),
      std::vector<std::string>{"127.0.0.1:" + std::to_string(stack->port()), "-i", "127.0.0.1", "-p",
                               std::to_string(test::freePort()), "-mp", std::to_string(test::freeMediaPort()), "-s",
                               "9999", "-r", "100", "-m", std::to_string(kFlood), "-timeout", "30s",
                               "-timeout_error"});
  EXPECT_EQ(finish(*flood, 40s), 0) << flood->output();  // every INVITE answered 404, or 503 with Retry-After: 1
  const uint64_t limited = counter("rtcgate_sip_invites_rate_limited_total");
  EXPECT_EQ(limited + counter("rtcgate_sip_invites_unknown_dn_total"), static_cast<uint64_t>(kFlood));
  // 2 s of flood admit the burst plus about 10/s; at least half of the 200 must have been refused.
  EXPECT_GE(limited, static_cast<uint64_t>(kFlood / 2));
  EXPECT_EQ(handler.calls.size(), 1u);  // the flood reached no call handler

  EXPECT_EQ(finish(*live), 0) << live->output();  // its 4 s, then BYE answered 200
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated && stack->activeCalls() == 0; }));

  // Recovery: once a token is back (within 1 s, as Retry-After said), an INVITE is admitted again. Bounded retries:
  // an INVITE refused meanwhile makes the 404-expecting SIPp fail, and it is tried again.
  int exitCode = -1;
  for (int attempt = 0; attempt < 10 && exitCode != 0; ++attempt) {
    auto again = uac("inbound_call_to_unknown_dn_404.xml", "9999");
    exitCode = finish(*again);
  }
  EXPECT_EQ(exitCode, 0);
  EXPECT_EQ(counter("rtcgate_sip_invites_unknown_dn_total") + counter("rtcgate_sip_invites_rate_limited_total"),
            counter("rtcgate_sip_invites_received_total") - 1);  // all but the live call's INVITE
}

TEST_F(SipStackTest, InboundCallToDnWithoutAgentGets480) {
  startStack();
  auto p = uac("inbound_call_to_dn_without_agent_480.xml", "1002");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.calls.empty());
  EXPECT_EQ(counter("rtcgate_sip_invites_no_agent_total"), 1u);
}

// Issue 11: a spoofed INVITE from outside the allowed sources got 100 Trying plus a 403 nta retransmitted until
// timer H; it is now dropped in the kernel and nothing goes back. The OPTIONS from the allowed source, sent after
// it and answered, shows the INVITE went through the socket first (the old 100 and 403 were sent at once).
TEST_F(SipStackTest, InboundCallFromForeignSourceGetsNoAnswer) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.2", &local.sin_addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(stack->port());
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  const std::string invite =
      "INVITE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-spoof-2\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:victim@127.0.0.2>;tag=sp2\r\nTo: <sip:1001@127.0.0.1>\r\n"
      "Call-ID: spoofed-invite-2\r\nCSeq: 1 INVITE\r\nContact: <sip:victim@127.0.0.2>\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(::sendto(fd, invite.data(), invite.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(invite.size()));
  auto p = uac("options_health_check_unknown_user.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  size_t reflected = 0;
  char buf[4096];
  while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) ++reflected;
  ::close(fd);
  EXPECT_EQ(reflected, 0u);
  EXPECT_TRUE(handler.calls.empty());
}

// A UDP SIP endpoint on one 127/8 address, for dialogs SIPp cannot drive from two source addresses.
class RawSipSocket {
public:
  explicit RawSipSocket(const std::string& ip) : ip_(ip) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, ip.c_str(), &local.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    socklen_t len = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    port_ = ntohs(local.sin_port);
  }
  ~RawSipSocket() { ::close(fd_); }
  RawSipSocket(const RawSipSocket&) = delete;
  RawSipSocket& operator=(const RawSipSocket&) = delete;
  const std::string& ip() const { return ip_; }
  uint16_t port() const { return port_; }
  void send(uint16_t to, const std::string& msg) {
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(to);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    ::sendto(fd_, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
  }
  // Appends what has arrived (no waiting) to received.
  void drain() {
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
      received.emplace_back(buf, static_cast<size_t>(n));
  }
  bool hasResponse(const std::string& statusLine, const std::string& cseq) {
    drain();
    return std::any_of(received.begin(), received.end(), [&](const std::string& m) {
      return m.rfind(statusLine, 0) == 0 && m.find("CSeq: " + cseq + "\r\n") != std::string::npos;
    });
  }
  std::vector<std::string> received;

private:
  std::string ip_;
  int fd_ = -1;
  uint16_t port_ = 0;
};

std::string inDialogRequest(const std::string& method, int cseq, const RawSipSocket& from, const std::string& toTag,
                            const std::string& sdp) {
  return method + " sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + from.ip() + ":" + std::to_string(from.port()) +
         ";branch=z9hG4bK-dlg-" + std::to_string(cseq) + "\r\nMax-Forwards: 70\r\n"
         "From: <sip:7000@127.0.0.1>;tag=gen1\r\nTo: <sip:1001@127.0.0.1>" + toTag + "\r\n"
         "Call-ID: in-dialog-source-check-1\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n"
         "Contact: <sip:7000@" + from.ip() + ":" + std::to_string(from.port()) + ">\r\n" +
         (sdp.empty() ? std::string() : "Content-Type: application/sdp\r\n") +
         "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

// Issue 11, per-request checks (what applies when a server is named by a DNS name and the kernel cannot filter):
// in dialog, a re-INVITE from a foreign address moved the call's media to it and a BYE ended the call. Now the
// re-INVITE gets 403, the BYE no answer (nua ends its session on any final answer to a BYE), and the call goes on
// until Genesys itself ends it.
TEST_F(SipStackTest, InDialogRequestsFromForeignSourceAreRefused) {
  cfg->upstream.servers[0].host = "localhost";
  cfg->upstream.allowedSourceCidrs = {"127.0.0.1"};
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  RawSipSocket genesys("127.0.0.1"), stranger("127.0.0.2");
  const std::string offer = kTestSdp;
  genesys.send(stack->port(), inDialogRequest("INVITE", 1, genesys, "", offer));
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return genesys.hasResponse("SIP/2.0 200", "1 INVITE"); }));
  std::string toTag;
  for (const auto& m : genesys.received) {
    auto to = m.find("\r\nTo:");
    auto tag = to == std::string::npos ? std::string::npos : m.find(";tag=", to);
    if (m.rfind("SIP/2.0 200", 0) == 0 && tag != std::string::npos) toTag = m.substr(tag, m.find("\r\n", tag) - tag);
  }
  ASSERT_FALSE(toTag.empty());
  genesys.send(stack->port(), inDialogRequest("ACK", 1, genesys, toTag, ""));
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return handler.confirmed; }));

  std::string moved = offer;
  moved.replace(moved.find("c=IN IP4 127.0.0.1"), 18, "c=IN IP4 127.0.0.2");
  stranger.send(stack->port(), inDialogRequest("INVITE", 2, stranger, toTag, moved));
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stranger.hasResponse("SIP/2.0 403", "2 INVITE"); }));
  stranger.send(stack->port(), inDialogRequest("ACK", 2, stranger, toTag, moved));
  stranger.send(stack->port(), inDialogRequest("BYE", 3, stranger, toTag, ""));
  // An in-dialog OPTIONS from Genesys, sent after the BYE and answered: the BYE has been through the stack.
  genesys.send(stack->port(), inDialogRequest("OPTIONS", 4, genesys, toTag, ""));
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return genesys.hasResponse("SIP/2.0 200", "4 OPTIONS"); }));
  EXPECT_FALSE(stranger.hasResponse("SIP/2.0", "3 BYE"));
  EXPECT_TRUE(handler.reoffers.empty());
  EXPECT_FALSE(handler.terminated);
  EXPECT_GE(counter("rtcgate_sip_refused_source_total"), 2u);

  genesys.send(stack->port(), inDialogRequest("BYE", 5, genesys, toTag, ""));
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return genesys.hasResponse("SIP/2.0 200", "5 BYE"); }));
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
}

TEST_F(SipStackTest, AllowedSourceCidrAdmitsAnotherAddress) {
  cfg->upstream.allowedSourceCidrs = {"127.0.0.0/30"};
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_to_registered_dn.xml", "1001", "127.0.0.2");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_EQ(handler.calls.size(), 1u);
}

TEST_F(SipStackTest, CancelWhileRingingGives487) {
  handler.mode = TestHandler::Mode::RingOnly;
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_cancelled_while_ringing.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
  EXPECT_EQ(handler.terminatedStatus, 487);
}

TEST_F(SipStackTest, GatewayHangsUpWithBye) {
  handler.mode = TestHandler::Mode::AnswerThenHangup;
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_bye_from_gateway.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
}

TEST_F(SipStackTest, LateOfferTakesTheAnswerFromAck) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_late_offer.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_TRUE(handler.calls[0]->lateOffer());
  EXPECT_NE(handler.confirmedSdp.find("m=audio"), std::string::npos);
  EXPECT_EQ(handler.calls[0]->remoteSdp(), handler.confirmedSdp);
}

TEST_F(SipStackTest, HoldReofferRefusalAndOfferlessRetrieve) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_hold_refused_reoffer_offerless_retrieve.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  // The hold and the G.722-only offer reached the session layer; the refused one got 488 (SIPp checked).
  ASSERT_EQ(handler.reoffers.size(), 2u);
  EXPECT_NE(handler.reoffers[0].find("c=IN IP4 0.0.0.0"), std::string::npos);
  // The retrieve asked for a fresh offer and delivered the ACK's answer.
  EXPECT_EQ(handler.offersRequested, 1);
  ASSERT_EQ(handler.reinviteAnswers.size(), 1u);
  EXPECT_EQ(handler.reinviteAnswers[0].first, 200);
  EXPECT_NE(handler.reinviteAnswers[0].second.find("m=audio 30004"), std::string::npos);
  ASSERT_EQ(handler.calls.size(), 1u);
  EXPECT_EQ(handler.calls[0]->remoteSdp(), handler.reinviteAnswers[0].second);
  // SIPp exits on the 200 to its BYE; nua reports the call terminated on a later loop iteration.
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
}

// Issue 10, transfer by Genesys (REFER, rtcgate as transferee): 202, NOTIFY refer "100 Trying", the new INVITE to
// the Refer-To user on the upstream with the unescaped Replaces and Referred-By, NOTIFY "200 OK" ending the
// subscription once it is answered (SIPp checks each), then Genesys's BYE of the old dialog.
TEST_F(SipStackTest, ReferWithReplacesIsAcceptedAndItsOutcomeNotified) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  // The transfer target on the upstream (also answering the DN's REGISTER: two SIPp calls).
  auto target = std::make_unique<test::SippProcess>(
      dir.path(), test::scenario("transfer_target_answers.xml"),
      std::vector<std::string>{"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                               std::to_string(test::freeMediaPort()), "-m", "2", "-timeout", "15s", "-timeout_error",
                               "-bind_local"});
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return test::udpPortBound(upstreamPort) || target->exited(); }));
  auto p = uac("inbound_call_refer_with_replaces_notify_100_then_200.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_EQ(finish(*target), 0) << target->output();
  ASSERT_EQ(handler.transfers.size(), 1u);
  EXPECT_EQ(handler.transfers[0].target, "7001");
  EXPECT_EQ(handler.transfers[0].replaces, "consult-1@genesys;to-tag=t1;from-tag=f1");
  EXPECT_NE(handler.transfers[0].referredBy.find("<sip:7000@127.0.0.1"), std::string::npos)
      << handler.transfers[0].referredBy;
  EXPECT_TRUE(handler.transfer.answered);
  EXPECT_EQ(counter("rtcgate_sip_refers_accepted_total"), 1u);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
}

// No open relay: a REFER to a host that is not the upstream gets 403 and nothing is sent; the call goes on.
TEST_F(SipStackTest, ReferToAForeignHostGets403AndTheCallGoesOn) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("inbound_call_refer_to_foreign_host_403.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.transfers.empty());
  EXPECT_EQ(counter("rtcgate_sip_refers_refused_total"), 1u);
  EXPECT_EQ(counter("rtcgate_sip_invites_sent_total"), 0u);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));  // Genesys's BYE got 200 (SIPp checked)
}

// REFER is allowed only inside a call: outside one nua answers 405 and sends nothing else (sofia-sip would NOTIFY
// "100 Trying" to any sender of an out-of-dialog REFER it let through, whatever the answer).
TEST_F(SipStackTest, ReferOutsideACallGets405AndNoNotify) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("refer_out_of_dialog_405.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.transfers.empty());
  EXPECT_EQ(counter("rtcgate_sip_invites_sent_total"), 0u);
}

// The new INVITE fails (486): Genesys gets NOTIFY "486 Busy Here" ending the subscription, the old dialog stays.
TEST_F(SipStackTest, ReferTargetFailureIsNotifiedAndTheOldDialogKept) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto target = std::make_unique<test::SippProcess>(
      dir.path(), test::scenario("transfer_target_busy_486.xml"),
      std::vector<std::string>{"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                               std::to_string(test::freeMediaPort()), "-m", "2", "-timeout", "15s", "-timeout_error",
                               "-bind_local"});
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return test::udpPortBound(upstreamPort) || target->exited(); }));
  auto p = uac("inbound_call_refer_target_fails_notify_486_call_kept.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_EQ(finish(*target), 0) << target->output();
  ASSERT_EQ(handler.transfers.size(), 1u);
  EXPECT_TRUE(handler.transfers[0].replaces.empty());
  EXPECT_FALSE(handler.transfer.answered);
  EXPECT_EQ(handler.transfer.terminatedStatus, 486);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
}

// Issue 10, RFC 3891 from SIP Server: an INVITE with Replaces naming an established call of the DN (Call-ID, Genesys's
// From tag, rtcgate's To tag) goes to that call's observer, not to the handler as a new call; it is answered and
// the replaced dialog gets BYE (both checked by SIPp).
TEST_F(SipStackTest, InviteWithReplacesTakesOverTheNamedCall) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto first = std::make_unique<test::SippProcess>(
      dir.path(), test::scenario("inbound_call_replaced_then_bye_from_gateway.xml"),
      std::vector<std::string>{"127.0.0.1:" + std::to_string(stack->port()), "-i", "127.0.0.1", "-p",
                               std::to_string(test::freePort()), "-mp", std::to_string(test::freeMediaPort()), "-s", "1001",
                               "-cid_str", "replaced-%u@%s", "-m", "1", "-timeout", "15s", "-timeout_error"});
  const std::string tagFile = dir.path() + "/totag.csv";
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return std::filesystem::exists(tagFile) || first->exited(); }))
      << first->output();
  ASSERT_TRUE(std::filesystem::exists(tagFile)) << first->output();
  test::TempDir dir2;  // the second SIPp's own logs
  auto second = std::make_unique<test::SippProcess>(
      dir2.path(), test::scenario("invite_with_replaces_takes_over_the_call.xml"),
      std::vector<std::string>{"127.0.0.1:" + std::to_string(stack->port()), "-i", "127.0.0.1", "-p",
                               std::to_string(test::freePort()), "-mp", std::to_string(test::freeMediaPort()), "-s", "1001",
                               "-inf", tagFile, "-m", "1", "-timeout", "15s", "-timeout_error"});
  EXPECT_EQ(finish(*first), 0) << first->output();
  EXPECT_EQ(finish(*second), 0) << second->output();
  EXPECT_EQ(handler.calls.size(), 1u);  // the replacing INVITE was no new call
  ASSERT_EQ(handler.replacements.size(), 1u);
  EXPECT_EQ(handler.replacements[0]->genesysCallUuid(), "0A1B2C3D4E5F6072");
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
}

TEST_F(SipStackTest, InviteWithReplacesNamingNoCallGets481) {
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  auto p = uac("invite_with_replaces_unknown_dialog_481.xml", "1001");
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.calls.empty());
  EXPECT_TRUE(handler.replacements.empty());
}

TEST_F(SipStackTest, RegistersDnWithDigestAndRefreshes) {
  auto p = uas("register_digest_challenge_and_refresh.xml");
  startStack();
  ASSERT_TRUE(stack->registerDn("1001"));
  EXPECT_EQ(finish(*p), 0) << p->output();
  // The initial REGISTER and its refresh (SIPp may exit before its last 200 is processed here).
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return counter("rtcgate_sip_register_ok_total") >= 2; }));
  auto st = stack->registration("1001");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->state, RegistrationState::Registered);
  EXPECT_EQ(st->lastStatus, 200);
  EXPECT_TRUE(st->agentPresent);
  EXPECT_NE(metrics.renderPrometheus().find("rtcgate_sip_dns_registered 1"), std::string::npos);
}

// Issue 11: a dn_password changed by a reload (SIGHUP) was never used: the REGISTER and INVITE challenges kept
// being answered with the start-up one. The scenarios check the digest against "s3cret", the reloaded password.
TEST_F(SipStackTest, ReloadedDnPasswordAnswersTheNextRegisterChallenge) {
  cfg->agents[0].dnPassword = Secret("old-password");
  auto p = uas("register_digest_challenge_and_refresh.xml");
  startStack();
  auto reloaded = std::make_shared<config::Config>(*cfg);
  reloaded->agents[0].dnPassword = Secret("s3cret");
  stack->applyConfig(*reloaded);
  ASSERT_TRUE(stack->registerDn("1001"));
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return counter("rtcgate_sip_register_ok_total") >= 1; }));
}

TEST_F(SipStackTest, ReloadedDnPasswordAnswersTheNextInviteChallenge) {
  cfg->agents[0].dnPassword = Secret("old-password");
  auto p = uas("outbound_call_with_digest_challenge.xml");
  startStack();
  auto reloaded = std::make_shared<config::Config>(*cfg);
  reloaded->agents[0].dnPassword = Secret("s3cret");
  stack->applyConfig(*reloaded);
  handler.outbound = stack->placeCall("1001", "7000", kTestSdp, &handler);
  ASSERT_NE(handler.outbound, nullptr);
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.answered);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
}

TEST_F(SipStackTest, UnregistersWithExpiresZeroWhenTheAgentLeaves) {
  auto p = uas("unregister_sends_expires_zero.xml");
  startStack();
  ASSERT_TRUE(stack->registerDn("1002"));
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return stack->registration("1002")->state == RegistrationState::Registered; }))
      << p->output();
  ASSERT_TRUE(stack->unregisterDn("1002"));
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(test::pumpUntil(
      loop, [&] { return stack->registration("1002")->state == RegistrationState::Unregistered; }));
}

TEST_F(SipStackTest, FailedRegistrationBacksOffAndRetries) {
  // Nothing listens on upstreamPort: every REGISTER fails (ICMP port unreachable or timeout).
  startStack();
  ASSERT_TRUE(stack->registerDn("1002"));
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->registration("1002")->failures >= 3; }, 10s));
  auto st = stack->registration("1002");
  EXPECT_NE(st->state, RegistrationState::Registered);
  EXPECT_GE(st->lastStatus, 400);
  EXPECT_GE(counter("rtcgate_sip_register_failed_total"), 3u);
}

TEST_F(SipStackTest, UnknownDnCannotBeRegistered) {
  startStack();
  EXPECT_FALSE(stack->registerDn("4242"));
  EXPECT_FALSE(stack->registration("4242").has_value());
}

TEST_F(SipStackTest, OptionsPingsDetectUpstreamUpThenDown) {
  cfg->upstream.optionsPingIntervalMs = 300;
  auto p = uas("options_ping_answered.xml");
  startStack();
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->upstreamState() == UpstreamState::Up; }, 5s)) << p->output();
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->upstreamState() == UpstreamState::Down; }, 10s));
  EXPECT_GE(counter("rtcgate_sip_upstream_down_total"), 1u);
}

TEST_F(SipStackTest, OutboundCallAuthenticatesAndCarriesCallUuid) {
  auto p = uas("outbound_call_with_digest_challenge.xml");
  startStack();
  handler.outbound = stack->placeCall("1001", "7000", kTestSdp, &handler);
  ASSERT_NE(handler.outbound, nullptr);
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.answered);
  EXPECT_NE(handler.answeredSdp.find("m=audio"), std::string::npos);
  EXPECT_EQ(handler.outbound->genesysCallUuid(), "99AABBCCDDEEFF00");
  EXPECT_FALSE(handler.progress.empty());
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
}

// Issue 11: an upstream that challenges every INVITE left the call waiting for credentials forever (no final
// answer for the browser, the call never released, shutdown held up). After one authenticated retry it fails 403.
TEST_F(SipStackTest, OutboundCallChallengedAgainFailsWith403AndIsReleased) {
  auto p = uas("outbound_call_challenged_every_time.xml");
  startStack();
  handler.outbound = stack->placeCall("1001", "7000", kTestSdp, &handler);
  ASSERT_NE(handler.outbound, nullptr);
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
  EXPECT_EQ(handler.terminatedStatus, 403);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0; }));
  stack->shutdown();
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return stack->shutdownComplete(); }));
}

// Issue 10, RFC 4028 on our own INVITEs: Session-Expires (upstream.session_timer.expires_s) is offered, and a 422
// with a larger Min-SE is retried by nua with that interval.
TEST_F(SipStackTest, OutboundCallOffersSessionExpiresAndRetries422WithTheLargerMinSe) {
  auto p = uas("outbound_call_session_expires_422_retried_with_min_se.xml");
  startStack();
  handler.outbound = stack->placeCall("1002", "7000", kTestSdp, &handler);
  ASSERT_NE(handler.outbound, nullptr);
  EXPECT_EQ(finish(*p), 0) << p->output();
  EXPECT_TRUE(handler.answered);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
}

// Issue 10, RFC 4028 with rtcgate as refresher (Genesys's 200 says refresher=uac on our INVITE): nua refreshes at
// half the interval, by UPDATE without SDP when Genesys allows UPDATE, else by re-sending the INVITE with the same
// SDP; the refresh's 200 is not taken for a new answer. About 45 s each (90 s is the smallest legal interval).
class SipStackRefresherTest : public SipStackTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(SipStackRefresherTest, RtcgateRefreshesTheSessionBeforeItExpires) {
  cfg->upstream.sessionTimer.expiresS = 90;
  handler.hangupWhenAnswered = false;
  auto p = uas(GetParam(), "75s");
  startStack();
  handler.outbound = stack->placeCall("1002", "7000", kTestSdp, &handler);
  ASSERT_NE(handler.outbound, nullptr);
  EXPECT_EQ(finish(*p, 80s), 0) << p->output();
  EXPECT_TRUE(handler.answered);
  EXPECT_TRUE(handler.reinviteAnswers.empty());
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return handler.terminated; }));
  EXPECT_EQ(handler.terminatedStatus, 200);
}

INSTANTIATE_TEST_SUITE_P(ByUpdateOrReinvite, SipStackRefresherTest,
                         ::testing::Values("outbound_call_rtcgate_refreshes_by_update.xml",
                                           "outbound_call_rtcgate_refreshes_by_reinvite.xml"));

}  // namespace
}  // namespace rtcgate::sip

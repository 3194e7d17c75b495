// SPDX-License-Identifier: Apache-2.0
// The WSS server in-process on 127.0.0.1:0 against stock JsSIP and SIP.js (npm, run by Node) and raw WebSockets.
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>

#include "node_runner.h"
#include "rtcgate/crypto/self_signed_certificate.h"
#include "rtcgate/signaling/browser_dialogs.h"
#include "rtcgate/signaling/digest_auth.h"
#include "rtcgate/signaling/wss_server.h"
#include "support/test_support.h"

namespace rtcgate::signaling {
namespace {

config::Config testConfig() {
  config::Config c;
  c.listeners.wss.push_back(config::WssListener{{"127.0.0.1", 0}, "", ""});
  config::Agent a1;
  a1.user = "1001";
  a1.password = Secret("demo-1001");
  a1.dn = "5001";
  config::Agent a2;
  a2.user = "1002";
  // HA1 = MD5("1002:rtcgate:demo-1002"): the password is never stored.
  a2.ha1 = Secret(digestHa1(DigestAlgorithm::Md5, "1002", "rtcgate", "demo-1002"));
  a2.dn = "5002";
  c.agents = {a1, a2};
  c.security.allowedOrigins = {"https://app.example"};
  c.security.maxMessageBytes = 8192;
  c.security.registerMinExpiresS = 60;
  c.security.authFailuresPerMinute = 1000;
  c.agentTokens.secret = Secret("0123456789abcdef0123456789abcdef-test");
  return c;
}

class WssServerTest : public ::testing::Test {
protected:
  void SetUp() override {
    loop.adoptCurrentThread();
    server = std::make_unique<WssServer>(loop, cfg, metrics);
    ASSERT_NE(server->port(), 0);
    server->registrar().addListener(
        {[this](const Registration& r) { registered.push_back(r); },
         [this](const Registration& r, Registrar::Reason why) { unregistered.emplace_back(r, why); }});
  }
  test::NodeRun node(const std::string& scenario, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{scenario, std::to_string(server->port()), "https://app.example"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::runNode(loop, "signaling/sip_clients.mjs", args);
  }

  EventLoop loop{"control"};
  config::Config cfg = testConfig();
  Metrics metrics;
  std::unique_ptr<WssServer> server;
  std::vector<Registration> registered;
  std::vector<std::pair<Registration, Registrar::Reason>> unregistered;
};

TEST_F(WssServerTest, JsSipRegistersWithDigestRefreshesAndUnregisters) {
  auto run = node("jssip-register");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["first"], "registered") << run.output;
  EXPECT_EQ(run.results["contact_has_expires"], "1");
  EXPECT_EQ(run.results["vias"], "1");
  EXPECT_EQ(run.results["refresh"], "registered");
  EXPECT_EQ(run.results["unregister"], "unregistered");
  ASSERT_EQ(registered.size(), 1u);  // the refresh is not a new binding
  EXPECT_EQ(registered[0].user, "1001");
  EXPECT_EQ(registered[0].dn, "5001");
  EXPECT_EQ(registered[0].expiresS, 120u);
  EXPECT_NE(registered[0].contactUri.find(".invalid"), std::string::npos) << registered[0].contactUri;
  ASSERT_GE(unregistered.size(), 1u);
  EXPECT_EQ(unregistered[0].second, Registrar::Reason::Unregistered);
  EXPECT_EQ(server->registrar().size(), 0u);
}

TEST_F(WssServerTest, JsSipWrongPasswordIsChallengedAgainThenFails) {
  auto run = node("jssip-bad-password");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["outcome"], "registrationFailed") << run.output;
  EXPECT_EQ(run.results["status"], "401");
  EXPECT_TRUE(registered.empty());
  EXPECT_EQ(metrics.counter("rtcgate_wss_auth_failures_total", "").load(), 1u);
}

TEST_F(WssServerTest, JsSipRegistersWithASignedBearerToken) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  std::string token = makeAgentJwt(cfg.agentTokens.secret.reveal(), "", "1001", "", now.count(), now.count() + 600);
  auto run = node("jssip-token", {token});
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["outcome"], "registered") << run.output;
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0].user, "1001");
  EXPECT_EQ(registered[0].dn, "5001");  // a listed agent's DN is the list's, not sub
}

TEST_F(WssServerTest, SipJsRegistersAgainstAnHa1AccountRefreshesAndUnregisters) {
  auto run = node("sipjs-register");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["first"], "Registered") << run.output;
  EXPECT_EQ(run.results["refresh"], "accepted");
  EXPECT_EQ(run.results["state_after_refresh"], "Registered");
  EXPECT_EQ(run.results["unregister"], "Unregistered");
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0].user, "1002");
  EXPECT_EQ(registered[0].dn, "5002");
}

TEST_F(WssServerTest, SipJsWrongPasswordEndsWith401) {
  auto run = node("sipjs-bad-password");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["status"], "401") << run.output;
  EXPECT_NE(run.results["state"], "Registered");
  EXPECT_TRUE(registered.empty());
}

TEST_F(WssServerTest, HostileInputsAreRefusedAndTheServerKeepsServing) {
  auto run = node("hostile");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["wrong_origin"], "http-403") << run.output;
  EXPECT_EQ(run.results["no_subprotocol"], "http-400");
  EXPECT_EQ(run.results["other_subprotocol"], "http-400");
  EXPECT_EQ(run.results["good"], "open");
  EXPECT_EQ(run.results["protocol"], "sip");
  EXPECT_EQ(run.results["keepalive"], "crlf");
  EXPECT_EQ(run.results["options"], "SIP/2.0_200_OK");
  EXPECT_EQ(run.results["malformed"], "SIP/2.0_400_CSeq_method_does_not_match");
  EXPECT_EQ(run.results["garbage"], "closed");
  EXPECT_EQ(run.results["oversized"], "closed-1009");
  EXPECT_EQ(run.results["after"], "open");
  EXPECT_EQ(run.results["after_options"], "SIP/2.0_200_OK");
  EXPECT_EQ(metrics.counter("rtcgate_wss_handshakes_rejected_total", "").load(), 3u);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return server->connectionCount() == 0; }));
}

// Keeps the raw message text of a logger's lines (before any formatter), for as long as it lives.
class CapturedLog {
public:
  explicit CapturedLog(log::Component c) : logger_(log::get(c)), sink_(std::make_shared<Sink>()) {
    logger_->sinks().push_back(sink_);
  }
  ~CapturedLog() {
    auto& sinks = logger_->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(sink_->linesMutex);
    return sink_->lines;
  }

private:
  struct Sink : spdlog::sinks::base_sink<std::mutex> {
    void sink_it_(const spdlog::details::log_msg& msg) override {
      std::lock_guard<std::mutex> lock(linesMutex);
      lines.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}
    mutable std::mutex linesMutex;
    std::vector<std::string> lines;
  };
  spdlog::logger* logger_;
  std::shared_ptr<Sink> sink_;
};

// Issue 11: handshakes without Host rules, Origin or subprotocol were dropped without an answer (or accepted, for a
// bad Host); an unmasked frame and a text frame with invalid UTF-8 were answered; the Origin was logged raw.
TEST_F(WssServerTest, HandshakesAndFramesAgainstRfc6455AreRefusedWithTheRightAnswer) {
  CapturedLog captured(log::Component::Wss);
  auto run = node("strict");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["good_host"], "http-101") << run.output;
  EXPECT_EQ(run.results["host_name_no_port"], "http-101");
  EXPECT_EQ(run.results["host_ipv6"], "http-101");
  EXPECT_EQ(run.results["host_underscore"], "http-101");
  for (const char* key : {"no_host", "empty_host", "host_space", "host_userinfo", "host_bad_port",
                          "host_open_bracket", "host_label_dash"})
    EXPECT_EQ(run.results[key], "http-400") << key;
  EXPECT_EQ(run.results["no_subprotocol"], "http-400");
  EXPECT_EQ(run.results["other_subprotocol"], "http-400");
  EXPECT_EQ(run.results["wrong_origin"], "http-403");
  EXPECT_EQ(run.results["no_origin"], "http-403");
  EXPECT_EQ(run.results["escape_origin"], "http-403");
  // 7 Host + 2 subprotocol + 3 Origin refusals, each counted once.
  EXPECT_EQ(metrics.counter("rtcgate_wss_handshakes_rejected_total", "").load(), 12u);

  EXPECT_EQ(run.results["masked"], "answered-200");
  EXPECT_EQ(run.results["invalid_utf8"], "closed-1007");
  // RFC 6455 5.1 wants closed-1002. libwebsockets 4.1.6 reads the MASK bit only to know whether a key follows
  // (lib/roles/ws/ops-ws.c, LWS_RXPS_04_FRAME_HDR_LEN) and has neither an option to refuse an unmasked frame nor an
  // API that tells us the bit: its payload reaches LWS_CALLBACK_RECEIVE exactly like a frame masked with the key
  // 0000 (docs/signaling.md). This expectation pins that limitation: when an lws upgrade makes it fail, the
  // library enforces 5.1 and docs/signaling.md and this line change to closed-1002.
  EXPECT_EQ(run.results["unmasked"], "answered-200");
  EXPECT_EQ(run.results["after"], "open");

  // Handshake values are logged escaped: no control byte from the client reaches a log line.
  auto lines = captured.lines();
  bool sawRefusal = false;
  for (const auto& line : lines) {
    EXPECT_EQ(std::count_if(line.begin(), line.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20; }),
              0)
        << line;
    if (line.find("https://evil.example\\x1b[2J\\x08FAKE") != std::string::npos &&
        line.find("ua\\x1b[31m") != std::string::npos)
      sawRefusal = true;
  }
  EXPECT_TRUE(sawRefusal) << ::testing::PrintToString(lines);
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return server->connectionCount() == 0; }));
}

TEST_F(WssServerTest, ClosedSocketUnregistersTheAgent) {
  // jssip-register ends with an explicit unregister; here the bad client registers then just disconnects:
  // reuse the token scenario, which stops the UA (closing the socket) right after registering.
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  auto run = node("jssip-token",
                  {makeAgentJwt(cfg.agentTokens.secret.reveal(), "", "1001", "", now.count(), now.count() + 600)});
  ASSERT_EQ(run.exitCode, 0) << run.output;
  ASSERT_EQ(registered.size(), 1u);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return server->registrar().size() == 0; }));
  ASSERT_FALSE(unregistered.empty());
}

}  // namespace
}  // namespace rtcgate::signaling

namespace rtcgate::signaling {
namespace {

const std::string kGatewaySdp =
    "v=0\r\no=rtcgate 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 127.0.0.1\r\na=ice-ufrag:gw01\r\na=ice-pwd:gatewaygatewaygatewaygw\r\n"
    "a=fingerprint:sha-256 " + std::string("CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:"
    "CD:CD:CD:CD:CD:CD:CD:CD") + "\r\na=setup:passive\r\na=mid:0\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=sendrecv\r\n";

TEST_F(WssServerTest, JsSipCallsInAndTheTestHandlerAnswers) {
  std::shared_ptr<BrowserDialog> call;
  int acks = 0;
  std::string ended;
  std::vector<std::string> infos;
  std::vector<std::string> reoffers;
  server->endpoint().dialogs().setIncomingHandler([&](std::shared_ptr<BrowserDialog> d) {
    call = d;
    DialogEvents ev;
    ev.onAck = [&](const std::string&) { ++acks; };
    ev.onTerminated = [&](const std::string& why) { ended = why; };
    ev.onInfo = [&](const std::string& type, const std::string& body) { infos.push_back(type + "|" + body); };
    ev.onReoffer = [&, weak = std::weak_ptr<BrowserDialog>(d)](const std::string&, bool update) {
      reoffers.push_back(update ? "UPDATE" : "INVITE");
      if (auto dialog = weak.lock()) dialog->answerReoffer(200, "OK", kGatewaySdp);
    };
    d->setEvents(ev);
    d->respond(180, "Ringing");
    d->respond(200, "OK", kGatewaySdp);
  });
  auto run = node("jssip-call-in");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["call"], "confirmed") << run.output;
  EXPECT_EQ(run.results["progress"], "180");
  EXPECT_EQ(run.results["remote_sdp"], "yes");
  EXPECT_EQ(run.results["hold"], "done");
  EXPECT_EQ(run.results["update"], "done");
  EXPECT_EQ(run.results["end"], "ended");
  EXPECT_EQ(reoffers, (std::vector<std::string>{"INVITE", "UPDATE"}));
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_NE(infos[0].find("application/dtmf-relay|Signal=5"), std::string::npos) << infos[0];
  ASSERT_TRUE(call);
  EXPECT_EQ(call->agent(), "1001");  // authenticated by digest on the INVITE itself (no REGISTER before)
  EXPECT_EQ(call->target(), "5555");
  EXPECT_NE(call->remoteOffer().find("m=audio"), std::string::npos);
  EXPECT_EQ(acks, 2);  // the INVITE's 2xx and the hold re-INVITE's 2xx
  EXPECT_EQ(ended, "BYE from the browser");
  EXPECT_EQ(server->endpoint().dialogs().size(), 0u);
}

TEST_F(WssServerTest, GatewayCallsTheRegisteredJsSipWhichAnswersThenGatewayHangsUp) {
  std::shared_ptr<BrowserDialog> call;
  std::vector<int> statuses;
  std::string answer;
  server->registrar().addListener({[&](const Registration& r) {
                                     DialogEvents ev;
                                     ev.onResponse = [&](int status, const std::string&, const std::string& sdp) {
                                       statuses.push_back(status);
                                       if (status == 200) {
                                         answer = sdp;
                                         loop.post([&] { call->hangup(); });
                                       }
                                     };
                                     call = server->endpoint().dialogs().invite(r, "5001", kGatewaySdp, ev);
                                   },
                                   nullptr});
  auto run = node("jssip-call-out");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["register"], "registered") << run.output;
  EXPECT_EQ(run.results["direction"], "incoming");
  EXPECT_EQ(run.results["offer"], "yes");
  EXPECT_EQ(run.results["answer"], "confirmed");
  EXPECT_EQ(run.results["end"], "ended-remote");
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back(), 200);
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), 180), statuses.end());  // JsSIP rings by itself
  EXPECT_NE(answer.find("a=setup:active"), std::string::npos);
}

// Issue 10: an answered call outlives the agent's WebSocket drop; stock JsSIP reconnects, registers again and the
// call continues on the new connection (requests both ways), within calls.browser_reconnect_grace_ms.
TEST_F(WssServerTest, JsSipCallSurvivesItsWebSocketDropAndContinuesOnTheNewConnection) {
  auto& dialogs = server->endpoint().dialogs();
  std::shared_ptr<BrowserDialog> call;
  ConnectionId first = 0;
  std::string ended;
  int bindings = 0;
  std::vector<std::string> waiting;
  dialogs.setGraceListener([&](const std::string& agent, bool w) { waiting.push_back(agent + (w ? "+" : "-")); });
  server->registrar().addListener(
      {[&](const Registration& r) {
         if (++bindings == 1) {
           first = r.connection;
           DialogEvents ev;
           ev.onTerminated = [&](const std::string& why) { ended = why; };
           call = dialogs.invite(r, "5001", kGatewaySdp, ev);
           return;
         }
         // The browser is back (the dialog moves to its connection right after this binding): Genesys's DTMF.
         loop.post([&] { call->sendRequest("INFO", "application/dtmf-relay", "Signal=9\r\nDuration=300\r\n"); });
       },
       nullptr});
  auto run = node("jssip-reconnect");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["answer"], "confirmed") << run.output;
  EXPECT_EQ(run.results["reregistered"], "yes");
  EXPECT_EQ(run.results["established_after_reconnect"], "yes") << run.output;
  EXPECT_EQ(run.results["info"], "9/300") << run.output;
  EXPECT_EQ(run.results["end"], "ended");
  ASSERT_TRUE(call);
  EXPECT_EQ(ended, "BYE from the browser");
  EXPECT_NE(call->connection(), first);
  EXPECT_EQ(waiting, (std::vector<std::string>{"1001+", "1001-"}));
  EXPECT_EQ(metrics.counter("rtcgate_wss_dialogs_resumed_total", "").load(), 1u);
  EXPECT_EQ(metrics.counter("rtcgate_wss_dialogs_reconnect_expired_total", "").load(), 0u);
}

}  // namespace
}  // namespace rtcgate::signaling

namespace rtcgate::signaling {
namespace {

TEST(WssServerLimits, PerIpCapPingsAndHandshakeTimeout) {
  EventLoop loop("control");
  loop.adoptCurrentThread();
  Metrics metrics;
  auto cfg = testConfig();
  cfg.security.maxConnectionsPerIp = 2;
  cfg.security.wsIdleTimeoutMs = 3000;
  cfg.security.wsHandshakeTimeoutMs = 1000;
  WssServer server(loop, cfg, metrics);
  auto run = test::runNode(loop, "signaling/sip_clients.mjs",
                           {"limits", std::to_string(server.port()), "https://app.example"});
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["first"], "open") << run.output;
  EXPECT_EQ(run.results["second"], "open");
  EXPECT_NE(run.results["third"], "open");
  EXPECT_EQ(run.results["ping"], "yes");
  EXPECT_EQ(run.results["stalled_closed"], "yes");
  EXPECT_EQ(run.results["stalled_ms_over_500"], "yes");
  EXPECT_EQ(run.results["stalled_ms_under_3000"], "yes");
}

// Issue 11, reliability-security.md 3.10 and 5 item 14: new connections over security.rate_limits are closed at
// accept (before TLS), REGISTERs and new INVITEs over theirs get 503 + Retry-After, each counted; both recover
// once tokens are back. Small buckets: 5 connections per IP, 4 REGISTERs per IP, 3 INVITEs in all, then 1/s.
TEST(WssServerLimits, RatesRefuseConnectionsRegistersAndInvitesThenRecover) {
  EventLoop loop("control");
  loop.adoptCurrentThread();
  Metrics metrics;
  auto cfg = testConfig();
  cfg.security.rateLimits.connectionsPerIp = {1, 5};
  cfg.security.rateLimits.registersPerIp = {1, 4};
  cfg.security.rateLimits.invitesPerIp = {0, 1};  // off: the global bucket decides
  cfg.security.rateLimits.invites = {1, 3};
  WssServer server(loop, cfg, metrics);
  constexpr int kConnections = 20;
  constexpr int kRequests = 12;
  auto run = test::runNode(loop, "signaling/sip_clients.mjs",
                           {"rate-limits", std::to_string(server.port()), "https://app.example",
                            std::to_string(kConnections), std::to_string(kRequests)});
  ASSERT_EQ(run.exitCode, 0) << run.output;
  auto num = [&](const char* key) { return std::stoi(run.results[key].empty() ? "-1" : run.results[key]); };
  // The burst goes through; of the rest at most one token per second of the run comes back.
  const int open = num("connections_open");
  const int refused = num("connections_refused");
  EXPECT_EQ(open + refused, kConnections) << run.output;
  EXPECT_GE(open, 5);
  EXPECT_GE(refused, 10) << run.output;
  // Every refusal is counted: those of the burst and those of the recovery's attempts.
  EXPECT_EQ(metrics.counter("rtcgate_wss_connections_rate_limited_total", "").load(),
            static_cast<uint64_t>(refused + num("connection_after_refused")));
  for (const char* method : {"register", "invite"}) {
    const std::string m = method;
    EXPECT_EQ(num((m + "_answered").c_str()), kRequests) << run.output;
    EXPECT_EQ(num((m + "_401").c_str()) + num((m + "_503").c_str()), kRequests) << m << run.output;
    EXPECT_EQ(num((m + "_503_retry_after_1").c_str()), num((m + "_503").c_str())) << m;
  }
  EXPECT_GE(num("register_401"), 4);
  EXPECT_GE(num("register_503"), 6);
  EXPECT_GE(num("invite_401"), 3);
  EXPECT_GE(num("invite_503"), 7);
  EXPECT_EQ(metrics.counter("rtcgate_wss_registers_rate_limited_total", "").load(),
            static_cast<uint64_t>(num("register_503") + num("register_after_refused")));
  EXPECT_EQ(metrics.counter("rtcgate_wss_invites_rate_limited_total", "").load(),
            static_cast<uint64_t>(num("invite_503")));
  EXPECT_EQ(run.results["connection_after"], "open") << run.output;
  EXPECT_EQ(run.results["register_after"], "401") << run.output;
}

crypto::PemCertificate certificateFor(const std::string& commonName) {
  crypto::SelfSignedRequest request;
  request.commonName = commonName;
  request.validFor = std::chrono::days(1);
  return crypto::toPem(crypto::generateSelfSigned(request));
}

TEST(WssServerCertificates, ReloadServesTheNewCertificateToNewConnections) {
  EventLoop loop("control");
  loop.adoptCurrentThread();
  Metrics metrics;
  test::TempDir dir;
  auto first = certificateFor("first.example");
  auto second = certificateFor("second.example");
  auto cfg = testConfig();
  cfg.listeners.wss[0].tlsCertFile = dir.write("cert.pem", first.certificate);
  cfg.listeners.wss[0].tlsKeyFile = dir.write("key.pem", first.privateKey);
  WssServer server(loop, cfg, metrics);
  auto subject = [&] {
    auto run = test::runNode(loop, "signaling/sip_clients.mjs",
                             {"certificate", std::to_string(server.port()), "https://app.example"});
    EXPECT_EQ(run.exitCode, 0) << run.output;
    return run.results["subject_cn"];
  };
  EXPECT_EQ(subject(), "first.example");
  // A broken pair is refused and the working certificate stays.
  dir.write("cert.pem", second.certificate);
  EXPECT_FALSE(server.applyConfig(cfg));
  EXPECT_EQ(subject(), "first.example");
  dir.write("key.pem", second.privateKey);
  EXPECT_TRUE(server.applyConfig(cfg));
  EXPECT_EQ(subject(), "second.example");
}

}  // namespace
}  // namespace rtcgate::signaling

namespace rtcgate::signaling {
namespace {

TEST_F(WssServerTest, SipJsCallsInAndHangsUp) {
  std::shared_ptr<BrowserDialog> call;
  int acks = 0;
  std::string ended;
  server->endpoint().dialogs().setIncomingHandler([&](std::shared_ptr<BrowserDialog> d) {
    call = d;
    DialogEvents ev;
    ev.onAck = [&](const std::string&) { ++acks; };
    ev.onTerminated = [&](const std::string& why) { ended = why; };
    d->setEvents(ev);
    d->respond(200, "OK", kGatewaySdp);
  });
  auto run = node("sipjs-call-in");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["call"], "Established") << run.output;
  EXPECT_EQ(run.results["end"], "Terminated");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->agent(), "1002");
  EXPECT_EQ(acks, 1);
  EXPECT_EQ(ended, "BYE from the browser");
}

TEST_F(WssServerTest, GatewayCallsTheRegisteredSipJsWhichAccepts) {
  std::shared_ptr<BrowserDialog> call;
  std::vector<int> statuses;
  server->registrar().addListener({[&](const Registration& r) {
                                     DialogEvents ev;
                                     ev.onResponse = [&](int status, const std::string&, const std::string&) {
                                       statuses.push_back(status);
                                       if (status == 200) loop.post([&] { call->hangup(); });
                                     };
                                     call = server->endpoint().dialogs().invite(r, "5002", kGatewaySdp, ev);
                                   },
                                   nullptr});
  auto run = node("sipjs-call-out");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["register"], "Registered") << run.output;
  EXPECT_EQ(run.results["offer"], "yes");
  EXPECT_EQ(run.results["answer"], "Established");
  EXPECT_EQ(run.results["end"], "Terminated");
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back(), 200);
}

}  // namespace
}  // namespace rtcgate::signaling

namespace rtcgate::signaling {
namespace {

// Issue 9: liveness of a browser connection counts every frame, every pong and every CRLF keepalive, not only SIP
// messages. A short idle timeout; each client stays quiet (no SIP) for kPeriods of it.
constexpr uint32_t kIdleMs = 2000;
constexpr int kPeriods = 4;

class WssLivenessTest : public WssServerTest {
protected:
  WssLivenessTest() { cfg.security.wsIdleTimeoutMs = kIdleMs; }
  test::NodeRun liveness(const std::string& scenario) {
    return node(scenario, {std::to_string(kIdleMs), std::to_string(kPeriods)});
  }
  static long ms(const std::string& v) { return v.empty() ? -2 : std::stol(v); }
};

TEST_F(WssLivenessTest, IdleRegisteredAgentAnsweringPingsStaysConnectedAndRegistered) {
  auto start = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> firstUnregister;
  server->registrar().addListener({nullptr, [&](const Registration&, Registrar::Reason) {
                                     if (!firstUnregister) firstUnregister = std::chrono::steady_clock::now();
                                   }});
  auto run = liveness("liveness-agent");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  std::cout << run.output;
  EXPECT_EQ(run.results["register"], "registered") << run.output;
  EXPECT_GE(ms(run.results["idle_ms"]), kIdleMs * kPeriods - 50);  // Node timers may fire a ms early
  EXPECT_EQ(run.results["sip_sent_while_idle"], "0");  // nothing but pongs went to the server
  EXPECT_EQ(run.results["disconnects"], "0") << run.output;
  EXPECT_EQ(run.results["still_registered"], "yes");
  EXPECT_GE(ms(run.results["pings"]), kPeriods);  // the server kept probing, and the pongs kept it alive
  ASSERT_EQ(registered.size(), 1u);  // never dropped and re-registered
  // The only unregistration is the one the client's stop() caused, after the idle stretch.
  if (firstUnregister) {
    EXPECT_GE(*firstUnregister - start, std::chrono::milliseconds(kIdleMs * kPeriods));
  }
}

TEST_F(WssLivenessTest, CallWithoutSessionTimersSurvivesIdleSignallingAndEndsWithTheBrowsersBye) {
  std::shared_ptr<BrowserDialog> call;
  std::string ended;
  server->endpoint().dialogs().setIncomingHandler([&](std::shared_ptr<BrowserDialog> d) {
    call = d;
    DialogEvents ev;
    ev.onTerminated = [&](const std::string& why) { ended = why; };
    d->setEvents(ev);
    d->respond(200, "OK", kGatewaySdp);
  });
  auto run = liveness("liveness-call");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  std::cout << run.output;
  EXPECT_EQ(run.results["call"], "confirmed") << run.output;
  EXPECT_EQ(run.results["sip_sent_while_idle"], "0");
  EXPECT_EQ(run.results["disconnects"], "0");
  EXPECT_EQ(run.results["ended_while_idle"], "no");
  EXPECT_EQ(run.results["established"], "yes");
  EXPECT_EQ(run.results["end"], "ended");
  EXPECT_EQ(ended, "BYE from the browser");
}

TEST_F(WssLivenessTest, ClientSendingOnlyCrlfKeepalivesStaysConnected) {
  auto run = liveness("liveness-crlf");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  std::cout << run.output;
  EXPECT_EQ(run.results["open"], "open") << run.output;
  EXPECT_GE(ms(run.results["idle_ms"]), kIdleMs * kPeriods - 50);  // Node timers may fire a ms early
  EXPECT_EQ(run.results["closed_after_ms"], "-1") << run.output;
  EXPECT_GE(ms(run.results["crlf_answers"]), 2 * kPeriods - 2);
  EXPECT_GE(ms(run.results["pings_ignored"]), 1);  // it never answered a ping: the CRLFs alone kept it up
}

TEST_F(WssLivenessTest, SilentPeersAreDroppedAfterAboutOneIdleTimeout) {
  auto run = liveness("liveness-silent");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  std::cout << run.output;
  EXPECT_EQ(run.results["ws_open"], "open") << run.output;
  EXPECT_EQ(run.results["raw_upgrade"], "HTTP/1.1_101_Switching_Protocols") << run.output;
  // Bounds: not before the idle timeout (minus scheduling slack), not later than one timeout plus one ping
  // interval (idle/3) plus slack.
  const long low = kIdleMs - 300;
  const long high = kIdleMs + kIdleMs / 3 + 1000;
  for (const char* key : {"ws_closed_after_ms", "raw_closed_after_ms"}) {
    long v = ms(run.results[key]);
    EXPECT_GE(v, low) << key << " " << run.output;
    EXPECT_LE(v, high) << key << " " << run.output;
  }
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return server->connectionCount() == 0; }));
  EXPECT_EQ(metrics.counter("rtcgate_wss_idle_timeouts_total", "").load(), 2u);
}

}  // namespace
}  // namespace rtcgate::signaling

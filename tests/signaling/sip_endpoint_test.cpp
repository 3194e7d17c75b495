// SPDX-License-Identifier: Apache-2.0
// The browser-leg SIP core without sockets: a recording transport stands in for the WebSocket connections.
#include <gtest/gtest.h>
#include <sofia-sip/sip.h>

#include <random>
#include <regex>

#include "rtcgate/signaling/browser_dialogs.h"
#include "rtcgate/signaling/browser_sip_endpoint.h"
#include "rtcgate/signaling/digest_auth.h"
#include "rtcgate/signaling/sip_message.h"
#include "support/test_support.h"

namespace rtcgate::signaling {
namespace {

struct RecordingTransport : SipTransport {
  std::vector<std::pair<ConnectionId, std::string>> sent;
  std::vector<ConnectionId> closed;
  bool send(ConnectionId c, std::string m) override {
    sent.emplace_back(c, std::move(m));
    return true;
  }
  void close(ConnectionId c) override { closed.push_back(c); }
};

// JsSIP's Via and Contact shapes (random .invalid hosts), with odd spacing to prove the Via is echoed untouched.
const char* kVia = "Via: SIP/2.0/WSS  q8x2v7.invalid;branch=z9hG4bK1234;rport\r\n";

std::string registerRequest(const std::string& user, uint32_t cseq, const std::string& extra,
                            const std::string& expires = "Expires: 600\r\n") {
  return "REGISTER sip:rtcgate.invalid SIP/2.0\r\n" + std::string(kVia) +
         "Max-Forwards: 69\r\n"
         "To: <sip:" + user + "@rtcgate.invalid>\r\n"
         "From: <sip:" + user + "@rtcgate.invalid>;tag=ft1\r\n"
         "Call-ID: reg-call-1\r\n"
         "CSeq: " + std::to_string(cseq) + " REGISTER\r\n"
         "Contact: <sip:ab12cd34@q8x2v7.invalid;transport=ws>;+sip.ice;reg-id=1;"
         "+sip.instance=\"<urn:uuid:0f2c1d7e-0000-4000-8000-000000000001>\"\r\n" +
         expires + extra + "Supported: path,gruu,outbound\r\nContent-Length: 0\r\n\r\n";
}

std::string nonceOf(const std::string& response) {
  std::smatch m;
  std::regex re("nonce=\"([^\"]+)\"");
  return std::regex_search(response, m, re) ? m[1].str() : "";
}

std::string authorization(const std::string& user, const std::string& password, const std::string& nonce,
                          DigestAlgorithm alg = DigestAlgorithm::Md5, const std::string& method = "REGISTER",
                          const std::string& uri = "sip:rtcgate.invalid", const std::string& nc = "00000001") {
  auto ha1 = digestHa1(alg, user, "rtcgate", password);
  auto resp = digestResponse(alg, ha1, nonce, nc, "cn0nce", "auth", method, uri);
  return "Authorization: Digest algorithm=" + std::string(algorithmName(alg)) + ", username=\"" + user +
         "\", realm=\"rtcgate\", nonce=\"" + nonce + "\", uri=\"" + uri + "\", response=\"" + resp +
         "\", qop=auth, cnonce=\"cn0nce\", nc=" + nc + "\r\n";
}

class EndpointTest : public ::testing::Test {
protected:
  EndpointTest() {
    loop.adoptCurrentThread();
    config::Agent a;
    a.user = "1001";
    a.password = Secret("demo-1001");
    a.dn = "5001";
    cfg.agents.push_back(a);
    cfg.security.registerMinExpiresS = 60;
    cfg.security.registerMaxExpiresS = 3600;
    cfg.security.authFailuresPerMinute = 3;
    registrar = std::make_unique<Registrar>(loop);
    endpoint = std::make_unique<BrowserSipEndpoint>(loop, cfg, transport, *registrar, metrics);
  }
  std::string send(const std::string& text, ConnectionId c = 1, const std::string& ip = "192.0.2.10") {
    transport.sent.clear();
    last = endpoint->onFrame(c, ip, text);
    return transport.sent.empty() ? "" : transport.sent.back().second;
  }
  std::string registered(const std::string& expires = "Expires: 600\r\n") {
    auto challenge = send(registerRequest("1001", 1, "", expires));
    return send(registerRequest("1001", 2, authorization("1001", "demo-1001", nonceOf(challenge)), expires));
  }

  EventLoop loop{"control"};
  config::Config cfg;
  Metrics metrics;
  RecordingTransport transport;
  std::unique_ptr<Registrar> registrar;
  std::unique_ptr<BrowserSipEndpoint> endpoint;
  BrowserSipEndpoint::Verdict last = BrowserSipEndpoint::Verdict::Ok;
};

TEST_F(EndpointTest, ChallengeOffersSha256FirstThenMd5WithQopAuth) {
  auto r = send(registerRequest("1001", 1, ""));
  ASSERT_EQ(r.rfind("SIP/2.0 401 Unauthorized\r\n", 0), 0u) << r;
  auto md5 = r.find("WWW-Authenticate: Digest realm=\"rtcgate\"");
  auto sha = r.find("algorithm=SHA-256");
  ASSERT_NE(md5, std::string::npos);
  ASSERT_NE(sha, std::string::npos);
  EXPECT_GT(r.find("algorithm=MD5"), sha);  // last: JsSIP and SIP.js keep the last challenge
  EXPECT_NE(r.find("qop=\"auth\""), std::string::npos);
  EXPECT_EQ(r.find("stale"), std::string::npos);
  EXPECT_EQ(registrar->size(), 0u);
}

TEST_F(EndpointTest, RegisterEchoesViaUntouchedAndContactWithExpires) {
  auto r = registered();
  ASSERT_EQ(r.rfind("SIP/2.0 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find(kVia), std::string::npos) << r;  // byte for byte, spacing and rport as sent
  EXPECT_EQ(r.find("received="), std::string::npos);
  EXPECT_NE(r.find("+sip.instance=\"<urn:uuid:0f2c1d7e-0000-4000-8000-000000000001>\""), std::string::npos) << r;
  EXPECT_NE(r.find("reg-id=1"), std::string::npos);
  EXPECT_NE(r.find(";expires=600"), std::string::npos) << r;
  EXPECT_NE(r.find("Expires: 600\r\n"), std::string::npos);
  EXPECT_NE(r.find("From: <sip:1001@rtcgate.invalid>;tag=ft1\r\n"), std::string::npos);
  EXPECT_NE(r.find("To: <sip:1001@rtcgate.invalid>;tag="), std::string::npos);
  ASSERT_EQ(registrar->size(), 1u);
  auto b = registrar->lookup("1001").at(0);
  EXPECT_EQ(b.dn, "5001");
  EXPECT_EQ(b.contactUri, "sip:ab12cd34@q8x2v7.invalid;transport=ws");
  EXPECT_EQ(b.instance, "\"<urn:uuid:0f2c1d7e-0000-4000-8000-000000000001>\"");
  auto parsed = SipMessage::parse(r);
  EXPECT_EQ(parsed.status, SipMessage::ParseStatus::Ok) << parsed.reason;
}

TEST_F(EndpointTest, Sha256CredentialsAreAcceptedToo) {
  auto challenge = send(registerRequest("1001", 1, ""));
  auto r = send(registerRequest("1001", 2, authorization("1001", "demo-1001", nonceOf(challenge),
                                                          DigestAlgorithm::Sha256)));
  EXPECT_EQ(r.rfind("SIP/2.0 200 OK", 0), 0u) << r;
}

TEST_F(EndpointTest, ExpiresTooBriefGets423AndTooLongIsCapped) {
  auto r = registered("Expires: 30\r\n");
  ASSERT_EQ(r.rfind("SIP/2.0 423 Interval Too Brief\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Min-Expires: 60\r\n"), std::string::npos);
  EXPECT_EQ(registrar->size(), 0u);
  r = registered("Expires: 86400\r\n");
  ASSERT_EQ(r.rfind("SIP/2.0 200 OK", 0), 0u) << r;
  EXPECT_NE(r.find(";expires=3600"), std::string::npos) << r;
  EXPECT_EQ(registrar->lookup("1001").at(0).expiresS, 3600u);
  r = registered("Expires: 0\r\n");
  ASSERT_EQ(r.rfind("SIP/2.0 200 OK", 0), 0u) << r;
  EXPECT_EQ(registrar->size(), 0u);
}

TEST_F(EndpointTest, UnknownUserAndWrongPasswordLookTheSame) {
  auto c1 = send(registerRequest("1001", 1, ""));
  auto wrong = send(registerRequest("1001", 2, authorization("1001", "nope", nonceOf(c1))));
  auto c2 = send(registerRequest("9999", 1, ""));
  auto unknown = send(registerRequest("9999", 2, authorization("9999", "nope", nonceOf(c2))));
  auto shape = [](std::string s) {
    s = std::regex_replace(s, std::regex("nonce=\"[^\"]+\""), "nonce=N");
    s = std::regex_replace(s, std::regex("tag=[0-9a-z]+"), "tag=T");
    return std::regex_replace(s, std::regex("9999"), "1001");
  };
  ASSERT_EQ(wrong.rfind("SIP/2.0 401", 0), 0u);
  EXPECT_EQ(shape(wrong), shape(unknown));
  EXPECT_EQ(metrics.counter("rtcgate_wss_auth_failures_total", "").load(), 2u);
}

TEST_F(EndpointTest, RepeatedFailuresFromOneIpAreRateLimited) {
  for (int i = 0; i < 3; ++i) {
    auto c = send(registerRequest("1001", 1, ""));
    EXPECT_EQ(send(registerRequest("1001", 2, authorization("1001", "bad", nonceOf(c)))).rfind("SIP/2.0 401", 0), 0u);
  }
  auto c = send(registerRequest("1001", 1, ""));
  EXPECT_EQ(c.rfind("SIP/2.0 403", 0), 0u) << c;
  // Even the right password is refused while blocked; another IP is unaffected.
  auto other = send(registerRequest("1001", 1, ""), 2, "192.0.2.99");
  EXPECT_EQ(send(registerRequest("1001", 2, authorization("1001", "demo-1001", nonceOf(other))), 2, "192.0.2.99")
                .rfind("SIP/2.0 200", 0),
            0u);
}

TEST_F(EndpointTest, ExpiredNonceGetsStaleTrue) {
  auto c = send(registerRequest("1001", 1, ""));
  endpoint->authenticator().setClockForTest(std::chrono::system_clock::now() + std::chrono::hours(1));
  auto r = send(registerRequest("1001", 2, authorization("1001", "demo-1001", nonceOf(c))));
  ASSERT_EQ(r.rfind("SIP/2.0 401", 0), 0u) << r;
  EXPECT_NE(r.find("stale=true"), std::string::npos) << r;
  EXPECT_EQ(metrics.counter("rtcgate_wss_auth_failures_total", "").load(), 0u);
}

// Issue 11: a captured Authorization replayed as is (from another connection or address) was accepted.
TEST_F(EndpointTest, ReplayedAuthorizationIsRefusedAndAHigherNonceCountAccepted) {
  auto challenge = send(registerRequest("1001", 1, ""));
  const std::string auth = authorization("1001", "demo-1001", nonceOf(challenge));
  auto first = send(registerRequest("1001", 2, auth));
  ASSERT_EQ(first.rfind("SIP/2.0 200", 0), 0u) << first;
  auto replay = send(registerRequest("1001", 3, auth), 2, "198.51.100.7");
  EXPECT_EQ(replay.rfind("SIP/2.0 401", 0), 0u) << replay;
  EXPECT_EQ(replay.find("stale=true"), std::string::npos) << replay;
  EXPECT_EQ(metrics.counter("rtcgate_wss_auth_failures_total", "").load(), 1u);
  // The same client's next request with the same nonce and the next nonce-count is fine (JsSIP/SIP.js do this).
  auto next = send(registerRequest("1001", 4, authorization("1001", "demo-1001", nonceOf(challenge),
                                                            DigestAlgorithm::Md5, "REGISTER", "sip:rtcgate.invalid",
                                                            "00000002")));
  EXPECT_EQ(next.rfind("SIP/2.0 200", 0), 0u) << next;
}

// Issue 11: the digest's uri= was not compared with the Request-URI, so a captured INVITE Authorization could be
// re-used to call another destination.
TEST_F(EndpointTest, DigestForAnotherRequestUriIsRefused) {
  auto challenge = send(registerRequest("1001", 1, ""));
  auto r = send(registerRequest("1001", 2, authorization("1001", "demo-1001", nonceOf(challenge), DigestAlgorithm::Md5,
                                                         "REGISTER", "sip:other.invalid")));
  EXPECT_EQ(r.rfind("SIP/2.0 401", 0), 0u) << r;
  EXPECT_EQ(metrics.counter("rtcgate_wss_auth_failures_total", "").load(), 1u);
}

// We offer qop=auth only; an RFC 2069 answer without qop carries no nonce-count and could be replayed at will.
TEST_F(EndpointTest, DigestWithoutQopIsRefused) {
  auto challenge = send(registerRequest("1001", 1, ""));
  const std::string nonce = nonceOf(challenge);
  auto ha1 = digestHa1(DigestAlgorithm::Md5, "1001", "rtcgate", "demo-1001");
  auto resp = digestResponse(DigestAlgorithm::Md5, ha1, nonce, "", "", "", "REGISTER", "sip:rtcgate.invalid");
  auto r = send(registerRequest("1001", 2, "Authorization: Digest username=\"1001\", realm=\"rtcgate\", nonce=\"" +
                                               nonce + "\", uri=\"sip:rtcgate.invalid\", response=\"" + resp + "\"\r\n"));
  EXPECT_EQ(r.rfind("SIP/2.0 401", 0), 0u) << r;
}

TEST_F(EndpointTest, CredentialsForAnotherUserAreForbidden) {
  auto c = send(registerRequest("1002", 1, ""));
  auto r = send(registerRequest("1002", 2, authorization("1001", "demo-1001", nonceOf(c))));
  EXPECT_EQ(r.rfind("SIP/2.0 403", 0), 0u) << r;
}

TEST_F(EndpointTest, MalformedRequestsGet400AndGarbageClosesTheConnection) {
  auto noCallId = std::regex_replace(registerRequest("1001", 1, ""), std::regex("Call-ID: [^\r]*\r\n"), "");
  // Issue 11 (RFC 4475 insuf): without a Call-ID the 400 echoes what there is; the connection stays.
  auto r0 = send(noCallId);
  EXPECT_EQ(r0.rfind("SIP/2.0 400 Missing Call-ID\r\n", 0), 0u) << r0;
  EXPECT_NE(r0.find("CSeq: 1 REGISTER\r\n"), std::string::npos) << r0;
  EXPECT_EQ(last, BrowserSipEndpoint::Verdict::Ok);
  auto badCseq = std::regex_replace(registerRequest("1001", 1, ""), std::regex("CSeq: 1 REGISTER"), "CSeq: x REGISTER");
  auto r = send(badCseq);
  EXPECT_TRUE(r.empty() || r.rfind("SIP/2.0 400", 0) == 0) << r;
  auto mismatch = std::regex_replace(registerRequest("1001", 1, ""), std::regex("CSeq: 1 REGISTER"), "CSeq: 1 INVITE");
  r = send(mismatch);
  EXPECT_EQ(r.rfind("SIP/2.0 400 CSeq method does not match", 0), 0u) << r;
  EXPECT_EQ(last, BrowserSipEndpoint::Verdict::Ok);
  auto badLength = std::regex_replace(registerRequest("1001", 1, ""), std::regex("Content-Length: 0"),
                                      "Content-Length: 999");
  r = send(badLength);
  EXPECT_EQ(r.rfind("SIP/2.0 400", 0), 0u) << r;
  for (const char* garbage : {"", "hello", "\x01\x02\x03", "INVITE\r\n\r\n"}) {
    send(garbage);
    EXPECT_EQ(last, BrowserSipEndpoint::Verdict::Close) << garbage;
  }
  // SIP with nothing to answer (a response, a request without Via or CSeq): dropped, the connection stays, since
  // the WebSocket message was the whole SIP message (RFC 7118).
  for (const char* unanswerable : {"SIP/2.0 200\r\n\r\n", "INVITE sip:a SIP/2.0\r\nVia: x\r\n\r\n"}) {
    EXPECT_EQ(send(unanswerable), "") << unanswerable;
    EXPECT_EQ(last, BrowserSipEndpoint::Verdict::Ok) << unanswerable;
  }
  auto twice = std::regex_replace(registerRequest("1001", 1, ""), std::regex("REGISTER"), "OPTIONS");
  r = send(twice + twice);
  EXPECT_EQ(r.rfind("SIP/2.0 400 More than one message in a frame", 0), 0u) << r;
  auto unknownMethod = std::regex_replace(registerRequest("1001", 1, ""), std::regex("REGISTER"), "PUBLISH");
  r = send(unknownMethod);
  EXPECT_EQ(r.rfind("SIP/2.0 405", 0), 0u) << r;
  EXPECT_NE(r.find("Allow: INVITE"), std::string::npos);
  auto require = registerRequest("1001", 1, "Require: 100rel\r\n");
  r = send(require);
  EXPECT_EQ(r.rfind("SIP/2.0 420", 0), 0u) << r;
  EXPECT_NE(r.find("Unsupported: 100rel"), std::string::npos);
}

TEST_F(EndpointTest, ClosedConnectionUnregisters) {
  ASSERT_EQ(registered().rfind("SIP/2.0 200", 0), 0u);
  std::vector<Registrar::Reason> reasons;
  registrar->addListener({nullptr, [&](const Registration&, Registrar::Reason r) { reasons.push_back(r); }});
  endpoint->onConnectionClosed(1);
  EXPECT_EQ(registrar->size(), 0u);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], Registrar::Reason::ConnectionClosed);
}

// Issue 10: calls.browser_reconnect_grace_ms is read at start and on reload; the agent's dialog waits for it before
// the closed connection's binding goes (so the DN is kept), and the same UA registering again resumes it.
TEST_F(EndpointTest, ReconnectGraceFollowsTheConfigurationAndTheSameUaResumesTheCall) {
  ASSERT_EQ(registered().rfind("SIP/2.0 200", 0), 0u);
  std::vector<std::string> events;
  endpoint->dialogs().setGraceListener([&](const std::string& a, bool w) { events.push_back(a + (w ? " waits" : " back")); });
  registrar->addListener({nullptr, [&](const Registration& r, Registrar::Reason) { events.push_back(r.user + " unbound"); }});
  auto call = [&](ConnectionId c) {
    std::string ended;
    auto d = endpoint->dialogs().invite(registrar->lookup("1001").at(0), "5001", "", {});
    auto inv = SipMessage::parse(transport.sent.back().second);
    EXPECT_TRUE(inv.message);
    std::string via = SipMessage::encodeAll(reinterpret_cast<const sip_header_u*>(inv.message->sip()->sip_via));
    send("SIP/2.0 200 OK\r\n" + via + "From: <sip:5001@rtcgate.invalid>;tag=" + inv.message->fromTag() +
             "\r\nTo: <sip:1001@rtcgate.invalid>;tag=js1\r\nCall-ID: " + inv.message->callId() +
             "\r\nCSeq: 1 INVITE\r\nContact: <sip:ab12cd34@q8x2v7.invalid;transport=ws;ob>\r\nContent-Length: 0\r\n\r\n",
         c);
    EXPECT_EQ(d->state(), BrowserDialog::State::Confirmed);
    return d;
  };
  auto reload = [&](uint32_t graceMs) {
    config::Config next = cfg;
    next.calls.browserReconnectGraceMs = graceMs;
    endpoint->applyConfig(next);
  };
  reload(0);
  auto first = call(1);
  endpoint->onConnectionClosed(1);
  EXPECT_EQ(first->state(), BrowserDialog::State::Terminated);
  EXPECT_EQ(events, (std::vector<std::string>{"1001 unbound"}));
  events.clear();

  reload(5000);
  auto challenge = send(registerRequest("1001", 3, ""), 2);
  ASSERT_EQ(send(registerRequest("1001", 4, authorization("1001", "demo-1001", nonceOf(challenge))), 2).rfind("SIP/2.0 200", 0), 0u);
  auto second = call(2);
  endpoint->onConnectionClosed(2);
  EXPECT_EQ(second->state(), BrowserDialog::State::Confirmed);
  EXPECT_EQ(events, (std::vector<std::string>{"1001 waits", "1001 unbound"}));  // kept before the binding goes
  challenge = send(registerRequest("1001", 5, ""), 3);
  ASSERT_EQ(send(registerRequest("1001", 6, authorization("1001", "demo-1001", nonceOf(challenge))), 3).rfind("SIP/2.0 200", 0), 0u);
  EXPECT_EQ(second->connection(), 3u);
  EXPECT_EQ(events.back(), "1001 back");
  EXPECT_TRUE(second->sendRequest("INFO", "application/dtmf-relay", "Signal=1\r\nDuration=100\r\n"));
  EXPECT_EQ(transport.sent.back().first, 3u);

  // The browser's in-dialog request on yet another connection before any REGISTER there: challenged (a 481 would
  // end JsSIP's call), then accepted with the agent's credentials, and the dialog moves there.
  auto inv = SipMessage::parse(transport.sent[transport.sent.size() - 1].second);
  auto info = [&](uint32_t cseq, const std::string& auth) {
    return "INFO sip:rtcgate.invalid SIP/2.0\r\n" + std::string(kVia) + "Max-Forwards: 69\r\n"
           "From: <sip:1001@rtcgate.invalid>;tag=js1\r\nTo: <sip:5001@rtcgate.invalid>;tag=" + inv.message->fromTag() +
           "\r\nCall-ID: " + second->callId() + "\r\nCSeq: " + std::to_string(cseq) + " INFO\r\n" + auth +
           "Content-Length: 0\r\n\r\n";
  };
  ASSERT_TRUE(inv.message);
  endpoint->onConnectionClosed(3);
  challenge = send(info(10, ""), 4);
  ASSERT_EQ(challenge.rfind("SIP/2.0 401", 0), 0u) << challenge;
  EXPECT_EQ(second->state(), BrowserDialog::State::Confirmed);
  EXPECT_EQ(send(info(11, authorization("1001", "demo-1001", nonceOf(challenge), DigestAlgorithm::Md5, "INFO")), 4)
                .rfind("SIP/2.0 200", 0),
            0u);
  EXPECT_EQ(second->connection(), 4u);
}

TEST_F(EndpointTest, OptionsOutsideADialogGets200WithAllow) {
  auto opt = std::regex_replace(registerRequest("1001", 1, ""), std::regex("REGISTER"), "OPTIONS");
  auto r = send(opt);
  EXPECT_EQ(r.rfind("SIP/2.0 200 OK", 0), 0u) << r;
  EXPECT_NE(r.find("Allow: INVITE, ACK, CANCEL, BYE, UPDATE, INFO, OPTIONS"), std::string::npos);
}

}  // namespace
}  // namespace rtcgate::signaling

namespace rtcgate::signaling {
namespace {
TEST_F(EndpointTest, ContactExpiresParameterIsReplacedNotDuplicated) {
  auto challenge = send(registerRequest("1001", 1, ""));
  auto req = registerRequest("1001", 2, authorization("1001", "demo-1001", nonceOf(challenge)), "");
  req = std::regex_replace(req, std::regex("0001>\"\r\n"), "0001>\";expires=120\r\n");
  auto r = send(req);
  ASSERT_EQ(r.rfind("SIP/2.0 200", 0), 0u) << r;
  EXPECT_NE(r.find("0001>\";expires=120\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.find(";;"), std::string::npos) << r;
}
}  // namespace
}  // namespace rtcgate::signaling

namespace rtcgate::signaling {
namespace {
// Mutated REGISTER/INVITE frames (flipped bytes, truncations, inserted CR/LF/NUL/colons): never a crash, and
// every answer we produce is itself a well-formed SIP response.
TEST_F(EndpointTest, MutatedFramesNeverCrashAndAnswersStayWellFormed) {
  std::vector<std::string> seeds = {
      registerRequest("1001", 1, ""),
      std::regex_replace(registerRequest("1001", 1, "Session-Expires: 90\r\nContent-Type: application/sdp\r\n"),
                         std::regex("REGISTER"), "INVITE"),
      std::regex_replace(std::regex_replace(registerRequest("1001", 2, ""), std::regex("REGISTER"), "BYE"),
                         std::regex("To: <sip:1001@rtcgate.invalid>"), "To: <sip:1001@rtcgate.invalid>;tag=x"),
      std::regex_replace(registerRequest("1001", 1, ""), std::regex("REGISTER"), "CANCEL"),
      std::regex_replace(registerRequest("1001", 1, ""), std::regex("REGISTER"), "OPTIONS")};
  std::mt19937 rng(4242);
  const char specials[] = {'\r', '\n', '\0', ':', ';', '<', '>', '"', ',', ' ', '\xff', '='};
  int answered = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string frame = seeds[static_cast<size_t>(i) % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !frame.empty(); ++e) {
      size_t pos = rng() % frame.size();
      switch (rng() % 4) {
        case 0: frame[pos] = static_cast<char>(rng() & 0xff); break;
        case 1: frame.insert(pos, 1, specials[rng() % sizeof(specials)]); break;
        case 2: frame.erase(pos, 1 + rng() % 8); break;
        default: frame.resize(pos); break;
      }
    }
    transport.sent.clear();
    endpoint->onFrame(static_cast<ConnectionId>(100 + i), "198.51.100.7", frame);
    for (auto& [c, text] : transport.sent) {
      auto parsed = SipMessage::parse(text);
      ++answered;
      if (parsed.status == SipMessage::ParseStatus::Ok) continue;
      // Issue 11: a 400 echoes a Via, From, To, Call-ID or CSeq that did not parse as received (RFC 3261 8.2.6.2),
      // and cannot echo one that is missing (RFC 4475 insuf); only then may the answer itself be incomplete.
      auto request = SipMessage::parse(frame);
      ASSERT_EQ(request.status, SipMessage::ParseStatus::BadRequest) << frame;
      const sip_t* rq = request.message->sip();
      ASSERT_TRUE(rq->sip_via == nullptr || rq->sip_from == nullptr || rq->sip_to == nullptr ||
                  rq->sip_call_id == nullptr || rq->sip_cseq == nullptr)
          << parsed.reason << "\nframe:\n" << frame << "\nanswer:\n" << text;
      ASSERT_TRUE(std::regex_search(text, std::regex("^SIP/2\\.0 (400|416|501|505) "))) << text;
    }
    endpoint->onConnectionClosed(static_cast<ConnectionId>(100 + i));
  }
  EXPECT_GT(answered, 100);
}
}  // namespace
}  // namespace rtcgate::signaling

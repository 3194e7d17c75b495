// SPDX-License-Identifier: Apache-2.0
// Component: whole calls through SessionManager and Session, driven through both legs' events. The Genesys leg is
// the real SipStack against SIPp on 127.0.0.1; the browser leg is the real BrowserDialogs fed with SIP text by the
// test (playing JsSIP over a recording transport) and a real peer BrowserLeg (libnice, DTLS-SRTP) as the browser's
// media, so ICE/DTLS really connect. Each test checks what each side was sent, in which state, and that the session
// is gone at the end: teardown from each state and direction, re-offers with glare, admission.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "media/leg_harness.h"
#include "rtcgate/core/worker_pool.h"
#include "rtcgate/media/dtls_certificate.h"
#include "rtcgate/media/rtp/rtp_port_pool.h"
#include "rtcgate/session/session_manager.h"
#include "rtcgate/signaling/browser_dialogs.h"
#include "rtcgate/signaling/registrar.h"
#include "rtcgate/signaling/sip_message.h"
#include "rtcgate/sip/sip_stack.h"
#include "support/rtp_builder.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate::session {
namespace {

using namespace std::chrono_literals;
using signaling::SipMessage;

constexpr signaling::ConnectionId kConnection = 7;
constexpr const char* kAgent = "agent1001";

// What rtcgate sent to the browser, in order.
struct RecordingTransport : signaling::SipTransport {
  std::vector<std::string> sent;
  bool send(signaling::ConnectionId, std::string m) override {
    sent.push_back(std::move(m));
    return true;
  }
  void close(signaling::ConnectionId) override {}
};

std::unique_ptr<SipMessage> parse(const std::string& text) {
  auto r = SipMessage::parse(text);
  EXPECT_EQ(r.status, SipMessage::ParseStatus::Ok) << r.reason << "\n" << text;
  return std::move(r.message);
}

std::string headerLine(const std::string& message, const std::string& name) {
  std::smatch m;
  std::regex re("\r\n(" + name + ": [^\r]*)\r\n", std::regex::icase);
  return std::regex_search(message, m, re) ? m[1].str() : "";
}

std::string bodyOf(const std::string& message) {
  auto at = message.find("\r\n\r\n");
  return at == std::string::npos ? "" : message.substr(at + 4);
}

std::string directionOf(const std::string& sdp) {
  for (const char* d : {"sendrecv", "sendonly", "recvonly", "inactive"})
    if (sdp.find(std::string("a=") + d) != std::string::npos) return d;
  return "sendrecv";
}

// The browser: JsSIP's side of the dialog as SIP text, and a peer BrowserLeg as its media.
class Browser {
public:
  Browser(signaling::BrowserDialogs& dialogs, RecordingTransport& transport, media::MediaContext ctx)
      : dialogs_(dialogs), transport_(transport), ctx_(std::move(ctx)) {}

  // What the agent dials (the Request-URI of every request) and the dialog's Call-ID.
  std::string requestUri = "sip:5000@rtcgate.invalid";
  std::string callId = "call-1";

  // Request from the browser inside (or starting) the dialog "call-1".
  void request(const std::string& method, const std::string& body = {}, const std::string& extra = {}) {
    const uint32_t cseq = method == "ACK" || method == "CANCEL" ? inviteCseq_ : ++cseq_;
    if (method == "INVITE") inviteCseq_ = cseq;
    const std::string branch =
        method == "CANCEL" ? inviteBranch_ : "z9hG4bKb" + std::to_string(++branches_);
    if (method == "INVITE") inviteBranch_ = branch;
    std::string s = method + " " + requestUri + " SIP/2.0\r\n"
                    "Via: SIP/2.0/WSS b1.invalid;branch=" + branch + "\r\n"
                    "Max-Forwards: 69\r\n"
                    "To: <sip:5000@rtcgate.invalid>" + (remoteTag_.empty() || method == "CANCEL" ? "" : ";tag=" + remoteTag_) + "\r\n"
                    "From: \"Agent\" <sip:" + std::string(kAgent) + "@rtcgate.invalid>;tag=brw1\r\n"
                    "Call-ID: " + callId + "\r\n"
                    "CSeq: " + std::to_string(cseq) + " " + method + "\r\n"
                    "Contact: <sip:b1@b1.invalid;transport=ws;ob>\r\n" + extra;
    if (!body.empty()) s += "Content-Type: application/sdp\r\n";
    s += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    dialogs_.onRequest(kConnection, kAgent, parse(s));
  }

  // A response of the browser to a request rtcgate sent it (the INVITE of a call to the agent, BYE, CANCEL...).
  void respond(const std::string& request, int status, const std::string& reason, const std::string& body = {}) {
    std::string s = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
    for (const char* h : {"Via", "From", "Call-ID", "CSeq"}) s += headerLine(request, h) + "\r\n";
    std::string to = headerLine(request, "To");
    if (to.find(";tag=") == std::string::npos && status > 100) to += ";tag=brwans";
    s += to + "\r\n";
    if (request.rfind("INVITE ", 0) == 0 && status >= 200 && status < 300)
      s += "Contact: <sip:b1@b1.invalid;transport=ws>\r\n";
    if (!body.empty()) s += "Content-Type: application/sdp\r\n";
    s += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    dialogs_.onResponse(kConnection, *parse(s));
  }

  // Our own SDP offer (the browser calls, or re-offers): the peer leg's transport, Opus/PCMU/PCMA.
  std::string offer(const std::string& direction = "sendrecv") {
    if (!peer_) {
      peer_ = std::make_unique<media::test::LegHarness>("browser-peer");
      peer_->create(media::LegRole::Offerer, ctx_);
      peer_->run([&] { peer_->leg->start(); });
      EXPECT_TRUE(peer_->waitFor([&] { return peer_->local.has_value(); }));
    }
    auto t = peer_->run([&] { return peer_->leg->localTransport(true); });
    std::string sdp = browserOffer({codec::CodecId::Opus, codec::CodecId::Pcmu, codec::CodecId::Pcma}, t, 42, ++version_);
    if (direction != "sendrecv") sdp = std::regex_replace(sdp, std::regex("a=sendrecv"), "a=" + direction);
    return sdp;
  }
  // The answer of rtcgate to our offer: applied to the peer leg, so ICE and DTLS can connect.
  void applyAnswer(const std::string& answer) {
    std::string error;
    auto media = readBrowserSdp(answer, &error);
    ASSERT_TRUE(media) << error << "\n" << answer;
    peer_->run([&] { EXPECT_TRUE(peer_->leg->setRemoteDescription(media->transport, &error)) << error; });
  }
  // rtcgate offered (a call to the agent): the peer answers as Chrome would, with Opus.
  std::string answer(const std::string& offerSdp) {
    std::string error;
    auto media = readBrowserSdp(offerSdp, &error);
    EXPECT_TRUE(media) << error << "\n" << offerSdp;
    if (!media) return {};
    peer_ = std::make_unique<media::test::LegHarness>("browser-peer");
    peer_->create(media::LegRole::Answerer, ctx_);
    peer_->run([&] {
      EXPECT_TRUE(peer_->leg->setRemoteDescription(media->transport, &error)) << error;
      peer_->leg->start();
    });
    EXPECT_TRUE(peer_->waitFor([&] { return peer_->local.has_value(); }));
    auto t = peer_->run([&] { return peer_->leg->localTransport(false); });
    uint8_t opusPt = 0;
    for (const auto& [id, pt] : media->codecs.audio)
      if (id == codec::CodecId::Opus) opusPt = pt;
    EXPECT_NE(opusPt, 0) << "rtcgate offered no Opus";
    return browserAnswer(*media, codec::CodecId::Opus, opusPt, t, 43, 1);
  }
  // One Opus packet (a 20 ms silence frame, RFC 6716 TOC 0xF8) from the browser, SRTP-protected by the peer leg.
  void sendAudio() {
    const uint8_t silence[3] = {0xF8, 0xFF, 0xFE};
    auto pkt = test::rtpPacket(kOpusPt, audioSeq_, audioSeq_ * 960u, 0xb0b, std::span<const uint8_t>(silence, 3));
    ++audioSeq_;
    peer_->run([&] { peer_->leg->sendRtp(pkt.data(), pkt.size()); });
  }
  bool mediaConnected(std::chrono::milliseconds timeout = 15s) {
    return peer_ && peer_->waitFor([&] { return peer_->connected; }, timeout);
  }

  // The first message sent to the browser from index `from` on that starts with `start`.
  std::optional<std::string> find(const std::string& start, size_t from = 0) const {
    for (size_t i = from; i < transport_.sent.size(); ++i)
      if (transport_.sent[i].rfind(start, 0) == 0) return transport_.sent[i];
    return std::nullopt;
  }
  bool wait(EventLoop& loop, const std::string& start, size_t from = 0, std::chrono::milliseconds timeout = 10s) {
    return test::pumpUntil(loop, [&] { return find(start, from).has_value(); }, timeout);
  }
  // The To-tag rtcgate chose (from its responses to our INVITE).
  void learnTag(const std::string& response) {
    std::smatch m;
    if (std::regex_search(response, m, std::regex("\r\nTo: [^\r]*;tag=([^;\r]+)"))) remoteTag_ = m[1].str();
  }
  size_t mark() const { return transport_.sent.size(); }

private:
  signaling::BrowserDialogs& dialogs_;
  RecordingTransport& transport_;
  media::MediaContext ctx_;
  std::unique_ptr<media::test::LegHarness> peer_;
  std::string remoteTag_;
  std::string inviteBranch_;
  uint32_t cseq_ = 0, inviteCseq_ = 0;
  uint64_t version_ = 0;
  int branches_ = 0;
  uint16_t audioSeq_ = 1;
};

// A UDP socket on `address` (port 0, kept) playing a media endpoint on the Genesys side: what it was sent, and
// sending RTP/RTCP to rtcgate from its own port.
class MediaPeer {
public:
  explicit MediaPeer(const char* address = "127.0.0.1") {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, address, &a.sin_addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << address;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~MediaPeer() { ::close(fd_); }
  uint16_t port() const { return port_; }
  // Datagrams received so far (drains the socket).
  size_t received() {
    uint8_t buf[1500];
    while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) ++received_;
    return received_;
  }
  void sendTo(uint16_t port, const std::vector<uint8_t>& p) const {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    ::sendto(fd_, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

private:
  int fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  uint16_t port_ = 0;
  size_t received_ = 0;
};

class SessionCallTest : public ::testing::Test {
protected:
  struct Router : sip::UpstreamCallHandler {
    SessionManager* sessions = nullptr;
    void onIncomingCall(std::shared_ptr<sip::UpstreamCall> call) override {
      if (sessions) sessions->onIncomingCall(std::move(call));
    }
  };

  void SetUp() override {
    loop.adoptCurrentThread();
    upstreamPort = test::freePort();
    auto cfg = std::make_shared<config::Config>();
    cfg->upstream.sipBind = {"127.0.0.1", 0};
    cfg->upstream.transports = {config::SipTransport::Udp};
    cfg->upstream.servers = {{"127.0.0.1", upstreamPort, config::SipTransport::Udp}};
    config::Agent a;
    a.user = kAgent;
    a.dn = "1001";
    cfg->agents.push_back(a);
    cfg->media.rtpAddress = "127.0.0.1";
    // A range of this process's own, apart from other suites' (e2e daemons use 30000-32699).
    cfg->media.rtpPortMin = static_cast<uint16_t>(20000 + (getpid() % 40) * 200);
    cfg->media.rtpPortMax = static_cast<uint16_t>(cfg->media.rtpPortMin + 199);
    cfg->media.icePortMin = 0;
    cfg->media.icePortMax = 0;
    cfg->ice.candidates.allowLoopback = true;
    cfg->security.maxCalls = maxCalls;
    config = cfg;
    store = std::make_unique<config::ConfigStore>(cfg, "");

    ctx.config = cfg;
    ctx.certificate = media::DtlsCertificate::generate();
    ctx.metrics = &metrics;
    ctx.localAddressesOverride = {{"lo", "127.0.0.1", false, true}};

    workers.start();
    ports = std::make_unique<media::RtpPortPool>(cfg->media.rtpPortMin, cfg->media.rtpPortMax,
                                                 static_cast<unsigned>(workers.size()));
    stack = std::make_unique<sip::SipStack>(loop, cfg, metrics, router);
    stack->start();
    ASSERT_TRUE(test::pumpUntil(loop, [&] { return stack->ready(); }));
    deps = std::make_unique<SessionDeps>(SessionDeps{loop, workers, *ports, *stack, dialogs, ctx});
    sessions = std::make_unique<SessionManager>(*deps, *store, registrar, metrics);
    router.sessions = sessions.get();
    dialogs.setIncomingHandler([this](std::shared_ptr<signaling::BrowserDialog> d) {
      sessions->onBrowserInvite(std::move(d));
    });
    browser = std::make_unique<Browser>(dialogs, transport, ctx);
  }

  void TearDown() override {
    // Whatever a failed test left: end the calls, then let both stacks finish before they go.
    bool drained = false;
    sessions->terminateAll([&] { drained = true; });
    test::pumpUntil(loop, [&] { return drained; }, 10s);
    dialogs.setIncomingHandler(nullptr);
    router.sessions = nullptr;
    sessions.reset();
    browser.reset();
    stack->shutdown();
    test::pumpUntil(loop, [&] { return stack->shutdownComplete(); }, 5s);
    stack.reset();
    workers.stop();
  }

  // The agent's browser is registered (a call to its DN rings it).
  void registerAgent() {
    signaling::Registration r;
    r.user = kAgent;
    r.dn = "1001";
    r.connection = kConnection;
    r.contactUri = "sip:b1@b1.invalid;transport=ws";
    r.expiresS = 600;
    r.expiresAt = std::chrono::steady_clock::now() + 600s;
    registrar.bind(r);
    // What AgentPresence does in the daemon: the DN is the agent's now (its REGISTER upstream goes unanswered here,
    // which changes nothing for calls to it).
    ASSERT_TRUE(stack->registerDn("1001"));
  }

  // SIPp as Genesys answering rtcgate (UAS) on upstreamPort.
  std::unique_ptr<test::SippProcess> uas(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                                  std::to_string(test::freeMediaPort()), "-m", "1", "-timeout", "30s", "-timeout_error",
                                  "-bind_local"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<test::SippProcess>(dir.path(), test::scenario(name), args);
    EXPECT_TRUE(test::pumpUntil(loop, [&] { return test::udpPortBound(upstreamPort) || p->exited(); }))
        << p->output();
    return p;
  }
  // SIPp as Genesys calling the agent's DN (UAC).
  std::unique_ptr<test::SippProcess> uac(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"127.0.0.1:" + std::to_string(stack->port()), "-i", "127.0.0.1", "-p",
                                  std::to_string(test::freePort()), "-mp", std::to_string(test::freeMediaPort()), "-s",
                                  "1001", "-m", "1", "-timeout", "30s", "-timeout_error"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<test::SippProcess>(dir.path(), test::scenario(name), args);
  }
  // With -trace_msg, SIPp logs every message into its directory: rtcgate's RTP port from the SDP of its 200.
  uint16_t rtpPortFromSippTrace() {
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      if (entry.path().string().find("_messages.log") == std::string::npos) continue;
      std::ifstream in(entry.path());
      std::ostringstream buf;
      buf << in.rdbuf();
      const std::string text = buf.str();
      auto ok = text.find("SIP/2.0 200 OK");
      auto m = ok == std::string::npos ? std::string::npos : text.find("m=audio ", ok);
      if (m != std::string::npos) return static_cast<uint16_t>(std::atoi(text.c_str() + m + 8));
    }
    return 0;
  }
  // Whether SIPp's -trace_msg log holds `text`.
  bool sippTraceHas(const std::string& text) {
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      if (entry.path().string().find("_messages.log") == std::string::npos) continue;
      std::ifstream in(entry.path());
      std::ostringstream buf;
      buf << in.rdbuf();
      if (buf.str().find(text) != std::string::npos) return true;
    }
    return false;
  }
  // The browser sends a packet every 20 ms (the control loop runs meanwhile) until `done`; bounded by `timeout`.
  bool sendBrowserAudioUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < end) {
      browser->sendAudio();
      test::pumpUntil(loop, done, 20ms);
    }
    return done();
  }
  // A call from Genesys (`genesys` is running) answered by the browser, its media connected.
  void answerInBrowser(test::SippProcess& genesys) {
    ASSERT_TRUE(browser->wait(loop, "INVITE ")) << genesys.output();
    const std::string invite = *browser->find("INVITE ");
    const size_t before = browser->mark();
    browser->respond(invite, 200, "OK", browser->answer(bodyOf(invite)));
    ASSERT_TRUE(browser->wait(loop, "ACK ", before));
    ASSERT_TRUE(browser->mediaConnected());
  }
  int finish(test::SippProcess& p) {
    EXPECT_TRUE(p.started()) << "sipp could not be started (is sip-tester installed?)";
    EXPECT_TRUE(test::pumpUntil(loop, [&] { return p.exited(); }, 30s)) << p.output();
    p.stop();
    return p.exitCode();
  }
  bool sessionsGone() {
    return test::pumpUntil(loop, [&] { return sessions->size() == 0; }, 10s);
  }

  // The agent calls 5000 and Genesys answers: until the browser's ACK.
  void establishFromAgent() {
    browser->request("INVITE", browser->offer());
    ASSERT_TRUE(browser->wait(loop, "SIP/2.0 200 ")) << "no 200 to the browser";
    const std::string ok = *browser->find("SIP/2.0 200 ");
    browser->learnTag(ok);
    EXPECT_NE(headerLine(ok, "Content-Type").find("application/sdp"), std::string::npos);
    browser->applyAnswer(bodyOf(ok));
    browser->request("ACK");
  }

  int maxCalls = 10;
  EventLoop loop{"control"};
  Metrics metrics;
  test::TempDir dir;
  uint16_t upstreamPort = 0;
  std::shared_ptr<const config::Config> config;
  std::unique_ptr<config::ConfigStore> store;
  media::MediaContext ctx;
  WorkerPool workers{1};
  std::unique_ptr<media::RtpPortPool> ports;
  Router router;
  std::unique_ptr<sip::SipStack> stack;
  RecordingTransport transport;
  signaling::BrowserDialogs dialogs{loop, transport, metrics};
  signaling::Registrar registrar{loop};
  std::unique_ptr<SessionDeps> deps;
  std::unique_ptr<SessionManager> sessions;
  std::unique_ptr<Browser> browser;
};

TEST_F(SessionCallTest, AgentCallAnsweredByGenesysConnectsMediaAndEndsWithTheBrowsersBye) {
  auto genesys = uas("session_uas_answer_expect_bye.xml");
  establishFromAgent();
  EXPECT_TRUE(browser->find("SIP/2.0 180 ")) << "Genesys's 180 not relayed";
  EXPECT_TRUE(browser->mediaConnected()) << "ICE/DTLS with the browser's peer leg did not connect";
  EXPECT_EQ(sessions->size(), 1u);
  const size_t before = browser->mark();
  browser->request("BYE");
  EXPECT_TRUE(browser->wait(loop, "SIP/2.0 200 ", before));
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();  // SIPp got the BYE
  EXPECT_TRUE(sessionsGone());
}

// Issue 12: the INVITE to Genesys needs only the RTP leg's address, so it does not wait for browser-side gathering.
// A STUN server that never answers (a bound socket nobody reads) holds the browser leg's gathering until
// ice.gather_deadline_ms; Genesys rings and answers before that gathering has completed (the deadline counter is
// still 0 when its 180 reaches the browser), and the browser's 200 follows once it has, with a working call.
TEST_F(SessionCallTest, AgentCallReachesGenesysWhileTheBrowserLegStillGathers) {
  MediaPeer silentStun;
  auto slow = std::make_shared<config::Config>(*store->current());
  slow->ice.stunServers = {{"127.0.0.1", silentStun.port()}};
  slow->ice.gatherDeadlineMs = 3000;
  store->apply(*slow);
  const auto& deadline = metrics.counter("rtcgate_ice_gathering_deadline_total", "");
  const auto& unanswered =
      metrics.counter("rtcgate_ice_server_unanswered_total", "", {{"type", "stun"}, {"index", "0"}});
  auto genesys = uas("session_uas_answer_expect_bye.xml");
  const std::string offer = browser->offer();  // the browser's own peer leg uses the fixture's config (no STUN)
  browser->request("INVITE", offer);
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 180 ")) << genesys->output();
  EXPECT_EQ(deadline.load(), 0u) << "the INVITE to Genesys waited for the browser leg's gathering";
  EXPECT_FALSE(browser->find("SIP/2.0 200 ")) << "answered before the browser leg's gathering ended";
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 200 ")) << "Genesys's 200 (kept while gathering) never reached the browser";
  EXPECT_EQ(deadline.load(), 1u);
  EXPECT_EQ(unanswered.load(), 1u);
  EXPECT_GE(silentStun.received(), 1u) << "the leg never asked the STUN server";
  const std::string ok = *browser->find("SIP/2.0 200 ");
  browser->learnTag(ok);
  browser->applyAnswer(bodyOf(ok));
  browser->request("ACK");
  EXPECT_TRUE(browser->mediaConnected()) << "ICE/DTLS with the browser's peer leg did not connect";
  const size_t before = browser->mark();
  browser->request("BYE");
  EXPECT_TRUE(browser->wait(loop, "SIP/2.0 200 ", before));
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(sessionsGone());
}

// Benchmark, not a test (skipped unless scripts/setup_delay_bench.sh sets RTCGATE_SETUP_DELAY_OUT): post-dial delay
// added by rtcgate with a STUN server that never answers, at the default ice.gather_deadline_ms. For each of 10
// calls: from the browser's INVITE handed to rtcgate to the moment the INVITE to Genesys is placed on the SIP stack
// (SipStack::activeCalls() rises; the loop is pumped with a 1 ms bound). SIPp as Genesys answers 486 to each.
TEST_F(SessionCallTest, SetupDelayBenchWithASilentStunServer) {
  const char* out = std::getenv("RTCGATE_SETUP_DELAY_OUT");
  if (out == nullptr) GTEST_SKIP() << "benchmark: run by scripts/setup_delay_bench.sh";
  MediaPeer silentStun;
  auto slow = std::make_shared<config::Config>(*store->current());
  slow->ice.stunServers = {{"127.0.0.1", silentStun.port()}};
  store->apply(*slow);
  constexpr int kCalls = 10;
  auto genesys = std::make_unique<test::SippProcess>(
      dir.path(), test::scenario("session_uas_busy_486.xml"),
      std::vector<std::string>{"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                               std::to_string(test::freeMediaPort()), "-m", std::to_string(kCalls), "-timeout", "60s",
                               "-timeout_error", "-bind_local"});
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return test::udpPortBound(upstreamPort) || genesys->exited(); }));
  const std::string sdp = browser->offer();
  std::vector<double> delaysMs;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() == 0 && sessions->size() == 0; }));
    Browser b(dialogs, transport, ctx);
    b.callId = "bench-" + std::to_string(i);
    const size_t from = b.mark();
    const auto t0 = std::chrono::steady_clock::now();
    b.request("INVITE", sdp);
    ASSERT_TRUE(test::pumpUntil(loop, [&] { return stack->activeCalls() > 0; }));
    delaysMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_TRUE(b.wait(loop, "SIP/2.0 486 ", from));
  }
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  auto sorted = delaysMs;
  std::sort(sorted.begin(), sorted.end());
  std::ofstream f(out, std::ios::app);
  f << "gather_deadline_ms=" << slow->ice.gatherDeadlineMs << " calls=" << kCalls << " browser INVITE -> upstream "
    << "INVITE ms: median=" << (sorted[kCalls / 2 - 1] + sorted[kCalls / 2]) / 2 << " min=" << sorted.front()
    << " max=" << sorted.back() << " all=";
  for (double d : delaysMs) f << d << ",";
  f << "\n";
}

TEST_F(SessionCallTest, AgentCallCancelledWhileGenesysRingsCancelsUpstreamAndAnswers487) {
  auto genesys = uas("session_uas_ring_expect_cancel.xml");
  browser->request("INVITE", browser->offer());
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 180 ")) << "Genesys's 180 not relayed";
  browser->request("CANCEL");
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 487 "));
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();  // SIPp got the CANCEL (and the ACK of its 487)
  EXPECT_TRUE(sessionsGone());
  for (const auto& m : transport.sent)
    EXPECT_FALSE(m.rfind("SIP/2.0 200 ", 0) == 0 && m.find("\r\nCSeq: 1 INVITE\r\n") != std::string::npos)
        << "the cancelled INVITE was answered 200:\n" << m;
  const std::string text = metrics.renderPrometheus();
  EXPECT_NE(text.find("rtcgate_calls_ended_total{outcome=\"cancelled\",cause=\"487\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rtcgate_call_setup_seconds_count{direction=\"outbound\"} 0\n"), std::string::npos) << text;
}

TEST_F(SessionCallTest, AgentCallRejectedBusyByGenesysIsRejectedBusyToTheBrowser) {
  auto genesys = uas("session_uas_busy_486.xml");
  browser->request("INVITE", browser->offer());
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 486 "));
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(sessionsGone());
  const std::string text = metrics.renderPrometheus();
  EXPECT_NE(text.find("rtcgate_calls_ended_total{outcome=\"rejected\",cause=\"486\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rtcgate_calls_ended_total{outcome=\"completed\",cause=\"200\"} 0\n"), std::string::npos) << text;
}

TEST_F(SessionCallTest, AgentHoldAfterGenesysGlareIsRetriedAndUnholdFollows) {
  // Genesys answers the first hold re-INVITE 491 (glare, RFC 3261 14.1): rtcgate retries after its back-off; the
  // browser's own re-INVITEs are answered at once with the mirrored direction, whatever Genesys is doing.
  auto genesys = uas("session_uas_hold_glare_then_unhold.xml");
  establishFromAgent();
  ASSERT_TRUE(browser->mediaConnected());

  size_t before = browser->mark();
  browser->request("INVITE", browser->offer("sendonly"));
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 200 ", before));
  std::string held = *browser->find("SIP/2.0 200 ", before);
  EXPECT_EQ(directionOf(bodyOf(held)), "recvonly") << held;
  EXPECT_EQ(bodyOf(held).find("a=setup:actpass"), std::string::npos) << "DTLS role renegotiated in a re-offer";
  browser->request("ACK");

  // Genesys accepted the retried hold and tells the agent desktop (NOTIFY Event: hold, relayed to the page as an
  // INFO): only then the unhold, so SIPp sees 491, the retry and the sendrecv re-INVITE in that order.
  ASSERT_TRUE(browser->wait(loop, "INFO ", before, 20s)) << genesys->output();
  const std::string info = *browser->find("INFO ", before);
  EXPECT_NE(info.find(kRemoteControlContentType), std::string::npos) << info;
  EXPECT_EQ(bodyOf(info), "hold\r\n");
  browser->respond(info, 200, "OK");
  before = browser->mark();
  browser->request("INVITE", browser->offer("sendrecv"));
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 200 ", before));
  EXPECT_EQ(directionOf(bodyOf(*browser->find("SIP/2.0 200 ", before))), "sendrecv");
  browser->request("ACK");

  // Genesys ends the call after the unhold: the browser gets a BYE.
  ASSERT_TRUE(browser->wait(loop, "BYE ", before, 20s)) << genesys->output();
  browser->respond(*browser->find("BYE ", before), 200, "OK");
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(sessionsGone());
}

TEST_F(SessionCallTest, GenesysCallToTheAgentRingsTheBrowserAndGenesysByeEndsBoth) {
  registerAgent();
  auto genesys = uac("inbound_call_to_registered_dn.xml");
  ASSERT_TRUE(browser->wait(loop, "INVITE ")) << genesys->output();
  const std::string invite = *browser->find("INVITE ");
  EXPECT_NE(invite.find("UDP/TLS/RTP/SAVPF"), std::string::npos);
  EXPECT_NE(invite.find("a=setup:actpass"), std::string::npos);
  browser->respond(invite, 180, "Ringing");
  const size_t before = browser->mark();
  browser->respond(invite, 200, "OK", browser->answer(bodyOf(invite)));
  ASSERT_TRUE(browser->wait(loop, "ACK ", before)) << "the browser's 200 was not acknowledged";
  EXPECT_TRUE(browser->mediaConnected());
  ASSERT_TRUE(browser->wait(loop, "BYE ", before, 20s)) << genesys->output();
  browser->respond(*browser->find("BYE ", before), 200, "OK");
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(sessionsGone());
}

TEST_F(SessionCallTest, GenesysCancelWhileTheBrowserRingsCancelsTheBrowserInvite) {
  registerAgent();
  auto genesys = uac("session_uac_call_dn_cancel_while_browser_rings.xml");
  ASSERT_TRUE(browser->wait(loop, "INVITE ")) << genesys->output();
  const std::string invite = *browser->find("INVITE ");
  const size_t before = browser->mark();
  browser->respond(invite, 180, "Ringing");
  ASSERT_TRUE(browser->wait(loop, "CANCEL ", before, 20s)) << genesys->output();
  browser->respond(*browser->find("CANCEL ", before), 200, "OK");
  browser->respond(invite, 487, "Request Terminated");
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(sessionsGone());
}

TEST_F(SessionCallTest, BrowserBusyForAGenesysCallIsRelayedToGenesys) {
  registerAgent();
  auto genesys = uac("session_uac_call_dn_expect_486.xml");
  ASSERT_TRUE(browser->wait(loop, "INVITE ")) << genesys->output();
  browser->respond(*browser->find("INVITE "), 486, "Busy Here");
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(sessionsGone());
}

TEST_F(SessionCallTest, GatewayShutdownEndsAnEstablishedCallOnBothLegs) {
  auto genesys = uas("session_uas_answer_expect_bye.xml");
  establishFromAgent();
  ASSERT_TRUE(browser->mediaConnected());
  const size_t before = browser->mark();
  bool drained = false;
  sessions->terminateAll([&] { drained = true; });
  ASSERT_TRUE(browser->wait(loop, "BYE ", before));
  browser->respond(*browser->find("BYE ", before), 200, "OK");
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return drained; }, 10s));
}

TEST_F(SessionCallTest, AgentCallWhoseTwoHundredTheBrowserNeverAcknowledgesEndsOnBothLegs) {
  // RFC 3261 13.3.1.4: no ACK within 64*T1 ends the dialog (T1 shortened here); Genesys's leg is hung up too.
  dialogs.setTimers(20ms, 1500ms);
  auto genesys = uas("session_uas_answer_expect_bye.xml");
  browser->request("INVITE", browser->offer());
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 200 "));
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();  // SIPp got the BYE
  EXPECT_TRUE(sessionsGone());
}

TEST_F(SessionCallTest, GenesysCallThatTheBrowserNeverAnswersFailsTowardGenesys) {
  // Timer B on our INVITE to the browser (shortened): the browser is gone without a word; Genesys gets a failure.
  dialogs.setTimers(20ms, 1500ms);
  registerAgent();
  auto genesys = uac("session_uac_call_dn_expect_408.xml");
  ASSERT_TRUE(browser->wait(loop, "INVITE ")) << genesys->output();
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(sessionsGone());
}

// Issue 11: 2,000 RFC 4733 events arriving at the call's RTP port (from Genesys's address; anyone able to send UDP
// there could do it) became 2,000 SIP INFO requests to the browser. They are capped per call: a burst of 20, then
// 13/s; the rest is dropped and counted.
TEST_F(SessionCallTest, AFloodOfGenesysDtmfEventsIsCappedBeforeItReachesTheBrowser) {
  registerAgent();
  // Genesys's media sends from the port its SDP names (rtcgate accepts nothing else).
  MediaPeer media;
  auto genesys = uac("session_uac_call_dn_hold_4s.xml", {"-trace_msg", "-key", "rtpport", std::to_string(media.port())});
  ASSERT_TRUE(browser->wait(loop, "INVITE ")) << genesys->output();
  const std::string invite = *browser->find("INVITE ");
  const size_t before = browser->mark();
  browser->respond(invite, 200, "OK", browser->answer(bodyOf(invite)));
  ASSERT_TRUE(browser->wait(loop, "ACK ", before));
  uint16_t rtpPort = 0;
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return (rtpPort = rtpPortFromSippTrace()) != 0; }, 10s))
      << genesys->output();

  constexpr int kEvents = 2000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kEvents; ++i) {
    // One whole event per packet: digit 1, end bit, 40 ms (320 ticks); each event has its own timestamp.
    const uint8_t payload[4] = {1, 0x80 | 10, 0x01, 0x40};
    auto pkt = test::rtpPacket(101, static_cast<uint16_t>(i), 8000u + static_cast<uint32_t>(i) * 800u, 0x6e5,
                               std::vector<uint8_t>(payload, payload + 4), i == 0);
    media.sendTo(rtpPort, pkt);
    if (i % 100 == 99) test::pumpUntil(loop, [] { return false; }, 1ms);  // let the control loop relay meanwhile
  }
  const auto& dropped = metrics.counter("rtcgate_dtmf_to_browser_dropped_total", "");
  // Past media.packet_rate (150/s after a burst of 150, issue 11) the RTP leg drops the packets before the bridge.
  const auto& capped = metrics.counter("rtcgate_rtp_rate_limited_total", "");
  // Everything sent has been handled once the relayed and the dropped add up to what was sent; bounded.
  auto infos = [&] {
    size_t n = 0;
    for (size_t i = before; i < transport.sent.size(); ++i)
      if (transport.sent[i].rfind("INFO ", 0) == 0) ++n;
    return n;
  };
  test::pumpUntil(loop, [&] { return infos() + dropped.load() + capped.load() >= static_cast<size_t>(kEvents); }, 5s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(infos(), 20u) << "the burst of digits should reach the browser";
  EXPECT_LE(static_cast<double>(infos()), 20 + 13 * seconds + 1) << infos() << " INFO in " << seconds << " s";
  EXPECT_GT(dropped.load(), 0u);
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
}

// Issue 11 (reliability-security.md §5 item 22): Genesys's SDP named 169.254.169.254, a multicast group or
// rtcgate's own RTP port and the call was set up, RTP and RTCP sent there. Each such INVITE now gets 488 before the
// agent's browser rings, counted.
TEST_F(SessionCallTest, GenesysInvitesNamingForbiddenMediaDestinationsGet488WithoutRingingTheBrowser) {
  registerAgent();
  const std::string inf = dir.path() + "/destinations.csv";
  {
    std::ofstream out(inf);
    out << "SEQUENTIAL\n"
        << "169.254.169.254;40000\n"  // link-local: the cloud metadata service
        << "224.0.0.1;40000\n"        // multicast
        << "255.255.255.255;40000\n"  // broadcast
        << "127.0.0.1;" << config->media.rtpPortMin << "\n"  // rtcgate's own RTP port (a loop)
        << "192.0.2.10;40000\n";      // outside the default upstream.media_allowed_cidrs
  }
  auto genesys = uac("session_uac_call_dn_media_destination_refused_488.xml", {"-inf", inf, "-m", "5", "-l", "1"});
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();  // five 488s
  EXPECT_FALSE(browser->find("INVITE ").has_value()) << "the agent's browser was rung";
  EXPECT_EQ(metrics.counter("rtcgate_upstream_media_refused_total", "").load(), 5u);
  EXPECT_EQ(stack->activeCalls(), 0u);
  EXPECT_TRUE(sessionsGone());
}

// Issue 11: Genesys's 200 to the agent's INVITE names the cloud metadata address as its media: rtcgate ACKs it,
// hangs up at once (BYE) and the agent's INVITE fails with 488; no media leaves toward that address.
TEST_F(SessionCallTest, GenesysAnswerNamingAForbiddenMediaDestinationIsByedAndFailsTheBrowser488) {
  auto genesys = uas("session_uas_answer_forbidden_media_expect_bye.xml", {"-key", "mediaaddr", "169.254.169.254"});
  browser->request("INVITE", browser->offer());
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 488 ")) << genesys->output();
  EXPECT_FALSE(browser->find("SIP/2.0 200 ").has_value());
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();  // ACK and BYE came
  EXPECT_EQ(metrics.counter("rtcgate_upstream_media_refused_total", "").load(), 1u);
  EXPECT_TRUE(sessionsGone());
}

// Issue 11 and RFC 3264 §8.4: c=0.0.0.0 is a hold marker, never a destination (Linux delivers a datagram sent to
// 0.0.0.0 to this host: the test's socket at the SDP port would see it). A call that starts on hold sends nothing;
// a re-INVITE to 169.254.169.254 or to rtcgate's own RTP port gets 488 and changes nothing; one to a real address
// starts the media there; c=0.0.0.0 again stops it, the call stays up.
TEST_F(SessionCallTest, GenesysHoldAtZeroAddressAndForbiddenReinvitesNeverMoveTheMedia) {
  registerAgent();
  MediaPeer media;
  auto genesys = uac("session_uac_call_dn_media_hold_and_forbidden_reinvites.xml",
                     {"-trace_msg", "-key", "rtpport", std::to_string(media.port()), "-key", "ownport",
                      std::to_string(config->media.rtpPortMin)});
  answerInBrowser(*genesys);
  const auto& refused = metrics.counter("rtcgate_upstream_media_refused_total", "");
  // On hold from the start; the re-INVITE to 169.254.169.254 is refused.
  ASSERT_TRUE(sendBrowserAudioUntil([&] { return refused.load() == 1; })) << genesys->output();
  EXPECT_EQ(media.received(), 0u) << "rtcgate sent media to c=0.0.0.0";
  // The re-INVITE to the test's socket: media arrives there.
  ASSERT_TRUE(sendBrowserAudioUntil([&] { return media.received() >= 10; })) << genesys->output();
  // The re-INVITE to rtcgate's own RTP port is refused: the media stays where it was.
  ASSERT_TRUE(sendBrowserAudioUntil([&] { return refused.load() == 2; })) << genesys->output();
  const size_t kept = media.received();
  ASSERT_TRUE(sendBrowserAudioUntil([&] { return media.received() >= kept + 10; })) << "the media moved";
  // c=0.0.0.0 again (answered a=inactive): nothing more is sent.
  ASSERT_TRUE(sendBrowserAudioUntil([&] { return sippTraceHas("a=inactive"); })) << genesys->output();
  const size_t held = media.received();
  for (int i = 0; i < 25; ++i) {
    browser->sendAudio();
    test::pumpUntil(loop, [] { return false; }, 20ms);
  }
  EXPECT_LE(media.received(), held + 1) << "rtcgate kept sending while Genesys held with c=0.0.0.0";
  EXPECT_EQ(sessions->size(), 1u) << "the hold ended the call";
  ASSERT_TRUE(browser->wait(loop, "BYE ", 0, 20s)) << genesys->output();
  browser->respond(*browser->find("BYE "), 200, "OK");
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_EQ(refused.load(), 2u);
  EXPECT_TRUE(sessionsGone());
}

// Issue 11 (reliability-security.md §5 item 34, RTP bleed/injection): the Genesys leg was latched to the SDP's
// address only, any port of it was accepted and became the destination. RTP and RTCP from another port of that
// address and from 127.0.0.5, before Genesys's first packet and mid-call, are now dropped and counted, and nothing
// is sent to them; the call's media keeps going to and from the SDP's port.
TEST_F(SessionCallTest, RtpFromAnotherPortOrAddressIsDroppedBeforeAndDuringTheCall) {
  registerAgent();
  MediaPeer media, otherPort("127.0.0.1"), elsewhere("127.0.0.5");
  auto genesys = uac("session_uac_call_dn_hold_4s.xml", {"-trace_msg", "-key", "rtpport", std::to_string(media.port())});
  answerInBrowser(*genesys);
  uint16_t rtpPort = 0;
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return (rtpPort = rtpPortFromSippTrace()) != 0; }, 10s));
  const std::vector<uint8_t> pcmu(160, 0xff);
  auto inject = [&](uint16_t seq) {
    for (auto* intruder : {&otherPort, &elsewhere}) {
      intruder->sendTo(rtpPort, test::rtpPacket(0, seq, seq * 160u, 0xbad, pcmu));
      intruder->sendTo(static_cast<uint16_t>(rtpPort + 1), test::rtcpReceiverReport(0xbad));
    }
  };
  const auto& dropped = metrics.counter("rtcgate_rtp_dropped_foreign_total", "");
  for (uint16_t i = 0; i < 5; ++i) inject(i);  // before Genesys's first packet
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return dropped.load() == 20; })) << dropped.load();
  for (uint16_t i = 0; i < 10; ++i) media.sendTo(rtpPort, test::rtpPacket(0, 100 + i, (100u + i) * 160u, 0x6e5, pcmu));
  ASSERT_TRUE(sendBrowserAudioUntil([&] { return media.received() >= 10; }));
  for (uint16_t i = 0; i < 5; ++i) inject(static_cast<uint16_t>(200 + i));  // mid-call
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return dropped.load() == 40; })) << dropped.load();
  const size_t before = media.received();
  ASSERT_TRUE(sendBrowserAudioUntil([&] { return media.received() >= before + 10; })) << "the media moved";
  EXPECT_EQ(otherPort.received(), 0u) << "rtcgate sent to another port of the SDP address";
  EXPECT_EQ(elsewhere.received(), 0u) << "rtcgate sent to 127.0.0.5";
  EXPECT_EQ(dropped.load(), 40u) << "Genesys's own packets were dropped, or an intruder's accepted";
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  EXPECT_TRUE(sessionsGone());
}

class SessionAdmissionTest : public SessionCallTest {
protected:
  SessionAdmissionTest() { maxCalls = 0; }
};

TEST_F(SessionAdmissionTest, CallBeyondMaxCallsIsRefused503WithoutTouchingGenesys) {
  browser->request("INVITE", browser->offer());
  ASSERT_TRUE(browser->wait(loop, "SIP/2.0 503 "));
  EXPECT_NE(browser->find("SIP/2.0 503 ")->find("\r\nRetry-After: 5\r\n"), std::string::npos);
  EXPECT_EQ(sessions->size(), 0u);
  EXPECT_EQ(stack->activeCalls(), 0u);
}

// The destination policy (security.destinations, issue 11) on the real signalling path: refused INVITEs get 403
// with the reason, are counted and create nothing upstream; an allowed one is placed; a reload applies to the next
// call. SIPp as Genesys takes exactly two calls and traces what it received.
TEST_F(SessionCallTest, AgentCallsOutsideTheDestinationPolicyAre403AndNeverReachGenesys) {
  auto first = std::make_shared<config::Config>(*store->current());
  first->security.destinations.deniedPrefixes = {"+882"};
  std::string error;
  for (const char* p : {"[0-9]{4}", "\\+49[0-9]{6,12}"})
    first->security.destinations.allowedPatterns.push_back(*FullMatchRegex::compile(p, &error));
  store->apply(*first);
  auto genesys = std::make_unique<test::SippProcess>(
      dir.path(), test::scenario("session_uas_busy_486.xml"),
      std::vector<std::string>{"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                               std::to_string(test::freeMediaPort()), "-m", "2", "-timeout", "30s", "-timeout_error",
                               "-bind_local", "-trace_msg"});
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return test::udpPortBound(upstreamPort) || genesys->exited(); }))
      << genesys->output();
  const auto& refused = metrics.counter("rtcgate_calls_refused_destination_total", "");
  const auto& admitted = metrics.counter("rtcgate_calls_total", "");
  const std::string sdp = browser->offer();
  int n = 0;
  // The agent dials `uri`; the browser's final answer (status line) comes back.
  auto call = [&](const std::string& uri) -> std::string {
    Browser b(dialogs, transport, ctx);
    b.requestUri = uri;
    b.callId = "dest-" + std::to_string(++n);
    const size_t from = b.mark();
    b.request("INVITE", sdp);
    std::string status;
    test::pumpUntil(loop, [&] {
      for (size_t i = from; i < transport.sent.size(); ++i) {
        const auto& m = transport.sent[i];
        if (m.rfind("SIP/2.0 ", 0) == 0 && m.rfind("SIP/2.0 1", 0) != 0 &&
            m.find("\r\nCall-ID: " + b.callId + "\r\n") != std::string::npos)
          status = m.substr(0, m.find("\r\n"));
      }
      return !status.empty();
    }, 10s);
    if (status.rfind("SIP/2.0 403 ", 0) == 0)
      EXPECT_EQ(sessions->size(), 0u) << "a refused call made a session: " << uri;
    else
      EXPECT_TRUE(sessionsGone()) << uri;
    return status;
  };

  EXPECT_EQ(call("sip:+88213000000@rtcgate.invalid"), "SIP/2.0 403 Destination Barred");
  EXPECT_EQ(call("sip:%2B88213000000@rtcgate.invalid"), "SIP/2.0 403 Destination Barred");
  EXPECT_EQ(call("sip:1000@evil.example"), "SIP/2.0 403 Foreign Domain");
  EXPECT_EQ(call("sip:rtcgate.invalid"), "SIP/2.0 403 No User Part");
  EXPECT_EQ(call("sip:123456@rtcgate.invalid"), "SIP/2.0 403 Destination Not Allowed");
  EXPECT_EQ(refused.load(), 5u);
  EXPECT_EQ(admitted.load(), 0u);
  EXPECT_EQ(stack->activeCalls(), 0u);
  // Allowed: placed, and Genesys's answer comes back.
  EXPECT_EQ(call("sip:5000@rtcgate.invalid").substr(0, 11), "SIP/2.0 486");
  EXPECT_EQ(admitted.load(), 1u);

  // Reload: 5xxx barred, any dial string allowed. The next calls follow the new policy.
  auto second = std::make_shared<config::Config>(*store->current());
  second->security.destinations.deniedPrefixes = {"5"};
  second->security.destinations.allowedPatterns.clear();
  store->apply(*second);
  EXPECT_EQ(call("sip:5000@rtcgate.invalid"), "SIP/2.0 403 Destination Barred");
  EXPECT_EQ(refused.load(), 6u);
  EXPECT_EQ(call("sip:123456@rtcgate.invalid").substr(0, 11), "SIP/2.0 486");
  EXPECT_EQ(admitted.load(), 2u);

  EXPECT_EQ(finish(*genesys), 0) << genesys->output();
  // What Genesys received: the two allowed INVITEs, nothing else.
  std::vector<std::string> invites;
  for (const auto& line : test::sippTracedRequestLines(dir.path(), "INVITE"))
    invites.push_back(line.substr(0, line.find('@')));
  EXPECT_EQ(invites, (std::vector<std::string>{"INVITE sip:5000", "INVITE sip:123456"}));
  EXPECT_TRUE(sessionsGone());
}

// A blind transfer (REFER from the agent) passes the same policy: a barred Refer-To gets 403 with the reason, is
// counted, and no REFER reaches Genesys (its scenario expects only the BYE that ends the call).
TEST_F(SessionCallTest, AgentReferOutsideTheDestinationPolicyIs403AndNeverReachesGenesys) {
  auto cfg = std::make_shared<config::Config>(*store->current());
  cfg->security.destinations.deniedPrefixes = {"+882"};
  store->apply(*cfg);
  auto genesys = uas("session_uas_answer_expect_bye.xml");
  establishFromAgent();
  ASSERT_TRUE(browser->mediaConnected()) << "ICE/DTLS with the browser's peer leg did not connect";
  const auto& refused = metrics.counter("rtcgate_calls_refused_destination_total", "");
  for (const auto& [referTo, phrase] : std::vector<std::pair<std::string, std::string>>{
           {"<sip:+88213000000@rtcgate.invalid>", "403 Destination Barred"},
           {"<sip:5001@evil.example>", "403 Foreign Domain"},
           {"<sip:rtcgate.invalid>", "403 No User Part"}}) {
    const size_t before = browser->mark();
    browser->request("REFER", "", "Refer-To: " + referTo + "\r\n");
    ASSERT_TRUE(browser->wait(loop, "SIP/2.0 403 ", before)) << referTo;
    const std::string answer = *browser->find("SIP/2.0 403 ", before);
    EXPECT_EQ(answer.substr(0, answer.find("\r\n")), "SIP/2.0 " + phrase) << referTo;
  }
  EXPECT_EQ(refused.load(), 3u);
  EXPECT_EQ(sessions->size(), 1u) << "a refused transfer leaves the call up";
  const size_t before = browser->mark();
  browser->request("BYE");
  EXPECT_TRUE(browser->wait(loop, "SIP/2.0 200 ", before));
  EXPECT_EQ(finish(*genesys), 0) << genesys->output();  // SIPp got the BYE and no REFER
  EXPECT_TRUE(sessionsGone());
}

}  // namespace
}  // namespace rtcgate::session

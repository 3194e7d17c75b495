// SPDX-License-Identifier: Apache-2.0
// Interop with a real headless Chromium RTCPeerConnection (tests/media/chromium_peer.js via playwright-core) and
// a real coturn. The browser's own Opus (fake audio device) is decrypted by our leg; our SRTP is counted by the
// browser's getStats inbound-rtp packetsReceived.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "leg_harness.h"
#include "rtcgate/media/turn_credentials.h"
#include "coturn.h"
#include "subprocess.h"
#include "support/test_support.h"

namespace rtcgate::media {
namespace {

using namespace std::chrono_literals;
using test::LegHarness;
using test::Coturn;
using test::Subprocess;

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string unbase64(const std::string& in) {
  std::string out(3 * in.size() / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return {};
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

constexpr uint32_t kOurSsrc = 0x52544347;  // "RTCG"
constexpr int kOpusPt = 111;

// The browser-facing SDP the session layer will write: one audio m-line, Opus, our transport, BUNDLE.
std::string ourSdp(const sdp::TransportParams& local, const std::string& mid, const std::string& proto) {
  sdp::SessionDescription sd;
  sd.origin = {"-", "4242", "1", "IN", "IP4", "127.0.0.1"};
  sd.attributes.add("group", "BUNDLE " + mid);
  sd.attributes.add("msid-semantic", " WMS rtcgate");
  sdp::MediaDescription m;
  m.proto = proto;
  m.formats = {std::to_string(kOpusPt)};
  m.connection = sdp::Connection{"IN", "IP4", "0.0.0.0"};
  m.attributes.add("rtcp", "9 IN IP4 0.0.0.0");
  m.attributes.add("rtpmap", "111 opus/48000/2");
  m.attributes.add("fmtp", "111 minptime=10;useinbandfec=1");
  m.attributes.add("ssrc", std::to_string(kOurSsrc) + " cname:rtcgate");
  m.attributes.add("msid", "rtcgate rtcgate-audio");
  auto t = local;
  t.mid = mid;
  sdp::applyTransport(m, t);
  sd.media.push_back(std::move(m));
  return sdp::write(sd);
}

struct Browser {
  rtcgate::test::TempDir dir;
  std::unique_ptr<Subprocess> proc;
  int lastInbound = 0;
  std::string lastPair, lastState;

  Browser(const std::string& mode, const std::string& iceServersJson = "[]", const std::string& policy = "all") {
    std::string script = std::string(RTCGATE_SOURCE_DIR) + "/tests/media/chromium_peer.js";
    EXPECT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "chromium is required (scripts/setup.sh)";
    EXPECT_TRUE(std::filesystem::exists(std::string(RTCGATE_SOURCE_DIR) + "/tests/js/node_modules/playwright-core"))
        << "run npm ci in tests/js";
    proc = std::make_unique<Subprocess>(std::vector<std::string>{"node", script, mode, dir.path(), iceServersJson, policy});
  }
  ~Browser() {
    if (proc) proc->writeLine("quit");
  }

  // The next line starting with `type`, skipping others; fails on "error".
  std::optional<std::string> expect(const std::string& type, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto line = proc->readLine(left);
      if (!line) return std::nullopt;
      if (line->rfind("error", 0) == 0) {
        ADD_FAILURE() << "browser: " << *line;
        return std::nullopt;
      }
      if (line->rfind("stats", 0) == 0) parseStats(*line);
      if (line->rfind(type, 0) == 0) return line->size() > type.size() ? line->substr(type.size() + 1) : "";
    }
    return std::nullopt;
  }

  void parseStats(const std::string& line) {
    auto field = [&](const std::string& key) {
      auto p = line.find(" " + key + "=");
      if (p == std::string::npos) return std::string();
      auto start = p + key.size() + 2;
      return line.substr(start, line.find(' ', start) - start);
    };
    lastState = field("state");
    lastPair = field("pair");
    lastInbound = std::atoi(field("inbound").c_str());
  }

  // Waits until the browser counted at least n RTP packets from us.
  bool waitInbound(int n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (lastInbound < n && std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (!expect("stats", left)) break;
    }
    return lastInbound >= n;
  }
};

config::Config interopConfig() {
  config::Config c;
  c.ice.candidates.allowLoopback = true;
  c.media.icePortMin = 0;
  c.media.icePortMax = 0;
  return c;
}

MediaContext context(Metrics& metrics, const config::Config& cfg) {
  static auto cert = DtlsCertificate::generate();
  MediaContext ctx;
  ctx.config = std::make_shared<const config::Config>(cfg);
  ctx.certificate = cert;
  ctx.metrics = &metrics;
  ctx.localAddressesOverride = {{"lo", "127.0.0.1", false, true}};
  return ctx;
}

// Sends `count` Opus frames (20 ms of silence, TOC 0xF8) every 20 ms from the leg's loop; declare after the leg.
class OpusPacer {
public:
  OpusPacer(LegHarness& leg, int count) : leg_(leg) {
    leg_.run([this, count] {
      timer_ = std::make_unique<Timer>(leg_.loop(), 20ms, [this, count] {
        auto p = test::rtpPacket(kOpusPt, static_cast<uint16_t>(100 + sent_), 960u * static_cast<uint32_t>(sent_),
                                 kOurSsrc, 0, 0);
        p.insert(p.end(), {0xF8, 0xFF, 0xFE});
        if (leg_.leg && leg_.leg->sendRtp(p.data(), p.size()) == SendStatus::Ok) ++ok_;
        return ++sent_ < count;
      });
    });
  }
  ~OpusPacer() {
    leg_.run([this] { timer_.reset(); });
  }
  int ok() { return leg_.run([this] { return ok_; }); }

private:
  LegHarness& leg_;
  std::unique_ptr<Timer> timer_;
  int sent_ = 0, ok_ = 0;
};

size_t opusPacketsReceived(LegHarness& leg) {
  std::lock_guard lock(leg.mutex());
  size_t n = 0;
  for (auto& p : leg.rtp)
    if (p.size() > 12 && (p[1] & 0x7f) == kOpusPt) ++n;
  return n;
}

// Browser offers, rtcgate answers (an agent's outgoing call). Returns the answer leg's local transport.
sdp::TransportParams browserOffers(Browser& browser, LegHarness& leg, Metrics& metrics, const config::Config& cfg) {
  auto offerB64 = browser.expect("offer", 30s);
  EXPECT_TRUE(offerB64.has_value()) << "no offer from Chromium";
  if (!offerB64) return {};
  auto offer = sdp::parse(unbase64(*offerB64));
  auto remote = sdp::transportOf(offer, 0);
  leg.create(LegRole::Answerer, context(metrics, cfg));
  std::string error;
  EXPECT_TRUE(leg.run([&] {
    bool ok = leg.leg->setRemoteDescription(remote, &error);
    leg.leg->setClockRate(kOpusPt, 48000);
    leg.leg->start();
    return ok;
  })) << error;
  EXPECT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 5s));
  auto local = *leg.local;
  EXPECT_TRUE(browser.proc->writeLine("answer " + base64(ourSdp(local, remote.mid, offer.media[0].proto))));
  return local;
}

void expectTwoWayAudio(Browser& browser, LegHarness& leg) {
  ASSERT_TRUE(leg.waitFor([&] { return leg.connected || !leg.failure.empty(); }, 20s));
  ASSERT_TRUE(leg.connected) << leg.failure;
  OpusPacer pacer(leg, 100);
  // Chromium's Opus from the fake audio device, decrypted by our leg.
  ASSERT_TRUE(leg.waitFor([&] {
    size_t n = 0;
    for (auto& p : leg.rtp)
      if (p.size() > 12 && (p[1] & 0x7f) == kOpusPt) ++n;
    return n >= 25;
  }, 10s)) << "Opus packets from Chromium: " << opusPacketsReceived(leg);
  // Our SRTP, counted by the browser.
  EXPECT_TRUE(browser.waitInbound(40, 10s)) << "browser inbound-rtp packetsReceived=" << browser.lastInbound;
  auto stats = leg.run([&] { return leg.leg->stats(); });
  EXPECT_EQ(stats.dtlsState, DtlsState::Connected);
  EXPECT_FALSE(stats.srtpProfile.empty());
  EXPECT_EQ(stats.srtpAuthFailures, 0u);
  EXPECT_GE(pacer.ok(), 40);
  ::testing::Test::RecordProperty("srtp_profile", stats.srtpProfile);
  std::cout << "leg stats: profile=" << stats.srtpProfile << " role=" << stats.dtlsRole
            << " pair=" << stats.iceLocalType << " " << stats.iceLocalAddress << " <-> " << stats.iceRemoteType << " "
            << stats.iceRemoteAddress << " rx=" << stats.rtpPacketsReceived << " lost=" << stats.packetsLost
            << " jitterMs=" << stats.jitterMs << " browserInbound=" << browser.lastInbound
            << " browserPair=" << browser.lastPair << "\n";
}

TEST(ChromiumInterop, ChromiumOffersRtcgateAnswers) {
  Metrics metrics;
  LegHarness leg("media-chromium");
  Browser browser("offer");
  auto cfg = interopConfig();
  auto local = browserOffers(browser, leg, metrics, cfg);
  EXPECT_EQ(local.setup, sdp::Setup::Active);
  expectTwoWayAudio(browser, leg);
}

TEST(ChromiumInterop, RtcgateOffersChromiumAnswers) {
  Metrics metrics;
  LegHarness leg("media-chromium");
  Browser browser("answer");
  ASSERT_TRUE(browser.expect("ready", 30s));
  leg.create(LegRole::Offerer, context(metrics, interopConfig()));
  leg.run([&] {
    leg.leg->setClockRate(kOpusPt, 48000);
    leg.leg->start();
  });
  ASSERT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 5s));
  EXPECT_EQ(leg.local->setup, sdp::Setup::ActPass);
  ASSERT_TRUE(browser.proc->writeLine("offer " + base64(ourSdp(*leg.local, "0", "UDP/TLS/RTP/SAVPF"))));
  auto answerB64 = browser.expect("answer", 30s);
  ASSERT_TRUE(answerB64);
  auto answer = sdp::parse(unbase64(*answerB64));
  auto remote = sdp::transportOf(answer, 0);
  std::string error;
  ASSERT_TRUE(leg.run([&] { return leg.leg->setRemoteDescription(remote, &error); })) << error;
  expectTwoWayAudio(browser, leg);
}

struct TurnCase {
  config::TurnTransport transport;
  // Relays on 127.0.0.2 and no relaying to 127.0.0.1 (our host candidate): the only working pair is the browser's
  // relay to rtcgate's relay, so rtcgate's own allocation must carry the media.
  bool onlyRtcgateRelayWorks;
};

class CoturnInterop : public ::testing::TestWithParam<TurnCase> {};

TEST_P(CoturnInterop, ChromiumRelayOnlyAndRtcgateRelayAllocation) {
  const std::string relayIp = GetParam().onlyRtcgateRelayWorks ? "127.0.0.2" : "127.0.0.1";
  Coturn turn(relayIp, GetParam().onlyRtcgateRelayWorks ? "127.0.0.1" : "");
  ASSERT_TRUE(turn.ready()) << "coturn did not answer STUN on 127.0.0.1:" << turn.port();
  auto ts = turn.entry(GetParam().transport);  // rtcgate's own allocation over UDP or TCP (the browser uses UDP)
  ts.credentialTtlS = 600;
  // The browser gets TURN REST credentials as a web app would hand them out; iceTransportPolicy 'relay'.
  auto browserCreds = turnCredentials(ts, std::chrono::system_clock::now(), "agent-1001");
  std::string iceServers = "[{\"urls\":\"turn:127.0.0.1:" + std::to_string(turn.port()) +
                           "?transport=udp\",\"username\":\"" + browserCreds.username + "\",\"credential\":\"" +
                           browserCreds.password.reveal() + "\"}]";
  Metrics metrics;
  LegHarness leg("media-chromium");
  Browser browser("offer", iceServers, "relay");
  auto cfg = interopConfig();
  cfg.ice.turnServers = {ts};
  cfg.ice.gatherDeadlineMs = 2000;  // the allocation on loopback takes milliseconds; leave room on a busy CI box
  auto local = browserOffers(browser, leg, metrics, cfg);
  bool haveRelay = false;
  for (auto& c : local.candidates)
    if (c.type == "relay") haveRelay = c.address == relayIp && c.port >= 50000 && c.port <= 50999;
  EXPECT_TRUE(haveRelay) << "rtcgate allocated no relay on coturn";
  expectTwoWayAudio(browser, leg);
  EXPECT_EQ(browser.lastPair, "relay") << "the browser's selected pair must be relayed";
  if (GetParam().onlyRtcgateRelayWorks) {
    EXPECT_EQ(leg.run([&] { return leg.leg->stats().iceLocalType; }), "relay") << "rtcgate's relay did not carry media";
  }
  leg.run([&] { leg.leg->close(); });  // releases rtcgate's allocation
  turn.stop();                          // coturn flushes its log on exit
  auto log = turn.log();
  EXPECT_NE(log.find("agent-1001"), std::string::npos) << "coturn saw no allocation from the browser:\n" << log;
  EXPECT_NE(log.find(":rtcgate"), std::string::npos) << "coturn saw no allocation from rtcgate";
}

INSTANTIATE_TEST_SUITE_P(RtcgateTurnTransport, CoturnInterop,
                         ::testing::Values(TurnCase{config::TurnTransport::Udp, false},
                                           TurnCase{config::TurnTransport::Tcp, false},
                                           TurnCase{config::TurnTransport::Udp, true}),
                         [](const auto& p) {
                           return std::string(p.param.transport == config::TurnTransport::Udp ? "udp" : "tcp") +
                                  (p.param.onlyRtcgateRelayWorks ? "_relay_to_relay" : "");
                         });

}  // namespace
}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
// Component tests: two BrowserLegs on their own media loops connect over loopback with real libnice, OpenSSL
// and libsrtp2.
#include "rtcgate/media/browser_leg.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <algorithm>
#include <filesystem>
#include <thread>

#include "coturn.h"
#include "leg_harness.h"

namespace rtcgate::media {
namespace {

using namespace std::chrono_literals;
using test::LegHarness;

std::shared_ptr<const DtlsCertificate> sharedCert() {
  static auto cert = DtlsCertificate::generate();
  return cert;
}

config::Config loopbackConfig() {
  config::Config c;
  c.ice.candidates.allowLoopback = true;
  c.media.icePortMin = 0;
  c.media.icePortMax = 0;
  return c;
}

MediaContext context(Metrics& metrics, const config::Config& cfg,
                     std::shared_ptr<const DtlsCertificate> cert = sharedCert()) {
  MediaContext ctx;
  ctx.config = std::make_shared<const config::Config>(cfg);
  ctx.certificate = std::move(cert);
  ctx.metrics = &metrics;
  // The real interface list filtered by the real policy: with allow_loopback only lo survives on a test box
  // whose other interfaces are denied below; IPv6 tests flip ice.candidates.ipv6.
  ctx.localAddressesOverride = {{"lo", "127.0.0.1", false, true}, {"lo", "::1", true, true}};
  return ctx;
}

// A UDP socket on 127.0.0.1 that never answers: STUN/TURN requests to it vanish without an ICMP error.
class BlackHole {
public:
  BlackHole() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~BlackHole() { ::close(fd_); }
  uint16_t port() const { return port_; }
  // Datagrams that arrived, waiting up to `timeout` for the first one.
  size_t received(std::chrono::milliseconds timeout = 0ms) const {
    size_t n = 0;
    uint8_t buf[1500];
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return 0;
    while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) ++n;
    return n;
  }

private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A browser's transport that passes the leg's checks (ICE credentials, rtcp-mux, actpass, a fingerprint no
// certificate matches), for tests that never complete DTLS.
sdp::TransportParams fakeBrowserTransport() {
  sdp::TransportParams t;
  t.iceUfrag = "abcd";
  t.icePwd = "0123456789012345678901";
  t.rtcpMux = true;
  t.setup = sdp::Setup::ActPass;
  t.fingerprints.push_back({"sha-256", "AA:BB"});
  return t;
}

struct Pair {
  Metrics metrics;
  LegHarness offerer{"media-A"};
  LegHarness answerer{"media-B"};

  // Offer/answer as the session layer will do it; mutateOffer edits what the answerer sees.
  void negotiate(const config::Config& cfgA, const config::Config& cfgB,
                 const std::function<void(sdp::TransportParams&)>& mutateOffer = nullptr,
                 const std::function<void(sdp::TransportParams&)>& mutateAnswer = nullptr) {
    offerer.create(LegRole::Offerer, context(metrics, cfgA));
    answerer.create(LegRole::Answerer, context(metrics, cfgB));
    sdp::TransportParams offer, answer;
    test::negotiateLegs(offerer, answerer, offer, answer, mutateOffer, mutateAnswer);
  }

  bool bothConnected(std::chrono::milliseconds timeout = 10s) {
    return offerer.waitFor([&] { return offerer.connected; }, timeout) &&
           answerer.waitFor([&] { return answerer.connected; }, timeout);
  }
};

// Sends n RTP packets and one RTCP RR from `from` and checks `to` decrypted exactly those bytes.
void expectMediaFlows(LegHarness& from, LegHarness& to, uint8_t fill, int n = 5) {
  size_t rtpBefore = 0, rtcpBefore = 0;
  {
    std::lock_guard lock(to.mutex());
    rtpBefore = to.rtp.size();
    rtcpBefore = to.rtcp.size();
  }
  std::vector<std::vector<uint8_t>> sent;
  for (int i = 0; i < n; ++i) sent.push_back(test::rtpPacket(111, static_cast<uint16_t>(1000 + i), 960u * i, 0x1234u + fill, fill));
  auto rr = test::rtcpReceiverReport(0x4321u + fill);
  from.run([&] {
    for (auto& p : sent) EXPECT_EQ(from.leg->sendRtp(p.data(), p.size()), SendStatus::Ok);
    EXPECT_EQ(from.leg->sendRtcp(rr.data(), rr.size()), SendStatus::Ok);
  });
  // The legs' own SR/RR (RtcpReporter) may arrive too: the RR sent here is looked for among them.
  auto hasRr = [&] { return std::find(to.rtcp.begin() + static_cast<std::ptrdiff_t>(rtcpBefore), to.rtcp.end(), rr) != to.rtcp.end(); };
  ASSERT_TRUE(to.waitFor([&] { return to.rtp.size() >= rtpBefore + sent.size() && hasRr(); }, 5s));
  std::lock_guard lock(to.mutex());
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(to.rtp[rtpBefore + i], sent[i]);
}

struct ProfileCase {
  const char* profile;
  bool answererPassive;
};

class LoopbackProfiles : public ::testing::TestWithParam<ProfileCase> {};

TEST_P(LoopbackProfiles, ConnectsAndExchangesSrtpBothWays) {
  auto cfg = loopbackConfig();
  cfg.media.srtpProfiles = {GetParam().profile};
  Pair p;
  p.negotiate(cfg, cfg, [&](sdp::TransportParams& offer) {
    // An offer with setup:active makes the answerer passive (DTLS server) and the offerer the client.
    if (GetParam().answererPassive) offer.setup = sdp::Setup::Active;
  });
  ASSERT_TRUE(p.bothConnected()) << p.offerer.failure << " / " << p.answerer.failure;
  expectMediaFlows(p.offerer, p.answerer, 0xA1);
  expectMediaFlows(p.answerer, p.offerer, 0xB2);
  auto sa = p.offerer.run([&] { return p.offerer.leg->stats(); });
  auto sb = p.answerer.run([&] { return p.answerer.leg->stats(); });
  EXPECT_EQ(sa.srtpProfile, GetParam().profile);
  EXPECT_EQ(sb.srtpProfile, GetParam().profile);
  EXPECT_EQ(sb.dtlsRole, GetParam().answererPassive ? "server" : "client");
  EXPECT_EQ(sa.dtlsRole, GetParam().answererPassive ? "client" : "server");
  EXPECT_EQ(sa.iceLocalType, "host");
  EXPECT_EQ(sa.iceRemoteAddress.rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(sb.rtpPacketsReceived, 5u);
  EXPECT_EQ(sb.packetsLost, 0);
  EXPECT_EQ(sa.rtpPacketsSent, 5u);
  EXPECT_EQ(sa.srtpAuthFailures, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllProfilesBothRoles, LoopbackProfiles,
                         ::testing::Values(ProfileCase{"AEAD_AES_256_GCM", false}, ProfileCase{"AEAD_AES_256_GCM", true},
                                           ProfileCase{"AEAD_AES_128_GCM", false}, ProfileCase{"AEAD_AES_128_GCM", true},
                                           ProfileCase{"AES_CM_128_HMAC_SHA1_80", false},
                                           ProfileCase{"AES_CM_128_HMAC_SHA1_80", true},
                                           ProfileCase{"AES_CM_128_HMAC_SHA1_32", false},
                                           ProfileCase{"AES_CM_128_HMAC_SHA1_32", true}),
                         [](const auto& p) {
                           return std::string(p.param.profile) + (p.param.answererPassive ? "_passive" : "_active");
                         });

// RFC 3550 6.4.1 over SRTCP: the offerer sends RTP, so its reports are SRs with that RTP's SSRC; the answerer's
// reports carry a block about that SSRC echoing the SR (LSR/DLSR), from which the offerer measures the RTT. The
// answerer sent no RTP, so no SR of its own and no RTT. Authenticated SRTCP that is no valid RTCP (a report count
// that does not fit) is counted and ignored. The 5 s interval is shortened to 100 ms (MediaContext::rtcpInterval).
TEST(BrowserLeg, RoundTripTimeFromThePeersReportAboutOurSenderReport) {
  auto cfg = loopbackConfig();
  Pair p;
  p.offerer.create(LegRole::Offerer, [&] {
    auto c = context(p.metrics, cfg);
    c.rtcpInterval = 100ms;
    return c;
  }());
  p.answerer.create(LegRole::Answerer, [&] {
    auto c = context(p.metrics, cfg);
    c.rtcpInterval = 100ms;
    return c;
  }());
  sdp::TransportParams offer, answer;
  test::negotiateLegs(p.offerer, p.answerer, offer, answer, nullptr, nullptr);
  ASSERT_TRUE(p.bothConnected()) << p.offerer.failure << " / " << p.answerer.failure;
  const auto started = std::chrono::steady_clock::now();
  auto bad = test::rtcpReceiverReport(0x77);
  bad[0] = 0x85;  // 5 report blocks claimed, none there
  p.answerer.run([&] { return p.answerer.leg->sendRtcp(bad.data(), bad.size()); });
  std::vector<std::vector<uint8_t>> sent;
  for (int i = 0; i < 3; ++i) sent.push_back(test::rtpPacket(111, static_cast<uint16_t>(i), 960u * i, 0xABCDu, 1));
  p.offerer.run([&] {
    for (auto& pkt : sent) EXPECT_EQ(p.offerer.leg->sendRtp(pkt.data(), pkt.size()), SendStatus::Ok);
  });
  // The offerer has its RTT once a report of the answerer echoing its SR arrived (onRtcp runs before the callback).
  ASSERT_TRUE(p.offerer.waitFor([&] {
    return std::any_of(p.offerer.rtcp.begin(), p.offerer.rtcp.end(), [](const std::vector<uint8_t>& d) {
      RtcpSummary s;
      return parseRtcp(std::span<const uint8_t>(d.data(), d.size()), s, 0xABCDu) == RtpStatus::Ok && s.report &&
             s.report->lastSr != 0;
    });
  }, 5s));
  const auto sa = p.offerer.run([&] { return p.offerer.leg->stats(); });
  const auto sb = p.answerer.run([&] { return p.answerer.leg->stats(); });
  ASSERT_TRUE(sa.rttMs.has_value());
  const double elapsedMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  EXPECT_GE(*sa.rttMs, 0.0);
  EXPECT_LE(*sa.rttMs, elapsedMs);  // an RTT cannot exceed the time since the first SR could be sent
  EXPECT_FALSE(sb.rttMs.has_value());
  EXPECT_GE(sa.rtcpPacketsReceived, 2u);
  EXPECT_EQ(sa.rtcpMalformed, 1u);
  EXPECT_EQ(p.metrics.counter("rtcgate_browser_rtcp_malformed_total", "").load(), 1u);
  RecordProperty("rtt_ms", std::to_string(*sa.rttMs));
}

TEST(BrowserLeg, Ipv6WhenConfigured) {
  auto cfg = loopbackConfig();
  cfg.ice.candidates.ipv6 = true;
  cfg.ice.candidates.allowCidrs = {"::1/128"};  // IPv6 only, to prove the pair really is IPv6
  Pair p;
  p.negotiate(cfg, cfg);
  ASSERT_TRUE(p.bothConnected()) << p.offerer.failure;
  ASSERT_EQ(p.offerer.local->candidates.size(), 1u);
  EXPECT_EQ(p.offerer.local->candidates[0].address, "::1");
  expectMediaFlows(p.offerer, p.answerer, 0x66);
  EXPECT_EQ(p.offerer.run([&] { return p.offerer.leg->stats().iceRemoteAddress; }).rfind("[::1]:", 0), 0u);
}

TEST(BrowserLeg, ProfilePreferenceOfTheDtlsServerWins) {
  // The answerer (client) offers all four; the offerer (server) prefers 128-bit GCM.
  auto cfgA = loopbackConfig();
  cfgA.media.srtpProfiles = {"AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80"};
  Pair p;
  p.negotiate(cfgA, loopbackConfig());
  ASSERT_TRUE(p.bothConnected());
  EXPECT_EQ(p.answerer.run([&] { return p.answerer.leg->stats().srtpProfile; }), "AEAD_AES_128_GCM");
}

TEST(BrowserLeg, NoSrtpBeforeDtlsCompletes) {
  Pair p;
  auto cfg = loopbackConfig();
  p.offerer.create(LegRole::Offerer, context(p.metrics, cfg));
  auto pkt = test::rtpPacket(0, 1, 0, 1, 0);
  EXPECT_EQ(p.offerer.run([&] { return p.offerer.leg->sendRtp(pkt.data(), pkt.size()); }), SendStatus::NotReady);
}

TEST(BrowserLeg, FingerprintMismatchFailsTheLeg) {
  Pair p;
  auto cfg = loopbackConfig();
  p.negotiate(cfg, cfg, [](sdp::TransportParams& offer) {
    offer.fingerprints[0].value[0] = offer.fingerprints[0].value[0] == 'A' ? 'B' : 'A';
  });
  // The answerer is the DTLS client and verifies the offerer's certificate against the (altered) fingerprint.
  ASSERT_TRUE(p.answerer.waitFor([&] { return !p.answerer.failure.empty(); }, 10s));
  EXPECT_NE(p.answerer.failure.find("fingerprint"), std::string::npos) << p.answerer.failure;
  EXPECT_GE(p.metrics.counter("rtcgate_dtls_failures_total", "", {{"reason", "fingerprint_mismatch"}}).load(), 1u);
  EXPECT_FALSE(p.answerer.connected);
  // The offerer receives the alert and fails too; neither sends SRTP.
  ASSERT_TRUE(p.offerer.waitFor([&] { return !p.offerer.failure.empty(); }, 10s));
  EXPECT_FALSE(p.offerer.connected);
  auto pkt = test::rtpPacket(0, 1, 0, 1, 0);
  EXPECT_EQ(p.offerer.run([&] { return p.offerer.leg->sendRtp(pkt.data(), pkt.size()); }), SendStatus::NotReady);
}

TEST(BrowserLeg, DtlsHandshakeDeadlineFailsTheLeg) {
  auto cfg = loopbackConfig();
  cfg.media.dtlsHandshakeTimeoutMs = 800;
  Pair p;
  // Both sides made DTLS servers (each is told the other is active): ICE connects, nobody sends a ClientHello,
  // and the handshake deadline must fail both legs with a clear reason.
  auto started = LegHarness::Clock::now();
  p.negotiate(
      cfg, cfg, [](sdp::TransportParams& offer) { offer.setup = sdp::Setup::Active; },
      [](sdp::TransportParams& answer) { answer.setup = sdp::Setup::Active; });
  ASSERT_TRUE(p.offerer.waitFor([&] { return !p.offerer.failure.empty(); }, 5s));
  ASSERT_TRUE(p.answerer.waitFor([&] { return !p.answerer.failure.empty(); }, 5s));
  EXPECT_EQ(p.offerer.failure, "DTLS handshake timed out");
  EXPECT_EQ(p.answerer.failure, "DTLS handshake timed out");
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(p.offerer.failedAt - started).count();
  EXPECT_GE(elapsed, 800);
  EXPECT_LT(elapsed, 3000);
  EXPECT_FALSE(p.offerer.connected);
}

size_t openFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Issue 11, reliability-security.md 3.10 and 5 items 26 and 30, at CI scale (scripts/half_open_media.sh runs 500):
// 20 browser offers whose ICE never completes (their one candidate is a socket that never answers) and 10 pairs
// whose ICE completes but whose DTLS never starts (both sides told to be DTLS servers: nobody sends a ClientHello),
// all at once. Each leg fails at its deadline (ice.connect_timeout_ms, media.dtls_handshake_timeout_ms; 1 s here)
// with its reason and is counted, and once the legs are closed every socket is gone: the process's file descriptors
// (ICE sockets, timers, loops) are back to what they were before.
TEST(BrowserLeg, HalfOpenIceAndDtlsAtOnceAreFreedAtTheirDeadlines) {
  // scripts/half_open_media.sh raises the counts; CI keeps them small.
  auto fromEnv = [](const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
  };
  const int kIceNeverCompletes = fromEnv("RTCGATE_HALF_OPEN_ICE", 20);
  const int kDtlsNeverStarts = fromEnv("RTCGATE_HALF_OPEN_DTLS_PAIRS", 10);
  auto cfg = loopbackConfig();
  cfg.ice.connectTimeoutMs = 1000;
  cfg.media.dtlsHandshakeTimeoutMs = 1000;
  BlackHole silent;
  sdp::TransportParams offer;
  offer.iceUfrag = "half";
  offer.icePwd = "0123456789012345678901";
  offer.rtcpMux = true;
  offer.setup = sdp::Setup::ActPass;
  std::string fp;
  for (int i = 0; i < 32; ++i) fp += i == 0 ? "AB" : ":AB";
  offer.fingerprints.push_back({"sha-256", fp});
  sdp::IceCandidate c;
  c.foundation = "1";
  c.priority = 2130706431;
  c.address = "127.0.0.1";
  c.port = silent.port();
  offer.candidates.push_back(c);
  offer.endOfCandidates = true;

  {
    // Process-wide libraries open a few descriptors once, at their first use (NSS for SRTP, GnuTLS, GLib's
    // helpers): one whole call first, so that the baseline holds them.
    Pair warmUp;
    ASSERT_NO_FATAL_FAILURE(warmUp.negotiate(loopbackConfig(), loopbackConfig()));
    ASSERT_TRUE(warmUp.bothConnected());
  }
  const size_t baseline = openFds();
  size_t peak = 0;
  const auto started = LegHarness::Clock::now();
  LegHarness::Clock::time_point lastFailure = started;
  {
    Metrics metrics;
    std::vector<std::unique_ptr<LegHarness>> offers;
    for (int i = 0; i < kIceNeverCompletes; ++i) {
      auto& h = *offers.emplace_back(std::make_unique<LegHarness>("half-ice"));
      h.create(LegRole::Answerer, context(metrics, cfg));
      std::string error;
      ASSERT_TRUE(h.run([&] {
        const bool ok = h.leg->setRemoteDescription(offer, &error);
        h.leg->start();
        return ok;
      })) << error;
    }
    std::vector<std::unique_ptr<Pair>> pairs;
    for (int i = 0; i < kDtlsNeverStarts; ++i) {
      auto& p = *pairs.emplace_back(std::make_unique<Pair>());
      ASSERT_NO_FATAL_FAILURE(p.negotiate(
          cfg, cfg, [](sdp::TransportParams& o) { o.setup = sdp::Setup::Active; },
          [](sdp::TransportParams& a) { a.setup = sdp::Setup::Active; }));
    }
    peak = openFds();
    for (auto& h : offers) {
      ASSERT_TRUE(h->waitFor([&] { return !h->failure.empty(); }, 10s + 20ms * kIceNeverCompletes));
      lastFailure = std::max(lastFailure, h->failedAt);
      EXPECT_EQ(h->failure, "ICE did not connect within ice.connect_timeout_ms");
      EXPECT_FALSE(h->connected);
    }
    EXPECT_EQ(metrics.counter("rtcgate_browser_legs_failed_total", "").load(),
              static_cast<uint64_t>(kIceNeverCompletes));
    EXPECT_EQ(metrics.counter("rtcgate_ice_failures_total", "", {{"reason", "connect_timeout"}}).load(),
              static_cast<uint64_t>(kIceNeverCompletes));
    for (auto& p : pairs) {
      for (auto* side : {&p->offerer, &p->answerer}) {
        ASSERT_TRUE(side->waitFor([&] { return !side->failure.empty(); }, 10s + 20ms * kDtlsNeverStarts));
        lastFailure = std::max(lastFailure, side->failedAt);
        EXPECT_EQ(side->failure, "DTLS handshake timed out");
        EXPECT_FALSE(side->connected);
      }
      EXPECT_EQ(p->metrics.counter("rtcgate_browser_legs_failed_total", "").load(), 2u);
      EXPECT_EQ(p->metrics.counter("rtcgate_dtls_failures_total", "", {{"reason", "timeout"}}).load(), 2u);
      EXPECT_EQ(p->metrics.counter("rtcgate_ice_failures_total", "", {{"reason", "connect_timeout"}}).load(), 0u);
    }
  }  // every harness closes its leg (nice_agent_close_async) and stops its loop
  // The descriptors go as the loops finish closing; bounded wait (there is no event to wait on).
  const auto closing = LegHarness::Clock::now();
  for (int i = 0; i < 250 && openFds() != baseline; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(openFds(), baseline);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::cout << "FIGURES half_open_ice=" << kIceNeverCompletes << " half_open_dtls_legs=" << 2 * kDtlsNeverStarts
            << " deadline_ms=1000 all_failed_after_ms=" << ms(lastFailure - started) << " fds_baseline=" << baseline
            << " fds_peak=" << peak << " fds_after=" << openFds()
            << " close_ms=" << ms(LegHarness::Clock::now() - closing) << "\n";
}

TEST(BrowserLeg, RefusesAnswerWithActpassAndOfferWithoutFingerprintOrMux) {
  Pair p;
  auto cfg = loopbackConfig();
  p.offerer.create(LegRole::Offerer, context(p.metrics, cfg));
  p.answerer.create(LegRole::Answerer, context(p.metrics, cfg));
  auto t = fakeBrowserTransport();
  std::string error;
  EXPECT_FALSE(p.offerer.run([&] { return p.offerer.leg->setRemoteDescription(t, &error); }));
  EXPECT_NE(error.find("actpass"), std::string::npos);
  auto noFp = t;
  noFp.fingerprints.clear();
  EXPECT_FALSE(p.answerer.run([&] { return p.answerer.leg->setRemoteDescription(noFp, &error); }));
  EXPECT_NE(error.find("fingerprint"), std::string::npos);
  auto noMux = t;
  noMux.rtcpMux = false;
  EXPECT_FALSE(p.answerer.run([&] { return p.answerer.leg->setRemoteDescription(noMux, &error); }));
  EXPECT_NE(error.find("rtcp-mux"), std::string::npos);
}

// Issue 11 (reliability-security.md §3.4): a browser's candidates at unspecified, link-local (the cloud metadata
// address), multicast, broadcast or v4-mapped addresses got STUN checks: the gateway probed whatever they named.
// 0.0.0.0 shows it on loopback (Linux delivers a datagram to 0.0.0.0 to this host): that candidate has the highest
// priority, so its checks would come first; they never come, the allowed candidate's do, and libnice holds only it.
TEST(BrowserLeg, RemoteCandidatesAtForbiddenAddressesAreNeverChecked) {
  Metrics metrics;
  LegHarness leg("media-A");
  auto cfg = loopbackConfig();
  leg.create(LegRole::Answerer, context(metrics, cfg));
  BlackHole trap, allowed;
  auto t = fakeBrowserTransport();
  uint32_t priority = 2130706431;
  for (const char* address : {"0.0.0.0", "169.254.169.254", "224.0.0.1", "255.255.255.255", "::ffff:127.0.0.1",
                              "fe80::1"}) {
    sdp::IceCandidate c;
    c.foundation = std::to_string(priority % 97);
    c.priority = priority--;
    c.address = address;
    c.port = trap.port();
    t.candidates.push_back(c);
  }
  sdp::IceCandidate ok;
  ok.foundation = "9";
  ok.priority = 1;
  ok.address = "127.0.0.1";
  ok.port = allowed.port();
  t.candidates.push_back(ok);
  std::string error;
  ASSERT_TRUE(leg.run([&] { return leg.leg->setRemoteDescription(t, &error); })) << error;
  leg.run([&] { leg.leg->start(); });
  EXPECT_GE(allowed.received(5000ms), 1u) << "no connectivity check reached the allowed candidate";
  EXPECT_EQ(trap.received(), 0u) << "a check went to 0.0.0.0 (this host)";
  EXPECT_EQ(leg.run([&] { return leg.leg->remoteCandidates(); }),
            std::vector<std::string>{"127.0.0.1:" + std::to_string(allowed.port())});
  EXPECT_EQ(metrics.counter("rtcgate_ice_remote_candidates_refused_total", "").load(), 6u);
}

TEST(BrowserLeg, UnreachableStunAndTurnDoNotDelayPastTheGatherDeadline) {
  BlackHole stun, turn;
  auto cfg = loopbackConfig();
  cfg.ice.gatherDeadlineMs = 300;
  cfg.ice.stunServers = {{"127.0.0.1", stun.port()}};
  config::TurnServer ts;
  ts.host = "127.0.0.1";
  ts.port = turn.port();
  ts.username = "u";
  ts.password = Secret("p");
  cfg.ice.turnServers = {ts};
  Metrics metrics;
  LegHarness leg("media-A");
  leg.create(LegRole::Offerer, context(metrics, cfg));
  auto started = LegHarness::Clock::now();
  leg.run([&] { leg.leg->start(); });
  ASSERT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 5s));
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(leg.localAt - started);
  EXPECT_GE(elapsed.count(), 280);
  EXPECT_LT(elapsed.count(), 600) << "an unreachable STUN/TURN server delayed the description";
  ASSERT_FALSE(leg.local->candidates.empty());
  EXPECT_EQ(leg.local->candidates[0].type, "host");
}

// Issue 12: a server that provably cannot answer does not hold the deadline. A UDP port on 127.0.0.1 that nobody
// holds answers with ICMP port unreachable, which libnice's unconnected socket never sees; the leg's ServerProbe
// does. The deadline is far away: only an early completion, for the reason "unreachable", reports the description.
TEST(BrowserLeg, GatheringEndsEarlyWhenTheStunServerPortIsClosed) {
  const uint16_t closed = rtcgate::test::freePort();  // bound once and released: nothing listens there
  auto cfg = loopbackConfig();
  cfg.ice.gatherDeadlineMs = 60000;
  cfg.ice.stunServers = {{"127.0.0.1", closed}};
  Metrics metrics;
  for (int call = 1; call <= 2; ++call) {
    LegHarness leg("media-A");
    leg.create(LegRole::Offerer, context(metrics, cfg));
    leg.run([&] { leg.leg->start(); });
    ASSERT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 20s)) << "gathering waited for the deadline";
    ASSERT_EQ(leg.local->candidates.size(), 1u);
    EXPECT_EQ(leg.local->candidates[0].type, "host");
    EXPECT_EQ(metrics.counter("rtcgate_ice_gathering_unreachable_total", "").load(), static_cast<uint64_t>(call));
    EXPECT_EQ(metrics.counter("rtcgate_ice_gathering_deadline_total", "").load(), 0u);
    EXPECT_EQ(metrics.counter("rtcgate_ice_gathering_answered_total", "").load(), 0u);
    // Counted per gathering (the log line, once per episode, is not repeated for the second call).
    EXPECT_EQ(metrics.counter("rtcgate_ice_server_unanswered_total", "", {{"type", "stun"}, {"index", "0"}}).load(),
              static_cast<uint64_t>(call));
  }
}

// Issue 12: with coturn as the STUN and the TURN server, gathering completes as soon as both have answered (the
// STUN Binding and the relay allocation), with the relay candidate in the description, not at the deadline.
TEST(BrowserLeg, GatheringEndsWhenCoturnHasAnsweredStunAndTurn) {
  test::Coturn turn("127.0.0.1", "");
  ASSERT_TRUE(turn.ready()) << "coturn did not answer STUN on 127.0.0.1:" << turn.port();
  auto cfg = loopbackConfig();
  cfg.ice.gatherDeadlineMs = 60000;
  cfg.ice.stunServers = {{"127.0.0.1", turn.port()}};
  cfg.ice.turnServers = {turn.entry()};
  Metrics metrics;
  LegHarness leg("media-A");
  leg.create(LegRole::Offerer, context(metrics, cfg));
  leg.run([&] { leg.leg->start(); });
  ASSERT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 20s)) << turn.log();
  size_t relays = 0;
  for (const auto& c : leg.local->candidates) relays += c.type == "relay" ? 1 : 0;
  EXPECT_EQ(relays, 1u) << "the description went out without coturn's relay candidate";
  EXPECT_EQ(metrics.counter("rtcgate_ice_gathering_answered_total", "").load(), 1u);
  EXPECT_EQ(metrics.counter("rtcgate_ice_gathering_deadline_total", "").load(), 0u);
  EXPECT_EQ(metrics.counter("rtcgate_ice_server_unanswered_total", "", {{"type", "stun"}, {"index", "0"}}).load(), 0u);
  EXPECT_EQ(metrics.counter("rtcgate_ice_server_unanswered_total", "", {{"type", "turn"}, {"index", "0"}}).load(), 0u);
}

// Issue 12: TURN allocations outlive their lifetime. libnice 0.1.21 refreshes an allocation at half its lifetime
// (lifetime - 60 s above 120 s; conncheck.c priv_calc_turn_timeout) and answers a 438 Stale Nonce by resending
// the Refresh with the new nonce. coturn grants 4 s and lets each nonce go stale after 1 s: the refresh (due at
// 2 s) first meets a 438, and the allocation must still be refreshed before it expires.
TEST(BrowserLeg, TurnAllocationIsRefreshedThroughStaleNonces) {
  test::Coturn turn("127.0.0.1", "", 0, {"--max-allocate-lifetime=4", "--stale-nonce=1"});
  ASSERT_TRUE(turn.ready()) << "coturn did not answer STUN on 127.0.0.1:" << turn.port();
  auto cfg = loopbackConfig();
  cfg.ice.turnServers = {turn.entry()};
  Metrics metrics;
  LegHarness leg("media-A");
  leg.create(LegRole::Offerer, context(metrics, cfg));
  leg.run([&] { leg.leg->start(); });
  ASSERT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 10s));
  auto count = [&](const std::string& what) {
    const std::string log = turn.log();
    size_t n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  const auto end = LegHarness::Clock::now() + 10s;
  // A refresh sent within the first second still has a fresh nonce; under load the first one can be that early, so
  // wait for a 438 as well as for a successful refresh (the one after it).
  while ((count("REFRESH processed, success") < 1 || count("error 438") < 1) && LegHarness::Clock::now() < end)
    std::this_thread::sleep_for(100ms);  // polling coturn's log file: there is no event to wait on
  EXPECT_GE(count("REFRESH processed, success"), 1u) << turn.log();
  EXPECT_EQ(count("allocation timeout"), 0u) << turn.log();
  // Seen on a loaded machine: libnice's first Refresh asked for (and got) the default 600 s lifetime, so no later
  // Refresh came within the 10 s and no nonce went stale. Then the 438 path was not exercised: say so, not pass.
  if (count("error 438") == 0) GTEST_SKIP() << "coturn sent no 438 in this run: the stale-nonce path was not exercised";
}

// ice.relay_only on `turn`, loopback otherwise.
config::Config relayOnlyConfig(const test::Coturn& turn) {
  auto c = loopbackConfig();
  c.ice.turnServers = {turn.entry()};
  c.ice.relayOnly = true;
  return c;
}

// Issue 12: ice.relay_only. The offerer (rtcgate) offers only its coturn relay candidate and its media runs through
// its own allocation (a host reachable only through TURN).
TEST(BrowserLeg, RelayOnlyLegOffersAndUsesOnlyItsOwnAllocation) {
  test::Coturn turn("127.0.0.1", "");
  ASSERT_TRUE(turn.ready()) << "coturn did not answer STUN on 127.0.0.1:" << turn.port();
  auto relayOnly = relayOnlyConfig(turn);
  Pair p;
  p.negotiate(relayOnly, loopbackConfig());
  ASSERT_TRUE(p.bothConnected()) << p.offerer.failure << " / " << p.answerer.failure << "\n" << turn.log();
  ASSERT_EQ(p.offerer.local->candidates.size(), 1u);
  EXPECT_EQ(p.offerer.local->candidates[0].type, "relay");
  EXPECT_EQ(p.offerer.run([&] { return p.offerer.leg->stats().iceLocalType; }), "relay");
  expectMediaFlows(p.offerer, p.answerer, 0xA1);
  expectMediaFlows(p.answerer, p.offerer, 0xA2);
}


// Sends RTP from `from` every 50 ms until one reaches `to` (at most `attempts`): the end of an outage.
bool mediaGetsThrough(LegHarness& from, LegHarness& to, uint8_t fill, int attempts) {
  auto pkt = test::rtpPacket(111, 5000, 0, 0x99, fill);
  for (int i = 0; i < attempts; ++i) {
    from.run([&] { return from.leg->sendRtp(pkt.data(), pkt.size()); });
    if (to.waitFor([&] { return !to.rtp.empty() && to.rtp.back() == pkt; }, 50ms)) return true;
    pkt[3]++;
  }
  return false;
}

// Packets `to` decrypted of `n` RTP packets `from` sends at 50/s (one second of audio), after the previous ones.
size_t audioSecond(LegHarness& from, LegHarness& to, uint8_t fill, uint16_t firstSeq, int n = 50) {
  size_t before = 0;
  {
    std::lock_guard lock(to.mutex());
    before = to.rtp.size();
  }
  for (int i = 0; i < n; ++i) {
    auto pkt = test::rtpPacket(111, static_cast<uint16_t>(firstSeq + i), 960u * i, 0x5150u + fill, fill);
    from.run([&] { return from.leg->sendRtp(pkt.data(), pkt.size()); });
    std::this_thread::sleep_for(20ms);  // pacing of an audio stream, not a wait for a condition
  }
  to.waitFor([&] { return to.rtp.size() >= before + n; }, 1s);
  std::lock_guard lock(to.mutex());
  return to.rtp.size() - before;
}

// Issue 12: rtcgate reachable only through its own TURN relay, and the TURN server restarts mid-call (its
// allocation is gone). libnice alone would drop the allocation silently; the leg notices (consent and media gone
// through the relay), allocates again from a new local port, offers an ICE restart with new credentials and the
// new relay candidate (same fingerprint, actpass), and media flows again both ways on the same DTLS association.
TEST(BrowserLeg, LostTurnAllocationIsRecreatedWithAnIceRestart) {
  test::Coturn turn("127.0.0.1", "");
  ASSERT_TRUE(turn.ready()) << "coturn did not answer STUN on 127.0.0.1:" << turn.port();
  auto relayOnly = relayOnlyConfig(turn);
  Pair p;
  p.offerer.recreateLostRelay = true;
  p.negotiate(relayOnly, loopbackConfig());
  ASSERT_TRUE(p.bothConnected()) << p.offerer.failure << " / " << p.answerer.failure << "\n" << turn.log();
  const auto first = *p.offerer.local;
  ASSERT_EQ(first.candidates.size(), 1u);
  ASSERT_EQ(first.candidates[0].type, "relay");
  EXPECT_EQ(audioSecond(p.offerer, p.answerer, 0xB1, 100), 50u);
  EXPECT_EQ(audioSecond(p.answerer, p.offerer, 0xB2, 100), 50u);

  turn.restart();  // SIGTERM by PID, then the same port again: no allocation survives
  ASSERT_TRUE(turn.ready()) << "coturn did not come back on 127.0.0.1:" << turn.port();
  const auto restarted = LegHarness::Clock::now();
  // Detection: libnice declares consent lost 10 s after the last answer (checks every 4-6 s).
  ASSERT_TRUE(p.offerer.waitFor([&] { return !p.offerer.relayOffers.empty(); }, 15s))
      << "no ICE restart offer after the TURN server restarted; leg failure: " << p.offerer.failure << "\n"
      << turn.log();
  const auto noticed = LegHarness::Clock::now();
  sdp::TransportParams reoffer;
  {
    std::lock_guard lock(p.offerer.mutex());
    reoffer = p.offerer.relayOffers.front();
  }
  EXPECT_NE(reoffer.iceUfrag, first.iceUfrag);
  EXPECT_NE(reoffer.icePwd, first.icePwd);
  EXPECT_EQ(reoffer.setup, sdp::Setup::ActPass);
  EXPECT_EQ(reoffer.fingerprints, first.fingerprints);
  ASSERT_EQ(reoffer.candidates.size(), 1u);
  EXPECT_EQ(reoffer.candidates[0].type, "relay");
  // A new local port under the new allocation: the old 5-tuple would get 437 from a server that still held it.
  EXPECT_NE(reoffer.candidates[0].relPort, first.candidates[0].relPort);
  EXPECT_NE(turn.log().find("ALLOCATE processed, success"), std::string::npos) << turn.log();

  std::string error;
  ASSERT_TRUE(p.answerer.run([&] { return p.answerer.leg->setRemoteDescription(reoffer, &error); })) << error;
  ASSERT_TRUE(p.answerer.waitFor([&] { return p.answerer.localCount == 2; }, 5s));
  auto reanswer = *p.answerer.local;
  EXPECT_EQ(reanswer.setup, sdp::Setup::Active);  // the browser keeps its DTLS role
  ASSERT_TRUE(p.offerer.run([&] { return p.offerer.leg->setRemoteDescription(reanswer, &error); })) << error;
  // Media again: the first packet through marks the end of the outage (bounded: ICE checks take a moment).
  ASSERT_TRUE(mediaGetsThrough(p.offerer, p.answerer, 0xB3, 200)) << p.offerer.failure << " / " << p.answerer.failure;
  const auto resumed = LegHarness::Clock::now();
  EXPECT_EQ(audioSecond(p.offerer, p.answerer, 0xB4, 4000), 50u);
  EXPECT_EQ(audioSecond(p.answerer, p.offerer, 0xB5, 4000), 50u);
  EXPECT_EQ(p.offerer.run([&] { return p.offerer.leg->stats().iceLocalType; }), "relay");
  EXPECT_EQ(p.offerer.run([&] { return p.offerer.leg->stats().state; }), LegState::Connected);
  EXPECT_TRUE(p.offerer.failure.empty() && p.answerer.failure.empty()) << p.offerer.failure << p.answerer.failure;
  EXPECT_EQ(p.metrics.counter("rtcgate_turn_allocations_lost_total", "").load(), 1u);
  EXPECT_EQ(p.metrics.counter("rtcgate_ice_restarts_turn_lost_total", "").load(), 1u);
  EXPECT_EQ(p.metrics.counter("rtcgate_turn_allocations_recreated_total", "").load(), 1u);
  EXPECT_EQ(p.metrics.counter("rtcgate_turn_recovery_failed_total", "").load(), 0u);
  {
    std::lock_guard lock(p.offerer.mutex());
    EXPECT_EQ(p.offerer.relayOffers.size(), 1u);
  }
  RecordProperty("restart_to_detected_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(noticed - restarted).count()));
  RecordProperty("restart_to_media_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(resumed - restarted).count()));
}

// Without a TURN server to come back, the leg gives up after kMaxRelayAttempts and fails with a clear reason.
TEST(BrowserLeg, LostTurnAllocationFailsTheLegAfterBoundedAttempts) {
  test::Coturn turn("127.0.0.1", "");
  ASSERT_TRUE(turn.ready()) << "coturn did not answer STUN on 127.0.0.1:" << turn.port();
  auto relayOnly = relayOnlyConfig(turn);
  relayOnly.ice.gatherDeadlineMs = 300;
  Pair p;
  p.offerer.recreateLostRelay = true;
  p.negotiate(relayOnly, loopbackConfig());
  ASSERT_TRUE(p.bothConnected()) << p.offerer.failure << " / " << p.answerer.failure;
  turn.stop();
  ASSERT_TRUE(p.offerer.waitFor([&] { return !p.offerer.failure.empty(); }, 20s)) << "the leg never gave up";
  EXPECT_NE(p.offerer.failure.find("not re-created in 3 attempts"), std::string::npos) << p.offerer.failure;
  EXPECT_TRUE(p.offerer.relayOffers.empty());  // no relay candidate came: nothing was offered to the browser
  EXPECT_EQ(p.metrics.counter("rtcgate_turn_allocations_lost_total", "").load(), 1u);
  EXPECT_EQ(p.metrics.counter("rtcgate_turn_recovery_failed_total", "").load(), 1u);
  EXPECT_EQ(p.metrics.counter("rtcgate_turn_allocations_recreated_total", "").load(), 0u);
}

TEST(BrowserLeg, GatheringWithoutServersReportsAtOnce) {
  Metrics metrics;
  LegHarness leg("media-A");
  leg.create(LegRole::Offerer, context(metrics, loopbackConfig()));
  auto started = LegHarness::Clock::now();
  leg.run([&] { leg.leg->start(); });
  ASSERT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 5s));
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(leg.localAt - started).count(), 250);
  ASSERT_EQ(leg.local->candidates.size(), 1u);  // ::1 is refused: ipv6 is off by default
  EXPECT_EQ(leg.local->candidates[0].address, "127.0.0.1");
  EXPECT_EQ(leg.local->fingerprints[0], sharedCert()->fingerprint());
  EXPECT_TRUE(leg.local->rtcpMux);
}

TEST(BrowserLeg, Nat1to1RewritesTheHostCandidate) {
  auto cfg = loopbackConfig();
  cfg.ice.candidates.nat1to1 = {{"127.0.0.1", "203.0.113.7"}};
  Metrics metrics;
  LegHarness leg("media-A");
  leg.create(LegRole::Offerer, context(metrics, cfg));
  leg.run([&] { leg.leg->start(); });
  ASSERT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 5s));
  ASSERT_EQ(leg.local->candidates.size(), 1u);
  EXPECT_EQ(leg.local->candidates[0].address, "203.0.113.7");
}

TEST(BrowserLeg, NoAllowedAddressIsAClearError) {
  Metrics metrics;
  LegHarness leg("media-A");
  config::Config cfg;  // loopback not allowed
  EXPECT_THROW(leg.create(LegRole::Offerer, context(metrics, cfg)), std::runtime_error);
}

TEST(BrowserLeg, IceRestartKeepsMediaFlowing) {
  Pair p;
  auto cfg = loopbackConfig();
  p.negotiate(cfg, cfg);
  ASSERT_TRUE(p.bothConnected());
  auto oldOfferUfrag = p.offerer.local->iceUfrag;
  auto oldAnswerUfrag = p.answerer.local->iceUfrag;
  p.offerer.run([&] { p.offerer.leg->restartIce(); });
  ASSERT_TRUE(p.offerer.waitFor([&] { return p.offerer.localCount == 2; }, 5s));
  auto reoffer = *p.offerer.local;
  EXPECT_NE(reoffer.iceUfrag, oldOfferUfrag);
  EXPECT_EQ(reoffer.setup, sdp::Setup::ActPass);
  std::string error;
  ASSERT_TRUE(p.answerer.run([&] { return p.answerer.leg->setRemoteDescription(reoffer, &error); })) << error;
  ASSERT_TRUE(p.answerer.waitFor([&] { return p.answerer.localCount == 2; }, 5s));
  auto reanswer = *p.answerer.local;
  EXPECT_NE(reanswer.iceUfrag, oldAnswerUfrag);
  EXPECT_EQ(reanswer.setup, sdp::Setup::Active);  // the established role is kept (P3)
  ASSERT_TRUE(p.offerer.run([&] { return p.offerer.leg->setRemoteDescription(reanswer, &error); })) << error;
  // Media flows again once ICE re-selected a pair (poll: the restart checks take a moment).
  EXPECT_TRUE(mediaGetsThrough(p.offerer, p.answerer, 0x77, 100));
  EXPECT_TRUE(p.offerer.failure.empty() && p.answerer.failure.empty());
}

TEST(BrowserLeg, ReofferWithoutRestartKeepsTransportAndRole) {
  // A hold re-INVITE from the browser: same ICE credentials, setup:actpass again; the answer keeps our role (P3)
  // and the running DTLS association, and media keeps flowing.
  Pair p;
  auto cfg = loopbackConfig();
  p.negotiate(cfg, cfg);
  ASSERT_TRUE(p.bothConnected());
  auto reoffer = *p.offerer.local;
  reoffer.direction = sdp::Direction::SendOnly;
  std::string error;
  ASSERT_TRUE(p.answerer.run([&] { return p.answerer.leg->setRemoteDescription(reoffer, &error); })) << error;
  auto answer = p.answerer.run([&] { return p.answerer.leg->localTransport(false); });
  EXPECT_EQ(answer.setup, sdp::Setup::Active);
  EXPECT_EQ(answer.iceUfrag, p.answerer.local->iceUfrag);
  EXPECT_EQ(p.answerer.localCount, 1);  // no new description: nothing changed in the transport
  // A re-offer that would flip the DTLS role is refused.
  auto flip = reoffer;
  flip.setup = sdp::Setup::Active;  // would make us passive (server) while we are the client
  EXPECT_FALSE(p.answerer.run([&] { return p.answerer.leg->setRemoteDescription(flip, &error); }));
  EXPECT_NE(error.find("DTLS role"), std::string::npos) << error;
  expectMediaFlows(p.offerer, p.answerer, 0x21);
  expectMediaFlows(p.answerer, p.offerer, 0x22);
}

TEST(BrowserLeg, ReplayedSrtpIsDroppedAndCounted) {
  Pair p;
  auto cfg = loopbackConfig();
  p.negotiate(cfg, cfg);
  ASSERT_TRUE(p.bothConnected());
  // The sender protects the same sequence number twice (libsrtp allow_repeat_tx); the receiver's replay window
  // must drop the second copy and count it, without delivering it.
  auto pkt = test::rtpPacket(111, 42, 0, 0x55, 0x33);
  auto marker = test::rtpPacket(111, 43, 960, 0x55, 0x34);
  p.offerer.run([&] {
    p.offerer.leg->sendRtp(pkt.data(), pkt.size());
    p.offerer.leg->sendRtp(pkt.data(), pkt.size());
    p.offerer.leg->sendRtp(marker.data(), marker.size());
  });
  ASSERT_TRUE(p.answerer.waitFor([&] { return !p.answerer.rtp.empty() && p.answerer.rtp.back() == marker; }, 5s));
  auto stats = p.answerer.run([&] { return p.answerer.leg->stats(); });
  EXPECT_EQ(stats.srtpReplayFailures, 1u);
  EXPECT_EQ(stats.rtpPacketsReceived, 2u);
  EXPECT_NE(p.metrics.renderPrometheus().find("rtcgate_srtp_replay_failures_total 1"), std::string::npos);
}

TEST(BrowserLeg, PeersCloseNotifyIsClosedByPeerNotAFailure) {
  // Issue 9: Chrome sends DTLS close_notify when its RTCPeerConnection closes, just before the BYE of a normal
  // hangup. The other leg must report closed-by-peer (its own metric), never failed, not even when ICE consent
  // then runs out because the closing side's ICE agent is gone.
  auto cfg = loopbackConfig();
  cfg.ice.consentTimeoutMs = 10000;  // the shortest libnice can tell: the test waits past it
  Pair p;
  p.negotiate(cfg, cfg);
  ASSERT_TRUE(p.bothConnected()) << p.offerer.failure << " / " << p.answerer.failure;
  expectMediaFlows(p.offerer, p.answerer, 0xC3);
  auto& failed = p.metrics.counter("rtcgate_browser_legs_failed_total", "");
  auto& closedByPeer = p.metrics.counter("rtcgate_browser_legs_closed_by_peer_total", "");
  const auto failedBefore = failed.load();
  EXPECT_EQ(closedByPeer.load(), 0u);

  // The offerer plays the browser: close() sends close_notify, then its ICE agent goes away.
  auto closedAt = LegHarness::Clock::now();
  p.offerer.run([&] {
    auto* leg = p.offerer.leg.release();
    leg->close([leg] { delete leg; });  // as MediaSession does: libnice releases its sockets asynchronously
  });
  ASSERT_TRUE(p.answerer.waitFor([&] { return p.answerer.closedByPeer || !p.answerer.failure.empty(); }, 5s));
  EXPECT_TRUE(p.answerer.closedByPeer) << p.answerer.failure;
  EXPECT_LT(p.answerer.closedByPeerAt - closedAt, 1s);
  EXPECT_EQ(closedByPeer.load(), 1u);
  EXPECT_EQ(p.answerer.run([&] { return p.answerer.leg->state(); }), LegState::PeerClosed);
  // It stops sending.
  auto pkt = test::rtpPacket(111, 1, 0, 1, 0);
  EXPECT_EQ(p.answerer.run([&] { return p.answerer.leg->sendRtp(pkt.data(), pkt.size()); }), SendStatus::NotReady);

  // Past libnice's 10 s consent expiry: still no failure, and the failure counter never moved.
  EXPECT_FALSE(p.answerer.waitFor([&] { return !p.answerer.failure.empty(); }, 12s)) << p.answerer.failure;
  EXPECT_EQ(failed.load(), failedBefore);
  EXPECT_EQ(closedByPeer.load(), 1u);
  EXPECT_EQ(p.answerer.run([&] { return p.answerer.leg->stats().state; }), LegState::PeerClosed);
}

TEST(BrowserLeg, ConsentTimeoutFromConfigIsEffective) {
  // The answerer goes silent (its loop is blocked, so it answers no consent check). libnice alone would fail the
  // offerer 4-10 s later (10 s after the last answer); with ice.consent_timeout_ms = 18000 it must be 12-18 s.
  auto cfg = loopbackConfig();
  cfg.ice.consentTimeoutMs = 18000;
  Pair p;
  p.negotiate(cfg, cfg);
  ASSERT_TRUE(p.bothConnected());
  auto unfreeze = p.answerer.freeze();
  auto frozenAt = LegHarness::Clock::now();
  ASSERT_TRUE(p.offerer.waitFor([&] { return !p.offerer.failure.empty(); }, 25s));
  unfreeze();
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(p.offerer.failedAt - frozenAt).count();
  EXPECT_GE(elapsed, 11500) << p.offerer.failure;
  EXPECT_LE(elapsed, 19000) << p.offerer.failure;
  EXPECT_NE(p.offerer.failure.find("consent"), std::string::npos) << p.offerer.failure;
}

}  // namespace
}  // namespace rtcgate::media

namespace rtcgate::media {
namespace {

TEST(BrowserLeg, ConsentRegainedWithinTheTimeoutKeepsTheLeg) {
  // The answerer stops answering for 11 s (libnice alone would fail the offerer at 10 s), then comes back; with
  // ice.consent_timeout_ms = 28000 neither leg may fail, and media flows afterwards. No media is sent meanwhile, so
  // only the consent checks themselves can restore consent. (~31 s: libnice re-fails a re-selected pair only after
  // up to 16 s, which bounds how fast a recovery can be seen.)
  auto cfg = loopbackConfig();
  cfg.ice.consentTimeoutMs = 28000;
  Pair p;
  p.negotiate(cfg, cfg);
  ASSERT_TRUE(p.bothConnected());
  auto unfreeze = p.answerer.freeze();
  auto frozenAt = LegHarness::Clock::now();
  EXPECT_FALSE(p.offerer.waitFor([&] { return !p.offerer.failure.empty(); }, 11s)) << p.offerer.failure;
  unfreeze();
  auto until = frozenAt + 31s;
  EXPECT_FALSE(p.offerer.waitFor([&] { return !p.offerer.failure.empty(); },
                                 std::chrono::duration_cast<std::chrono::milliseconds>(until - LegHarness::Clock::now())))
      << p.offerer.failure;
  EXPECT_TRUE(p.answerer.failure.empty()) << p.answerer.failure;
  expectMediaFlows(p.offerer, p.answerer, 0x41);
  expectMediaFlows(p.answerer, p.offerer, 0x42);
}

}  // namespace
}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
// Component: one real MediaSession (BrowserLeg with libnice + DTLS-SRTP, RtpLeg, MediaBridge) on its own worker,
// between a peer BrowserLeg playing the browser and a UDP socket playing Genesys, all over loopback. Both sides
// send on the test's own absolute 20 ms schedule (clock_nanosleep TIMER_ABSTIME on CLOCK_MONOTONIC, a clock the
// code under test does not drive), so a gateway that paces output by a drifting timer, buffers without bound or
// drops frames shows up as a frame count or delay that differs from what was sent. Issue 9 measured 44-48
// packets/s instead of 50 on transcoded calls; this test sees that as a 4-12 % shortfall.
// The call lasts RTCGATE_MEDIA_CALL_SECONDS (default 60; 600 for the 10-minute measurement).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include "media/leg_harness.h"
#include "rtcgate/media/rtp/rtp_port_pool.h"
#include "rtcgate/media/rtp/call_quality.h"
#include "rtcgate/session/call_snapshot.h"
#include "rtcgate/session/media_session.h"
#include "support/rtp_builder.h"
#include "support/sipp_process.h"
#include "support/tone.h"

namespace rtcgate::session {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux, as clock_nanosleep below
using codec::CodecId;

int callSeconds() {
  const char* v = std::getenv("RTCGATE_MEDIA_CALL_SECONDS");
  int s = v ? std::atoi(v) : 60;
  return s > 0 ? s : 60;
}

// What one direction carried: when each input frame was sent, and when each output packet arrived with its RTP
// timestamp and sequence number.
struct Flow {
  std::mutex mutex;
  std::vector<Clock::time_point> sent;
  struct Arrival {
    Clock::time_point at;
    uint32_t timestamp;
    uint16_t seq;
  };
  std::vector<Arrival> received;

  void arrived(const uint8_t* d, size_t n, Clock::time_point at = Clock::now()) {
    media::RtpHeader h;
    if (media::parseRtp({d, n}, h) != media::RtpStatus::Ok) return;
    std::lock_guard lock(mutex);
    received.push_back({at, h.timestamp, h.sequence});
  }
};

struct Figures {
  size_t sent = 0, received = 0;
  double medianDelayMs = 0, firstTenthMs = 0, lastTenthMs = 0, p99DelayMs = 0;
};

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Matches each output packet to the input frame it carries through the RTP timestamps (the output timeline
// follows the input's one frame per `ticks`), then measures arrival minus send time.
Figures analyse(Flow& f, uint32_t ticks) {
  std::lock_guard lock(f.mutex);
  Figures r;
  r.sent = f.sent.size();
  r.received = f.received.size();
  if (f.received.empty()) return r;
  const uint32_t first = f.received.front().timestamp;
  std::vector<double> delays;
  std::vector<double> head, tail;
  for (auto& a : f.received) {
    const uint32_t index = (a.timestamp - first) / ticks;
    EXPECT_EQ((a.timestamp - first) % ticks, 0u) << "output timestamps off the frame grid";
    if (index >= f.sent.size()) continue;
    const double d = ms(a.at - f.sent[index]);
    delays.push_back(d);
    if (index < f.sent.size() / 10) head.push_back(d);
    if (index >= f.sent.size() - f.sent.size() / 10) tail.push_back(d);
  }
  r.firstTenthMs = median(head);
  r.lastTenthMs = median(tail);
  r.medianDelayMs = median(delays);
  std::sort(delays.begin(), delays.end());
  if (!delays.empty()) r.p99DelayMs = delays[delays.size() * 99 / 100];
  // Consecutive sequence numbers: the gateway's output stream has no holes of its own making.
  for (size_t i = 1; i < f.received.size(); ++i)
    EXPECT_EQ(static_cast<uint16_t>(f.received[i].seq - f.received[i - 1].seq), 1) << "at packet " << i;
  return r;
}

class UdpPeer {
public:
  UdpPeer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~UdpPeer() { ::close(fd_); }
  uint16_t port() const { return port_; }
  void sendTo(uint16_t port, const std::vector<uint8_t>& p) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ::sendto(fd_, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  // The next datagram within `timeout`; empty when none came.
  std::vector<uint8_t> receiveOne(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    std::vector<uint8_t> buf(2048);
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  // Receives until `stop`; bounded by the poll timeout per round.
  void receive(Flow& into, const std::atomic<bool>& stop) const {
    uint8_t buf[2048];
    while (!stop.load()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) into.arrived(buf, static_cast<size_t>(n));
    }
  }

private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Encoded 20 ms frames of a tone, made before the call so encoding never delays the sender's schedule.
std::vector<std::vector<uint8_t>> frames(CodecId codec, double freq, size_t count) {
  auto enc = codec::makeEncoder(codec, config::Opus{});
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < count; ++i) {
    auto pcm = test::tone(freq, codec::kFrameSamples, i * codec::kFrameSamples);
    std::vector<uint8_t> b(codec::kMaxEncodedBytes);
    b.resize(enc->encode(pcm, b));
    out.push_back(std::move(b));
  }
  return out;
}

// Calls send(0..count-1), the i-th at start + (i+1) * periodNs on CLOCK_MONOTONIC: a sender with its own absolute
// schedule, independent of every loop of the code under test (a relative sleep would drift).
void sendOnAbsoluteSchedule(size_t count, long periodNs, const std::function<void(size_t)>& send) {
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (size_t i = 0; i < count; ++i) {
    next.tv_nsec += periodNs;
    while (next.tv_nsec >= 1'000'000'000) {
      next.tv_nsec -= 1'000'000'000;
      ++next.tv_sec;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
    }
    send(i);
  }
}

class MediaSessionCall : public ::testing::TestWithParam<bool /*transcoded*/> {
protected:
  void SetUp() override {
    cfg_.ice.candidates.allowLoopback = true;
    cfg_.media.icePortMin = 0;
    cfg_.media.icePortMax = 0;
    ctx_.config = std::make_shared<const config::Config>(cfg_);
    ctx_.certificate = media::DtlsCertificate::generate();
    ctx_.metrics = &metrics_;
    ctx_.localAddressesOverride = {{"lo", "127.0.0.1", false, true}};
    uint16_t base = test::freePortRangeBase(100);
    ports_ = std::make_unique<media::RtpPortSlice>(base, static_cast<uint16_t>(base + 99));
    gateway_.start();
  }
  void TearDown() override {
    std::promise<void> closed;
    gateway_.loop().post([&] {
      session_.reset();
      closed.set_value();
    });
    closed.get_future().wait();
    gateway_.stop();
  }
  template <typename Fn>
  auto onGateway(Fn fn) -> decltype(fn()) {
    auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
    auto result = task->get_future();
    gateway_.loop().post([task] { (*task)(); });
    return result.get();
  }

  // The gateway's MediaSession offers (an inbound call) and the peer `browser` answers, as Chrome would; returns
  // once ICE and DTLS are up on both sides and the bridge runs (browserCodec/browserPt <-> PCMU toward `genesys`).
  void establish(UdpPeer& genesys, media::test::LegHarness& browser, CodecId browserCodec, uint8_t browserPt,
                 uint16_t* rtpPort) {
    onGateway([&] {
      MediaSession::Setup setup;
      setup.callId = "media-session-call";
      setup.browserRole = media::LegRole::Offerer;
      setup.context = ctx_;
      setup.ports = ports_.get();
      setup.rtp.localAddress = "127.0.0.1";
      setup.rtp.inactivityTimeout = 0ms;
      setup.rtp.rtcpInterval = rtcpInterval_;
      MediaSession::Events ev;
      ev.ready = [this](const sdp::TransportParams& local, const std::string&, uint16_t port) {
        readyPromise_.set_value({local, port});
      };
      ev.connected = [this] { connectedPromise_.set_value(); };
      ev.failed = [this](const std::string& r) {
        if (!ending_) ADD_FAILURE() << "media failed: " << r;
      };
      session_ = std::make_unique<MediaSession>(gateway_.loop(), setup, ev);
      std::string error;
      EXPECT_TRUE(session_->open(std::nullopt, &error)) << error;
    });
    auto readyFuture = readyPromise_.get_future();
    ASSERT_EQ(readyFuture.wait_for(10s), std::future_status::ready);
    auto [offer, port] = readyFuture.get();
    *rtpPort = port;

    browser.create(media::LegRole::Answerer, ctx_);
    browser.run([&] {
      std::string error;
      EXPECT_TRUE(browser.leg->setRemoteDescription(offer, &error)) << error;
      browser.leg->start();
    });
    ASSERT_TRUE(browser.waitFor([&] { return browser.local.has_value(); }, 10s));
    sdp::TransportParams answer;
    {
      std::lock_guard lock(browser.mutex());
      answer = *browser.local;
    }
    onGateway([&] {
      std::string error;
      EXPECT_TRUE(session_->setBrowserRemote(answer, &error)) << error;
      EXPECT_TRUE(session_->setUpstreamRemote("127.0.0.1", genesys.port(), genesysRtcpPort_ != 0 ? "127.0.0.1" : "",
                                              genesysRtcpPort_));
      codec::BridgeCodecs codecs{browserCodec, browserPt, CodecId::Pcmu, 0, std::nullopt, std::nullopt};
      session_->startBridge(codecs);
    });
    ASSERT_EQ(connectedPromise_.get_future().wait_for(15s), std::future_status::ready);
    ASSERT_TRUE(browser.waitFor([&] { return browser.connected; }, 15s));
  }

  config::Config cfg_;
  Metrics metrics_;
  media::MediaContext ctx_;
  std::unique_ptr<media::RtpPortSlice> ports_;
  LoopThread gateway_{"gateway-worker"};
  std::unique_ptr<MediaSession> session_;
  std::promise<std::pair<sdp::TransportParams, uint16_t>> readyPromise_;  // the session's events, once each
  std::promise<void> connectedPromise_;
  std::atomic<bool> ending_{false};
  std::chrono::milliseconds rtcpInterval_{5000};  // the Genesys leg's (RtpLegConfig); ctx_ has the browser legs'
  uint16_t genesysRtcpPort_ = 0;                  // a=rtcp of Genesys's SDP; 0: its RTP port + 1
};

TEST_P(MediaSessionCall, EveryFrameSentOnAnAbsoluteScheduleArrivesOnTheOtherLegWithAStableDelay) {
  const bool transcoded = GetParam();
  const CodecId browserCodec = transcoded ? CodecId::Opus : CodecId::Pcmu;
  const uint8_t browserPt = transcoded ? 111 : 0;
  // The flows outlive the peers whose callbacks write into them.
  Flow toGenesys, toBrowser;
  UdpPeer genesys;
  media::test::LegHarness browser("browser-peer");

  uint16_t rtpPort = 0;
  ASSERT_NO_FATAL_FAILURE(establish(genesys, browser, browserCodec, browserPt, &rtpPort));

  const size_t count = static_cast<size_t>(callSeconds()) * 50;
  auto browserFrames = frames(browserCodec, 440, count);
  auto genesysFrames = frames(CodecId::Pcmu, 1000, count);
  std::atomic<bool> stopReceiving{false};
  std::thread genesysReceiver([&] { genesys.receive(toGenesys, stopReceiving); });

  // The sender: its own absolute schedule, independent of every loop of the code under test.
  std::thread sender([&] {
    const uint32_t browserTicks = codec::rtpTicksPerFrame(browserCodec);
    sendOnAbsoluteSchedule(count, 20'000'000, [&](size_t i) {
      auto b = test::rtpPacket(browserPt, static_cast<uint16_t>(1000 + i), static_cast<uint32_t>(i) * browserTicks, 0xb0b,
                      browserFrames[i]);
      {
        std::lock_guard lock(toGenesys.mutex);
        toGenesys.sent.push_back(Clock::now());
      }
      browser.loop().post([&browser, b = std::move(b)] { browser.leg->sendRtp(b.data(), b.size()); });
      auto g = test::rtpPacket(0, static_cast<uint16_t>(7 + i), 90000 + static_cast<uint32_t>(i) * 160u, 0x6e5, genesysFrames[i]);
      {
        std::lock_guard lock(toBrowser.mutex);
        toBrowser.sent.push_back(Clock::now());
      }
      genesys.sendTo(rtpPort, g);
    });
  });
  sender.join();
  // What is still in flight arrives within a few frames; wait for the counts, bounded.
  browser.waitFor([&] { return browser.rtp.size() >= count; }, 2s);
  for (int i = 0; i < 50; ++i) {
    {
      std::lock_guard lock(toGenesys.mutex);
      if (toGenesys.received.size() >= count) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  stopReceiving = true;
  genesysReceiver.join();
  {
    std::lock_guard lock(browser.mutex());
    for (size_t i = 0; i < browser.rtp.size(); ++i) toBrowser.arrived(browser.rtp[i].data(), browser.rtp[i].size(), browser.rtpAt[i]);
  }

  auto stats = onGateway([&] { return session_->bridgeStats(); });
  ending_ = true;  // the peer's close_notify from here on is the test ending the call
  ASSERT_TRUE(stats.has_value());
  const auto up = analyse(toGenesys, 160);
  const auto down = analyse(toBrowser, codec::rtpTicksPerFrame(browserCodec));
  for (auto [name, f] : {std::pair{"browser->genesys", up}, std::pair{"genesys->browser", down}}) {
    std::cout << (transcoded ? "transcoded " : "passthrough ") << name << ": sent " << f.sent << " received "
              << f.received << " (" << f.received * 1000.0 / static_cast<double>(f.sent) / 10.0
              << " %), added delay median " << f.medianDelayMs << " ms, p99 " << f.p99DelayMs
              << " ms, first tenth " << f.firstTenthMs << " ms, last tenth " << f.lastTenthMs << " ms\n";
    RecordProperty(std::string(name) + "_received", static_cast<int>(f.received));
    // ±0.5 % of the frames (issue 9: transcoded calls lost 4-12 %).
    EXPECT_NEAR(static_cast<double>(f.received), static_cast<double>(f.sent), static_cast<double>(f.sent) * 0.005)
        << name;
    // A stable added delay: no growth over the call (a drifting playout clock fills its buffer to the cap), and
    // well under one frame on loopback, since nothing waits for a clock.
    EXPECT_LT(std::abs(f.lastTenthMs - f.firstTenthMs), 5.0) << name;
    EXPECT_LT(f.medianDelayMs, 20.0) << name;
  }
  for (const auto* d : {&stats->toUpstream, &stats->toBrowser}) {
    std::cout << "  bridge's own added delay: avg " << d->addedDelayUsAvg() << " us, max " << d->addedDelayUsMax
              << " us over " << d->packetsOut << " packets\n";
    EXPECT_EQ(d->packetsIn, d->packetsOut);
    EXPECT_EQ(d->late, 0u);
    EXPECT_EQ(d->gapFrames, 0u);
    EXPECT_EQ(d->concealed, 0u);
    EXPECT_EQ(d->restarts, 0u);
  }
}

// Issue 11, reliability-security.md 3.10 and 5 item 37 (ASVS 17.2.5): an authenticated browser sending 10x the
// normal packet rate, 500 SRTP packets/s (2 ms apart, on its own absolute schedule) where 20 ms ptime makes 50.
// media.packet_rate at its default (150/s, burst 150) passes the burst and 150/s to Genesys; the rest is dropped
// after SRTP authentication and before the bridge, and counted.
// One mode is enough (passthrough): the cap sits before the bridge in both.
using MediaSessionFlood = MediaSessionCall;
TEST_F(MediaSessionFlood, ABrowserFloodingTenTimesThePacketRateLosesTheExcessBeforeTheBridge) {
  Flow toGenesys;
  UdpPeer genesys;
  media::test::LegHarness browser("browser-peer");
  uint16_t rtpPort = 0;
  ASSERT_NO_FATAL_FAILURE(establish(genesys, browser, CodecId::Pcmu, 0, &rtpPort));
  std::atomic<bool> stopReceiving{false};
  std::thread genesysReceiver([&] { genesys.receive(toGenesys, stopReceiving); });
  constexpr size_t kFlood = 500;
  const std::vector<uint8_t> frame(160, 0xff);
  const auto start = Clock::now();
  std::thread sender([&] {
    sendOnAbsoluteSchedule(kFlood, 2'000'000, [&](size_t i) {
      auto b = test::rtpPacket(0, static_cast<uint16_t>(1000 + i), static_cast<uint32_t>(i) * 16u, 0xb0b, frame);
      browser.loop().post([&browser, b = std::move(b)] { browser.leg->sendRtp(b.data(), b.size()); });
    });
  });
  sender.join();
  const auto& limited = metrics_.counter("rtcgate_browser_rtp_rate_limited_total", "");
  auto forwarded = [&] {
    std::lock_guard lock(toGenesys.mutex);
    return toGenesys.received.size();
  };
  // Every packet is forwarded or dropped by the cap; bounded wait for the last ones in flight.
  for (int i = 0; i < 100 && forwarded() + limited.load() < kFlood; ++i) std::this_thread::sleep_for(20ms);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stopReceiving = true;
  genesysReceiver.join();
  ending_ = true;
  EXPECT_EQ(forwarded() + limited.load(), kFlood);
  EXPECT_GE(forwarded(), 150u);  // the burst
  EXPECT_LE(static_cast<double>(forwarded()), 150 + 150 * seconds + 1) << forwarded() << " in " << seconds << " s";
  EXPECT_GT(limited.load(), 0u);
  EXPECT_EQ(metrics_.counter("rtcgate_srtp_auth_failures_total", "").load(), 0u);  // authenticated, then capped
}

// Issue 13, RFC 3550 6.4.1 on both legs of one real MediaSession, read through the snapshot the admin API serialises
// (MediaSession::fillSnapshot). Genesys (a UDP socket for RTP and one for RTCP, named by a=rtcp) holds the gateway's
// SR 200 ms and answers with an RR about the gateway's SSRC (LSR of that SR, DLSR 0); the peer BrowserLeg answers
// the gateway's SRTCP SRs by itself. Both legs' rttMs are set, the Genesys one bracketed by the NTP clock the
// gateway uses, and each leg's MOS is estimateMos with its RTT. Report intervals shortened to 100 ms.
using MediaSessionRtt = MediaSessionCall;
TEST_F(MediaSessionRtt, BothLegsMeasureTheRoundTripTimeAndTheSnapshotCarriesIt) {
  rtcpInterval_ = 100ms;
  ctx_.rtcpInterval = 100ms;
  UdpPeer genesys, genesysRtcp;
  genesysRtcpPort_ = genesysRtcp.port();
  media::test::LegHarness browser("browser-peer");
  uint16_t rtpPort = 0;
  ASSERT_NO_FATAL_FAILURE(establish(genesys, browser, CodecId::Pcmu, 0, &rtpPort));
  // RTP both ways (passthrough), so the gateway sends on both legs and its next report on each is an SR.
  const std::vector<uint8_t> frame(160, 0xff);
  for (uint16_t i = 0; i < 5; ++i) {
    auto b = test::rtpPacket(0, static_cast<uint16_t>(1000 + i), i * 160u, 0xb0b, frame);
    browser.run([&] { return browser.leg->sendRtp(b.data(), b.size()); });
    genesys.sendTo(rtpPort, test::rtpPacket(0, static_cast<uint16_t>(2000 + i), i * 160u, 0x6e5, frame));
  }
  media::RtcpSummary sr;
  for (int i = 0; i < 50 && !sr.isSenderReport; ++i) {
    auto d = genesysRtcp.receiveOne(100ms);
    if (media::parseRtcp(std::span<const uint8_t>(d.data(), d.size()), sr) != media::RtpStatus::Ok) sr = {};
  }
  ASSERT_TRUE(sr.isSenderReport) << "no SR from the gateway's Genesys leg";
  std::this_thread::sleep_for(200ms);  // Genesys holds the report: the round trip the gateway must measure
  media::ReportBlock block;
  block.ssrc = sr.ssrc;
  block.lastSr = media::ntpMiddle(sr.sender.ntp);
  std::vector<uint8_t> rr(256);
  rr.resize(media::writeReceiverReport(0x6e5, &block, "genesys", rr));
  const uint32_t sentAt = media::ntpMiddle(media::ntpNow());
  genesysRtcp.sendTo(static_cast<uint16_t>(rtpPort + 1), rr);
  CallSnapshot snap;
  for (int i = 0; i < 150 && !(snap.upstream.rttMs && snap.browser.rttMs); ++i) {
    if (i > 0) std::this_thread::sleep_for(20ms);  // no change notification: polled, bounded
    snap = onGateway([&] {
      CallSnapshot s;
      session_->fillSnapshot(s);
      return s;
    });
  }
  const uint32_t seenAt = media::ntpMiddle(media::ntpNow());
  ending_ = true;
  ASSERT_TRUE(snap.upstream.rttMs.has_value());
  ASSERT_TRUE(snap.browser.rttMs.has_value());
  const double up = *snap.upstream.rttMs;
  EXPECT_GE(up, (sentAt - block.lastSr) * 1000.0 / 65536 - 0.02);
  EXPECT_LE(up, (seenAt - block.lastSr) * 1000.0 / 65536 + 0.02);
  EXPECT_GE(up, 200.0 - 0.02);
  EXPECT_GE(*snap.browser.rttMs, 0.0);
  EXPECT_LE(*snap.browser.rttMs, (seenAt - block.lastSr) * 1000.0 / 65536 + 0.02);  // within this test's time
  for (const LegSnapshot* leg : {&snap.upstream, &snap.browser})
    EXPECT_DOUBLE_EQ(leg->mos, media::estimateMos({leg->lossPercent / 100.0, leg->jitterMs, *leg->rttMs}));
  EXPECT_LT(snap.upstream.mos, media::estimateMos({snap.upstream.lossPercent / 100.0, snap.upstream.jitterMs, 0}));
  RecordProperty("genesys_rtt_ms", std::to_string(up));
  RecordProperty("browser_rtt_ms", std::to_string(*snap.browser.rttMs));
}

INSTANTIATE_TEST_SUITE_P(BothModes, MediaSessionCall, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Transcoded" : "Passthrough"; });

}  // namespace
}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
// Issue 14: no heap allocation on the packet path in steady state. Each test warms a path up with kWarmup packets
// (codec state, SRTP replay windows, GLib's poll arrays), then counts the allocations the next kMeasured packets
// cause on this thread (alloc_counter.h). rtcgate's own code allocates only through operator new: that count must
// be zero. malloc from C libraries (GLib in the RTP leg's loop iteration, libsrtp2/OpenSSL, libopus) is reported
// and asserted where it is stable. (d) also runs two BrowserLegs over ICE and DTLS-SRTP on loopback.
#include <gtest/gtest.h>

#include <glib.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "leg_harness.h"
#include "rtcgate/codec/media_bridge.h"
#include "rtcgate/media/browser_leg.h"
#include "rtcgate/media/rtp/rtp_leg.h"
#include "rtcgate/media/srtp_session.h"
#include "support/rtp_builder.h"
#include "support/sipp_process.h"
#include "support/tone.h"

namespace rtcgate {
namespace {

constexpr int kWarmup = 100;
constexpr int kMeasured = 500;

void report(const char* path, const test::AllocCounts& c) {
  std::printf("[alloc] %s: %d packets: operator new %llu, library malloc %llu, still live %lld\n", path, kMeasured,
              static_cast<unsigned long long>(c.operatorNew), static_cast<unsigned long long>(c.libraryMalloc()),
              static_cast<long long>(c.live));
}

// The header of the i-th 20 ms PCMU packet of a stream, written in place (no allocation).
void writePcmuHeader(std::span<uint8_t> buf, int i, uint32_t ssrc) {
  media::RtpHeader h;
  h.payloadType = 0;
  h.sequence = static_cast<uint16_t>(i);
  h.timestamp = static_cast<uint32_t>(i) * 160u;
  h.ssrc = ssrc;
  media::writeRtpHeader(h, buf);
}

#define REQUIRE_COUNTING()                                                                              \
  if (!test::allocCountingAvailable()) GTEST_SKIP() << "sanitizer build: malloc and operator new are the sanitizer's"

// Browser and Genesys packets of one call, prepared before anything is counted.
struct CallTraffic {
  std::vector<std::vector<uint8_t>> fromBrowser, fromUpstream;
  CallTraffic(const codec::BridgeCodecs& c, int count) {
    auto browserEnc = codec::makeEncoder(c.browserCodec, config::Opus{});
    auto upstreamEnc = codec::makeEncoder(c.upstreamCodec, config::Opus{});
    std::vector<uint8_t> payload(codec::kMaxEncodedBytes);
    const uint32_t browserTicks = codec::rtpTicksPerFrame(c.browserCodec);
    for (int i = 0; i < count; ++i) {
      auto pcm = test::tone(440, codec::kFrameSamples, static_cast<size_t>(i) * codec::kFrameSamples);
      size_t n = browserEnc->encode(pcm, payload);
      fromBrowser.push_back(test::rtpPacket(c.browserPt, static_cast<uint16_t>(i), static_cast<uint32_t>(i) * browserTicks,
                                            0xb0b0b0b0, std::span<const uint8_t>(payload.data(), n)));
      n = upstreamEnc->encode(pcm, payload);
      fromUpstream.push_back(test::rtpPacket(c.upstreamPt, static_cast<uint16_t>(i), static_cast<uint32_t>(i) * 160u,
                                             0x5e5e5e5e, std::span<const uint8_t>(payload.data(), n)));
    }
  }
};

// (a) MediaBridge both ways: browser → Genesys and Genesys → browser, one packet each per 20 ms frame.
test::AllocCounts bridgeAllocations(const codec::BridgeCodecs& c, const char* name) {
  EventLoop loop("media-worker");
  loop.adoptCurrentThread();
  uint64_t toBrowser = 0, toUpstream = 0;
  codec::MediaBridge::Sinks sinks;
  sinks.toBrowser = [&](uint8_t*, size_t, size_t) { ++toBrowser; };
  sinks.toUpstream = [&](const media::RtpHeader&, std::span<const uint8_t>) { ++toUpstream; };
  sinks.dtmfFromBrowser = [](char, uint16_t) {};
  sinks.dtmfFromUpstream = [](char, uint16_t) {};
  codec::MediaBridge bridge(loop, c, config::Opus{}, 0x11111111, 0x22222222, sinks);
  CallTraffic traffic(c, kWarmup + kMeasured);
  auto play = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const auto& b = traffic.fromBrowser[static_cast<size_t>(i)];
      bridge.fromBrowser(b.data(), b.size());
      const auto& u = traffic.fromUpstream[static_cast<size_t>(i)];
      bridge.fromUpstream(u.data(), u.size());
    }
  };
  play(0, kWarmup);
  test::AllocWindow window;
  play(kWarmup, kWarmup + kMeasured);
  auto counts = window.delta();
  report(name, counts);
  // The path really ran: every packet came out on the other side.
  EXPECT_EQ(toUpstream, static_cast<uint64_t>(kWarmup + kMeasured));
  EXPECT_EQ(toBrowser, static_cast<uint64_t>(kWarmup + kMeasured));
  auto s = bridge.stats();
  EXPECT_EQ(s.toUpstream.codecErrors + s.toBrowser.codecErrors + s.toUpstream.malformed + s.toBrowser.malformed, 0u);
  return counts;
}

TEST(PacketPathAllocTest, PassthroughPcmuBridgeAllocatesNothing) {
  REQUIRE_COUNTING();
  auto c = bridgeAllocations({codec::CodecId::Pcmu, 0, codec::CodecId::Pcmu, 0, std::nullopt, std::nullopt},
                             "bridge passthrough PCMU");
  EXPECT_EQ(c.operatorNew, 0u);
  EXPECT_EQ(c.libraryMalloc(), 0u);
}

TEST(PacketPathAllocTest, PassthroughPcmuToPcmaBridgeAllocatesNothing) {
  REQUIRE_COUNTING();
  auto c = bridgeAllocations({codec::CodecId::Pcmu, 0, codec::CodecId::Pcma, 8, std::nullopt, std::nullopt},
                             "bridge passthrough PCMU<->PCMA");
  EXPECT_EQ(c.operatorNew, 0u);
  EXPECT_EQ(c.malloc, 0u);
}

TEST(PacketPathAllocTest, OpusToPcmuTranscodingBridgeAllocatesNothing) {
  REQUIRE_COUNTING();
  auto c = bridgeAllocations({codec::CodecId::Opus, 111, codec::CodecId::Pcmu, 0, std::nullopt, std::nullopt},
                             "bridge Opus<->PCMU");
  EXPECT_EQ(c.operatorNew, 0u);
  EXPECT_EQ(c.libraryMalloc(), 0u);  // libopus encodes and decodes in its preallocated state
}

// (b) SRTP protect and unprotect in place, as the browser leg does (AES-CM and AEAD-GCM: different libsrtp paths).
test::AllocCounts srtpRoundTrips(media::SrtpProfile profile) {
  media::SrtpSession::initLibrary();
  const size_t keySalt = media::srtpKeyLength(profile) + media::srtpSaltLength(profile);
  std::vector<uint8_t> k1(keySalt), k2(keySalt);
  for (size_t i = 0; i < keySalt; ++i) {
    k1[i] = static_cast<uint8_t>(i + 1);
    k2[i] = static_cast<uint8_t>(0x80 + i);
  }
  media::SrtpSession gateway(profile, k1, k2), browser(profile, k2, k1);
  std::array<uint8_t, 172 + media::SrtpSession::kMaxOverhead> buf{};
  std::array<uint8_t, 160> payload{};
  uint64_t ok = 0;
  auto play = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      writePcmuHeader(buf, i, 0x5151);
      std::copy(payload.begin(), payload.end(), buf.begin() + 12);
      size_t len = 172;
      if (gateway.protectRtp(buf.data(), len, buf.size()) != media::SrtpStatus::Ok) continue;
      if (browser.unprotectRtp(buf.data(), len) == media::SrtpStatus::Ok && len == 172) ++ok;
    }
  };
  play(0, kWarmup);
  test::AllocWindow window;
  play(kWarmup, kWarmup + kMeasured);
  auto counts = window.delta();
  test::AllocWindow second;
  play(kWarmup + kMeasured, kWarmup + 2 * kMeasured);
  auto again = second.delta();
  std::printf("[alloc] libsrtp2: %s\n", media::srtpLibraryDescription().c_str());
  report(media::srtpProfileName(profile), counts);
  EXPECT_EQ(ok, static_cast<uint64_t>(kWarmup + 2 * kMeasured));
  EXPECT_EQ(counts.operatorNew + again.operatorNew, 0u);
  // What the crypto library allocates per packet it frees again within the call, the same number every packet.
  EXPECT_EQ(counts.live, 0);
  EXPECT_EQ(again.live, 0);
  EXPECT_EQ(again.malloc, counts.malloc);
  return counts;
}

TEST(PacketPathAllocTest, SrtpAesCmProtectUnprotectAllocatesNothingOfItsOwn) {
  REQUIRE_COUNTING();
  // OpenSSL 3's HMAC_Init_ex and HMAC_Final copy the SHA-1 context (EVP_MD_CTX_copy_ex, one 96-byte block each,
  // freed at once) under libsrtp2's hmac_ossl.c: 2 mallocs per protect and 2 per unprotect; Debian's NSS build
  // makes 14 each.
  auto c = srtpRoundTrips(media::SrtpProfile::AesCm128HmacSha1_80);
  EXPECT_EQ(c.libraryMalloc() % (2 * kMeasured), 0u) << "a whole number of mallocs per protect and per unprotect";
}

TEST(PacketPathAllocTest, SrtpAeadGcmProtectUnprotectAllocatesNothing) {
  REQUIRE_COUNTING();
  auto c = srtpRoundTrips(media::SrtpProfile::AeadAes256Gcm);
  // OpenSSL's GCM runs in the contexts libsrtp2 keeps per session; NSS creates a context per packet.
  if (media::srtpLibraryDescription().find("OpenSSL") != std::string::npos) {
    EXPECT_EQ(c.malloc, 0u);
  }
}

// (c) Two RTP legs over a real loopback socket pair: send, the GLib source firing, recvmmsg, parse, statistics,
// the packet callback. The loop is iterated directly: the iteration itself is part of the steady state. `burst`
// datagrams are sent before the loop runs: 1 is a call's steady state (one per wakeup); 20 queue up, so a wakeup
// takes several per receive call (the batch path, issue 14) and a burst ends with a partial batch.
struct RtpLegRun {
  test::AllocCounts counts;
  uint64_t received = 0, receiveCalls = 0;  // over the measured packets
};
RtpLegRun rtpLegAllocations(int burst, const char* name) {
  EventLoop loop("media-worker");
  loop.adoptCurrentThread();
  Metrics metrics;
  const uint16_t base = test::freePortRangeBase(20);
  media::RtpPortPool pool(base, static_cast<uint16_t>(base + 19), 2);
  media::RtpLegConfig cfg;
  cfg.inactivityTimeout = std::chrono::milliseconds(0);
  cfg.rtcpInterval = std::chrono::milliseconds(3600 * 1000);  // no RTCP inside the window: it is not per packet
  media::RtpLeg a(loop, pool.slice(0), cfg, metrics), b(loop, pool.slice(1), cfg, metrics);
  RtpLegRun run;
  if (!a.open() || !b.open() || !a.setRemote("127.0.0.1", b.localPort()) || !b.setRemote("127.0.0.1", a.localPort())) {
    ADD_FAILURE() << "RTP legs did not open";
    return run;
  }
  uint64_t got = 0;
  b.setOnPacket([&](const media::RtpHeader&, std::span<const uint8_t> p) { got += p.size() == 160 ? 1 : 0; });
  std::array<uint8_t, 160> payload{};
  bool stuck = false;
  auto play = [&](int from, int to) {
    for (int i = from; i < to && !stuck; i += burst) {
      for (int j = i; j < i + burst; ++j)
        if (a.send(0, static_cast<uint32_t>(j) * 160u, false, payload) != media::RtpStatus::Ok) stuck = true;
      // Bounded: a loopback datagram is readable at once; 1,000 blocking iterations would mean it was lost.
      int spins = 0;
      while (got < static_cast<uint64_t>(i + burst) && spins++ < 1000) g_main_context_iteration(loop.context(), TRUE);
      if (got < static_cast<uint64_t>(i + burst)) stuck = true;
    }
  };
  play(0, kWarmup);
  const uint64_t gotBefore = got, callsBefore = b.stats().rtpReceiveCalls;
  test::AllocWindow window;
  play(kWarmup, kWarmup + kMeasured);
  run.counts = window.delta();
  report(name, run.counts);
  EXPECT_FALSE(stuck);
  EXPECT_EQ(b.stats().packetsReceived, static_cast<uint64_t>(kWarmup + kMeasured));
  run.received = got - gotBefore;
  run.receiveCalls = b.stats().rtpReceiveCalls - callsBefore;
  return run;
}

TEST(PacketPathAllocTest, RtpLegSendAndReceiveOverLoopbackAllocatesNothing) {
  REQUIRE_COUNTING();
  auto run = rtpLegAllocations(1, "RTP leg send+receive (loopback)");
  EXPECT_EQ(run.received, static_cast<uint64_t>(kMeasured));
  EXPECT_EQ(run.counts.operatorNew, 0u);
  EXPECT_EQ(run.counts.libraryMalloc(), 0u);  // GLib keeps its poll array across iterations
}

TEST(PacketPathAllocTest, RtpLegBatchReceiveOfQueuedBurstsAllocatesNothing) {
  REQUIRE_COUNTING();
  constexpr int kBurst = 20;
  auto run = rtpLegAllocations(kBurst, "RTP leg batch receive, bursts of 20 (loopback)");
  EXPECT_EQ(run.received, static_cast<uint64_t>(kMeasured));
  // The batch path really ran: 25 bursts of 20 took about two receive calls each (16 + 4), not 21.
  EXPECT_LE(run.receiveCalls, static_cast<uint64_t>(kMeasured / kBurst * 3));
  EXPECT_EQ(run.counts.operatorNew, 0u);
  EXPECT_EQ(run.counts.libraryMalloc(), 0u);  // DatagramBatch is per-thread storage, not the heap
}

// (d) The browser leg between two real BrowserLegs on their own media threads over loopback (ICE, DTLS-SRTP with
// the default profile): sendRtpInPlace (SRTP protect, nice_agent_send) counted on the sender's thread, and the
// receive path (libnice's socket source, demux, SRTP unprotect, RTP parse, statistics, the rtp callback) counted on
// the receiver's thread from inside the callback, between its kWarmup-th and (kWarmup + kMeasured)-th packet.
TEST(PacketPathAllocTest, BrowserLegSendAndReceiveOverIceAndSrtpAllocateNothingOfTheirOwn) {
  REQUIRE_COUNTING();
  media::SrtpSession::initLibrary();
  Metrics metrics;
  media::test::LegHarness sender{"media-A"}, receiver{"media-B"};
  std::mutex m;
  std::condition_variable cv;
  std::atomic<int> received{0};
  test::AllocCounts rx{};
  std::optional<test::AllocWindow> rxWindow;
  receiver.rtpHook = [&](const media::RtpHeader&, const uint8_t*, size_t n) {
    if (n != 172) return;
    const int count = received.load(std::memory_order_relaxed) + 1;
    if (count == kWarmup) rxWindow.emplace();
    if (count == kWarmup + kMeasured) rx = rxWindow->delta();
    {
      std::lock_guard lock(m);
      received.store(count, std::memory_order_relaxed);
    }
    cv.notify_all();
  };
  config::Config cfg;
  cfg.ice.candidates.allowLoopback = true;
  cfg.media.icePortMin = 0;
  cfg.media.icePortMax = 0;
  cfg.media.packetRate = Rate{};  // no cap: the packets come faster than 50/s here
  auto context = [&] {
    media::MediaContext ctx;
    ctx.config = std::make_shared<const config::Config>(cfg);
    ctx.certificate = media::DtlsCertificate::generate();
    ctx.metrics = &metrics;
    ctx.localAddressesOverride = {{"lo", "127.0.0.1", false, true}};
    ctx.rtcpInterval = std::chrono::milliseconds(3600 * 1000);  // no RTCP report inside the window (not per packet)
    return ctx;
  };
  sender.create(media::LegRole::Offerer, context());
  receiver.create(media::LegRole::Answerer, context());
  sdp::TransportParams offer, answer;
  media::test::negotiateLegs(sender, receiver, offer, answer);
  ASSERT_TRUE(sender.waitFor([&] { return sender.connected; }) && receiver.waitFor([&] { return receiver.connected; }));

  std::array<uint8_t, 172 + media::SrtpSession::kMaxOverhead> buf{};
  int sent = 0;
  test::AllocCounts tx{};
  bool sendFailed = false;
  // Bursts of 20, each awaited, so the receiver's socket buffer never overflows. Only the sends are counted on
  // this side: between bursts the loop runs the test's own posted tasks.
  constexpr int kTotal = kWarmup + kMeasured;
  while (sent < kTotal && !sendFailed) {
    sender.run([&] {
      std::optional<test::AllocWindow> burst;
      if (sent >= kWarmup) burst.emplace();
      for (int i = 0; i < 20 && sent < kTotal; ++i, ++sent) {
        writePcmuHeader(buf, sent, 0xa11c);
        if (sender.leg->sendRtpInPlace(buf.data(), 172, buf.size()) != media::SendStatus::Ok) sendFailed = true;
      }
      if (burst) {
        auto d = burst->delta();
        tx.operatorNew += d.operatorNew;
        tx.malloc += d.malloc;
        tx.live += d.live;
      }
    });
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return received.load() >= sent; })) break;
  }
  ASSERT_FALSE(sendFailed);
  ASSERT_EQ(received.load(), kTotal);
  report("browser leg send (SRTP protect + nice_agent_send)", tx);
  report("browser leg receive (libnice + demux + SRTP unprotect)", rx);
  EXPECT_EQ(tx.operatorNew, 0u);
  EXPECT_EQ(rx.operatorNew, 0u);
}

// The media worker's wake-ups for posted tasks (session → worker control, stats queries): EventLoop::drain used to
// build a std::deque per wake-up (its map and one node: 2 allocations); the batch is now a member that keeps its
// capacity. A task small enough for std::function's local storage is posted and run kMeasured times.
TEST(PacketPathAllocTest, WorkerLoopPostAndDrainAllocateNothing) {
  REQUIRE_COUNTING();
  EventLoop loop("media-worker");
  loop.adoptCurrentThread();
  int ran = 0;
  auto play = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(loop.post([&ran] { ++ran; }));
      int spins = 0;
      while (ran < i + 1 && spins++ < 100) g_main_context_iteration(loop.context(), FALSE);
    }
  };
  play(0, kWarmup);
  test::AllocWindow window;
  play(kWarmup, kWarmup + kMeasured);
  auto counts = window.delta();
  report("worker loop post + drain", counts);
  EXPECT_EQ(ran, kWarmup + kMeasured);
  EXPECT_EQ(counts.operatorNew, 0u);
  EXPECT_EQ(counts.malloc, 0u);
}

}  // namespace
}  // namespace rtcgate

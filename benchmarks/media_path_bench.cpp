// SPDX-License-Identifier: Apache-2.0
// CPU per call-second of the media path. One iteration = one second of one call in both directions
// (50 packets each way, 20 ms frames):
//   transcoded:  browser Opus --SRTP unprotect--> Opus decode --> PCMU encode --> Genesys
//                Genesys PCMU --> PCMU decode --> Opus encode --> SRTP protect --> browser
//                (packet-driven, as MediaBridge runs it: docs/adr/0005-packet-driven-transcoding.md)
//   passthrough: the same with PCMU on both legs, forwarded without decoding (header rewrite only).
// Socket I/O is not included (see the architecture sketch: ~3.6 µs per packet send+recv).
#include <benchmark/benchmark.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rtcgate/codec/output_sequencer.h"
#include "rtcgate/media/rtp/rtp_packet.h"
#include "rtcgate/codec/transcode_stream.h"

namespace {

using namespace rtcgate::codec;

constexpr int kPacketsPerSecond = 50;
constexpr size_t kRtpHeader = 12;

void writeHeader(std::span<uint8_t> out, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  rtcgate::media::RtpHeader h;
  h.payloadType = pt;
  h.sequence = seq;
  h.timestamp = ts;
  h.ssrc = ssrc;
  rtcgate::media::writeRtpHeader(h, out);
}

struct Srtp {
  srtp_t session = nullptr;
  explicit Srtp(bool inbound) {
    static const bool once = [] { return srtp_init() == srtp_err_status_ok; }();
    (void)once;
    static uint8_t key[SRTP_MAX_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                            17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
    srtp_policy_t policy{};
    srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, srtp_profile_aes128_cm_sha1_80);
    srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, srtp_profile_aes128_cm_sha1_80);
    policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy.key = key;
    policy.window_size = 1024;
    srtp_create(&session, &policy);
  }
  ~Srtp() { srtp_dealloc(session); }
};

// Browser-side Opus packets, SRTP-protected in advance so the timed loop only pays for the gateway's unprotect.
struct BrowserTraffic {
  static constexpr int kPackets = 50 * 20;  // 20 call-seconds, then the receiver is renewed (replay window)
  std::vector<std::vector<uint8_t>> packets;
  explicit BrowserTraffic(CodecId codec) {
    Srtp browser(false);
    auto enc = makeEncoder(codec, rtcgate::config::Opus{});
    for (int i = 0; i < kPackets; ++i) {
      std::vector<uint8_t> pkt(kRtpHeader + kMaxEncodedBytes + SRTP_MAX_TRAILER_LEN);
      std::array<int16_t, kFrameSamples> pcm{};
      for (size_t s = 0; s < kFrameSamples; ++s)
        pcm[s] = static_cast<int16_t>(8000 * __builtin_sin(2 * 3.14159265 * 440 * (i * 160.0 + s) / 8000));
      size_t n = enc->encode(pcm, std::span<uint8_t>(pkt.data() + kRtpHeader, kMaxEncodedBytes));
      writeHeader(pkt, codec == CodecId::Opus ? 111 : 0, static_cast<uint16_t>(i),
                     static_cast<uint32_t>(i) * rtpTicksPerFrame(codec), 0xb0b0b0b0);
      int len = static_cast<int>(kRtpHeader + n);
      srtp_protect(browser.session, pkt.data(), &len);
      pkt.resize(static_cast<size_t>(len));
      packets.push_back(std::move(pkt));
    }
  }
};

// The gateway's SRTP receiver for browser packets; renewed (outside the timing) when the prepared packets repeat,
// since replay protection would refuse them.
struct GatewayInbound {
  BrowserTraffic traffic;
  std::unique_ptr<Srtp> srtp = std::make_unique<Srtp>(true);
  std::vector<uint8_t> work = std::vector<uint8_t>(2048);
  int idx = 0;
  explicit GatewayInbound(CodecId codec) : traffic(codec) {}
  // Unprotects the next browser packet into `work`; returns its length.
  size_t next(benchmark::State& state) {
    if (idx == BrowserTraffic::kPackets) {
      state.PauseTiming();
      srtp = std::make_unique<Srtp>(true);
      idx = 0;
      state.ResumeTiming();
    }
    auto& in = traffic.packets[static_cast<size_t>(idx++)];
    std::memcpy(work.data(), in.data(), in.size());
    int len = static_cast<int>(in.size());
    if (srtp_unprotect(srtp->session, work.data(), &len) != srtp_err_status_ok) state.SkipWithError("unprotect");
    return static_cast<size_t>(len);
  }
};

void BM_TranscodedCallSecond(benchmark::State& state) {
  rtcgate::config::Opus opus;
  opus.complexity = static_cast<int>(state.range(0));
  GatewayInbound browser(CodecId::Opus);
  std::array<uint8_t, kRtpHeader + kMaxEncodedBytes + SRTP_MAX_TRAILER_LEN> buf{};
  OutputSequencer outGenesys(1, 0, 0), outBrowser(2, 0, 0);
  Srtp gwOutbound(false);
  const std::span<uint8_t> payloadArea(buf.data() + kRtpHeader, kMaxEncodedBytes);
  // Packet-driven, as MediaBridge runs it: each push encodes and emits the frame in place behind the header.
  TranscodeStream toGenesys(
      CodecId::Opus, CodecId::Pcmu, opus,
      [&](uint32_t pos, std::span<const uint8_t> p, bool) {
        auto h = outGenesys.forwarded(7, pos, 160, false);
        writeHeader(buf, 0, h.seq, h.timestamp, h.ssrc);
        benchmark::DoNotOptimize(p.size());
      },
      payloadArea);
  TranscodeStream toBrowser(
      CodecId::Pcmu, CodecId::Opus, opus,
      [&](uint32_t pos, std::span<const uint8_t> p, bool) {
        auto h = outBrowser.forwarded(9, pos * 6, 960, false);
        writeHeader(buf, 111, h.seq, h.timestamp, h.ssrc);
        int outLen = static_cast<int>(kRtpHeader + p.size());
        srtp_protect(gwOutbound.session, buf.data(), &outLen);
        benchmark::DoNotOptimize(outLen);
      },
      payloadArea);
  auto genesysEnc = makeEncoder(CodecId::Pcmu, opus);
  std::array<int16_t, kFrameSamples> tone{};
  for (size_t s = 0; s < kFrameSamples; ++s) tone[s] = static_cast<int16_t>(8000 * __builtin_sin(2 * 3.14159265 * 1000 * s / 8000.0));
  std::array<uint8_t, kFrameSamples> genesysPayload{};
  genesysEnc->encode(tone, genesysPayload);
  uint16_t seq = 0;
  for (auto _ : state) {
    for (int p = 0; p < kPacketsPerSecond; ++p, ++seq) {
      // Browser → Genesys.
      size_t len = browser.next(state);
      auto& work = browser.work;
      uint16_t inSeq = static_cast<uint16_t>(work[2] << 8 | work[3]);
      uint32_t inTs = rtcgate::media::load32(work.data() + 4);
      toGenesys.push(1, inSeq, inTs, std::span<const uint8_t>(work.data() + kRtpHeader, len - kRtpHeader));
      // Genesys → browser.
      toBrowser.push(2, seq, seq * 160u, genesysPayload);
    }
  }
  state.counters["calls_per_core"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel("opus complexity " + std::to_string(opus.complexity) + ", AES_CM_128_HMAC_SHA1_80");
}
BENCHMARK(BM_TranscodedCallSecond)->Arg(1)->Arg(5)->Arg(10)->Unit(benchmark::kMillisecond);

void BM_PassthroughCallSecond(benchmark::State& state) {
  GatewayInbound browser(CodecId::Pcmu);
  OutputSequencer outGenesys(1, 0, 0), outBrowser(2, 0, 0);
  Srtp gwOutbound(false);
  std::array<uint8_t, kRtpHeader + kFrameSamples + SRTP_MAX_TRAILER_LEN> buf{};
  uint32_t genesysTs = 0;
  for (auto _ : state) {
    for (int p = 0; p < kPacketsPerSecond; ++p, genesysTs += 160) {
      browser.next(state);
      auto& work = browser.work;
      uint32_t ts = static_cast<uint32_t>(work[4] << 24 | work[5] << 16 | work[6] << 8 | work[7]);
      auto h1 = outGenesys.forwarded(0xb0b0b0b0, ts, 160, false);
      writeHeader(work, 0, h1.seq, h1.timestamp, h1.ssrc);
      benchmark::DoNotOptimize(work.data());
      // Genesys → browser: header rewrite + protect.
      auto h2 = outBrowser.forwarded(0x5151, genesysTs, 160, false);
      writeHeader(buf, 0, h2.seq, h2.timestamp, h2.ssrc);
      int outLen = static_cast<int>(kRtpHeader + kFrameSamples);
      srtp_protect(gwOutbound.session, buf.data(), &outLen);
      benchmark::DoNotOptimize(outLen);
    }
  }
  state.counters["calls_per_core"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel("PCMU both legs, AES_CM_128_HMAC_SHA1_80");
}
BENCHMARK(BM_PassthroughCallSecond)->Unit(benchmark::kMicrosecond);

// SRTP protect cost as the number of live sessions grows: N outbound contexts exist (one per call), each
// iteration protects one call-second (50 PCMU packets) on the next of them, round robin. Debian's libsrtp2 (NSS)
// grows with N; the OpenSSL build stays flat (docs/adr/0008-libsrtp2-with-openssl.md).
void BM_SrtpProtectCallSecondWithLiveSessions(benchmark::State& state) {
  const auto live = static_cast<size_t>(state.range(0));
  std::vector<std::unique_ptr<Srtp>> sessions;
  sessions.reserve(live);
  for (size_t i = 0; i < live; ++i) sessions.push_back(std::make_unique<Srtp>(false));
  std::array<uint8_t, kRtpHeader + kFrameSamples + SRTP_MAX_TRAILER_LEN> buf{};
  std::vector<uint16_t> seq(live, 0);
  size_t next = 0;
  for (auto _ : state) {
    for (int p = 0; p < kPacketsPerSecond; ++p) {
      writeHeader(buf, 0, seq[next]++, static_cast<uint32_t>(p * 160), static_cast<uint32_t>(0x1000 + next));
      int len = static_cast<int>(kRtpHeader + kFrameSamples);
      srtp_protect(sessions[next]->session, buf.data(), &len);
      benchmark::DoNotOptimize(len);
    }
    next = next + 1 == live ? 0 : next + 1;
  }
  state.SetLabel(std::to_string(live) + " live sessions, AES_CM_128_HMAC_SHA1_80");
}
BENCHMARK(BM_SrtpProtectCallSecondWithLiveSessions)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->Arg(2000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

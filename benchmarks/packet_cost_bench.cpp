// SPDX-License-Identifier: Apache-2.0
// Where the gateway's time per packet goes, with real sockets (issue 14, docs/adr/0010-batch-socket-io.md).
// N calls through the real pipeline: per call one MediaSession (RtpLeg on a UDP port pair, BrowserLeg with
// libnice + DTLS-SRTP, MediaBridge) on ONE gateway worker thread, as a media worker of the daemon runs them,
// between peers on other threads: a BrowserLeg per call playing the browser (ICE + DTLS-SRTP, one "browser-peers"
// loop) and a plain UDP socket per call playing Genesys. A sender thread keeps its own absolute 20 ms schedule
// (clock_nanosleep TIMER_ABSTIME), the calls spread evenly over the 20 ms, so the gateway sees what N live calls
// send, not bursts.
//
// Prints one line of figures: packets per direction, loss, and the gateway thread's CPU (getrusage RUSAGE_THREAD:
// user and system time) per packet, over a window with nothing attached. Then, with --tid-file, the gateway
// thread's id is written there and the calls go on for --perf-seconds, so that scripts/packet_cost.sh can attach
// `perf stat` (syscalls) and `perf record` (where the time goes) to that thread only. Not a ctest test: figures go to build/bench/packet_cost.txt through the script.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rtcgate/codec/audio_codec.h"
#include "rtcgate/core/log.h"
#include "rtcgate/media/srtp_session.h"
#include "rtcgate/media/rtp/rtp_port_pool.h"
#include "rtcgate/session/media_session.h"

namespace {

using namespace rtcgate;
using namespace std::chrono_literals;
using codec::CodecId;

struct Options {
  int calls = 50;
  int warmupSeconds = 3;
  int seconds = 10;
  bool transcoded = false;
  bool fromBrowser = true;   // the browser peers send
  bool fromGenesys = true;   // the Genesys peers send
  uint16_t rtpBase = 41000;  // the gateway's RTP range: rtpBase .. rtpBase + 10 * calls + 99 (ports in use skipped)
  std::string tidFile;
  int perfSeconds = 0;  // after the measured window: run on this long with the gateway thread's id in tidFile
};

void usage() {
  std::fprintf(stderr,
               "usage: rtcgate_packet_cost [--calls N] [--seconds S] [--warmup S] [--transcoded] "
               "[--only to-genesys|to-browser] [--rtp-base PORT] [--tid-file PATH --perf-seconds S]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--calls") o.calls = std::atoi(value().c_str());
    else if (a == "--seconds") o.seconds = std::atoi(value().c_str());
    else if (a == "--warmup") o.warmupSeconds = std::atoi(value().c_str());
    else if (a == "--transcoded") o.transcoded = true;
    else if (a == "--rtp-base") o.rtpBase = static_cast<uint16_t>(std::atoi(value().c_str()));
    else if (a == "--tid-file") o.tidFile = value();
    else if (a == "--perf-seconds") o.perfSeconds = std::atoi(value().c_str());
    else if (a == "--only") {
      auto v = value();
      o.fromBrowser = v == "to-genesys";
      o.fromGenesys = v == "to-browser";
      if (!o.fromBrowser && !o.fromGenesys) usage();
    } else usage();
  }
  if (o.calls < 1 || o.calls > 2000 || o.seconds < 1 || o.warmupSeconds < 0) usage();
  return o;
}

struct ThreadCpu {
  double userUs = 0, systemUs = 0;
};

ThreadCpu threadCpu() {
  rusage r{};
  getrusage(RUSAGE_THREAD, &r);
  return {r.ru_utime.tv_sec * 1e6 + r.ru_utime.tv_usec, r.ru_stime.tv_sec * 1e6 + r.ru_stime.tv_usec};
}

template <typename Fn>
auto onLoop(EventLoop& loop, Fn fn) -> decltype(fn()) {
  auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
  auto result = task->get_future();
  loop.post([task] { (*task)(); });
  return result.get();
}

// Polls pred every 10 ms, at most `limit`.
bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

struct Call {
  std::unique_ptr<session::MediaSession> session;  // gateway thread
  std::unique_ptr<media::BrowserLeg> browser;      // browser-peers thread
  int genesysFd = -1;                              // the Genesys peer's socket
  uint16_t genesysPort = 0, gatewayRtpPort = 0;
  std::optional<sdp::TransportParams> gatewayOffer, browserAnswer;
  std::atomic<bool> ready{false}, answered{false}, gatewayConnected{false}, browserConnected{false};
  std::atomic<uint64_t> toBrowser{0}, toGenesys{0};  // packets that came out of the gateway
  std::atomic<bool> failed{false};
};

int udpSocket(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

std::vector<std::vector<uint8_t>> frames(CodecId codec, double freq) {
  auto enc = codec::makeEncoder(codec, config::Opus{});
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < 50; ++i) {
    std::array<int16_t, codec::kFrameSamples> pcm{};
    for (size_t s = 0; s < pcm.size(); ++s)
      pcm[s] = static_cast<int16_t>(8000 * __builtin_sin(2 * 3.14159265 * freq * static_cast<double>(i * pcm.size() + s) / 8000));
    std::vector<uint8_t> b(codec::kMaxEncodedBytes);
    b.resize(enc->encode(pcm, b));
    out.push_back(std::move(b));
  }
  return out;
}

void writeHeader(uint8_t* p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  p[0] = 0x80;
  p[1] = pt;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const auto n = static_cast<size_t>(opt.calls);
  const CodecId browserCodec = opt.transcoded ? CodecId::Opus : CodecId::Pcmu;
  const uint8_t browserPt = opt.transcoded ? 111 : 0;

  log::Settings quiet;
  quiet.level = spdlog::level::warn;  // a line per DTLS handshake would be most of the set-up's output
  log::init(quiet);
  media::SrtpSession::initLibrary();
  config::Config cfg;
  cfg.ice.candidates.allowLoopback = true;
  cfg.media.icePortMin = 0;
  cfg.media.icePortMax = 0;
  Metrics metrics;
  media::MediaContext ctx;
  ctx.config = std::make_shared<const config::Config>(cfg);
  ctx.certificate = media::DtlsCertificate::generate();
  ctx.metrics = &metrics;
  ctx.localAddressesOverride = {{"lo", "127.0.0.1", false, true}};
  media::RtpPortSlice ports(opt.rtpBase, static_cast<uint16_t>(opt.rtpBase + 10 * n + 99));

  LoopThread gateway("gateway-worker"), browsers("browser-peers");
  gateway.start();
  browsers.start();
  std::vector<std::unique_ptr<Call>> calls;
  for (size_t i = 0; i < n; ++i) {
    auto c = std::make_unique<Call>();
    c->genesysFd = udpSocket(&c->genesysPort);
    if (c->genesysFd < 0) {
      std::fprintf(stderr, "cannot bind a Genesys peer socket\n");
      return 1;
    }
    calls.push_back(std::move(c));
  }

  // Set-up, as the session layer does it: the gateway offers (an inbound call), the browser peer answers.
  for (auto& cp : calls) {
    Call* c = cp.get();
    onLoop(gateway.loop(), [&, c] {
      session::MediaSession::Setup setup;
      setup.callId = "bench";
      setup.browserRole = media::LegRole::Offerer;
      setup.context = ctx;
      setup.ports = &ports;
      setup.rtp.localAddress = "127.0.0.1";
      setup.rtp.inactivityTimeout = 0ms;
      session::MediaSession::Events ev;
      ev.ready = [c](const sdp::TransportParams& local, const std::string&, uint16_t port) {
        c->gatewayOffer = local;
        c->gatewayRtpPort = port;
        c->ready = true;
      };
      ev.connected = [c] { c->gatewayConnected = true; };
      ev.failed = [c](const std::string&) { c->failed = true; };
      c->session = std::make_unique<session::MediaSession>(gateway.loop(), setup, ev);
      std::string error;
      if (!c->session->open(std::nullopt, &error)) c->failed = true;
    });
  }
  // Each object is destroyed on the thread it lives on (MediaSession and BrowserLeg assert their loop).
  auto teardown = [&] {
    for (auto& cp : calls) {
      Call* c = cp.get();
      onLoop(browsers.loop(), [c] {
        if (c->browser) c->browser->close();
        c->browser.reset();
      });
      onLoop(gateway.loop(), [c] { c->session.reset(); });
      ::close(c->genesysFd);
    }
    browsers.stop();
    gateway.stop();
  };
  auto fail = [&](const char* why) {
    std::fprintf(stderr, "%s\n", why);
    teardown();
    return 1;
  };
  auto all = [&](auto pred) {
    for (auto& c : calls)
      if (!pred(*c)) return false;
    return true;
  };
  auto anyFailed = [&] { return !all([](Call& c) { return !c.failed.load(); }); };
  if (!waitUntil([&] { return all([](Call& c) { return c.ready.load(); }) || anyFailed(); }, 60s) || anyFailed()) {
    return fail("gateway legs not ready (no free RTP port pair? see --rtp-base)");
  }
  for (auto& cp : calls) {
    Call* c = cp.get();
    onLoop(browsers.loop(), [&, c] {
      media::BrowserLeg::Callbacks cb;
      cb.localDescription = [c](const sdp::TransportParams& t) {
        c->browserAnswer = t;
        c->answered = true;
      };
      cb.connected = [c] { c->browserConnected = true; };
      cb.failed = [c](const std::string&) { c->failed = true; };
      cb.rtp = [c](const media::RtpHeader&, const uint8_t*, size_t) { c->toBrowser.fetch_add(1, std::memory_order_relaxed); };
      c->browser = std::make_unique<media::BrowserLeg>(browsers.loop(), "bench-peer", media::LegRole::Answerer, ctx, cb);
      std::string error;
      if (!c->browser->setRemoteDescription(*c->gatewayOffer, &error)) c->failed = true;
      c->browser->start();
    });
  }
  if (!waitUntil([&] { return all([](Call& c) { return c.answered.load(); }) || anyFailed(); }, 60s) || anyFailed()) {
    return fail("browser peers did not answer");
  }
  const codec::BridgeCodecs codecs{browserCodec, browserPt, CodecId::Pcmu, 0, std::nullopt, std::nullopt};
  for (auto& cp : calls) {
    Call* c = cp.get();
    onLoop(gateway.loop(), [&, c] {
      std::string error;
      if (!c->session->setBrowserRemote(*c->browserAnswer, &error) ||
          !c->session->setUpstreamRemote("127.0.0.1", c->genesysPort))
        c->failed = true;
      c->session->startBridge(codecs);
    });
  }
  if (!waitUntil([&] { return all([](Call& c) { return c.gatewayConnected && c.browserConnected; }) || anyFailed(); },
                 120s) ||
      anyFailed()) {
    return fail("calls did not connect");
  }

  // The Genesys peers' receiver: one epoll over all their sockets.
  std::atomic<bool> stop{false};
  std::thread genesysReceiver([&] {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < n; ++i) {
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.u64 = i;
      epoll_ctl(ep, EPOLL_CTL_ADD, calls[i]->genesysFd, &e);
    }
    std::vector<epoll_event> events(64);
    uint8_t buf[2048];
    while (!stop.load()) {
      int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
      for (int j = 0; j < k; ++j) {
        Call& c = *calls[events[static_cast<size_t>(j)].data.u64];
        for (int reads = 0; reads < 64 && ::recv(c.genesysFd, buf, sizeof buf, 0) > 0; ++reads)
          c.toGenesys.fetch_add(1, std::memory_order_relaxed);
      }
    }
    ::close(ep);
  });

  // The sender: frame f of call i at start + f * 20 ms + i * 20 ms / N, on CLOCK_MONOTONIC.
  const auto browserFrames = frames(browserCodec, 440);
  const auto genesysFrames = frames(CodecId::Pcmu, 1000);
  std::atomic<uint64_t> sentToGenesysSide{0}, sentToBrowserSide{0};  // what the peers handed to the gateway
  std::thread sender([&] {
    timespec start{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    const long slotNs = 20'000'000 / static_cast<long>(n);
    const uint32_t browserTicks = codec::rtpTicksPerFrame(browserCodec);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::array<uint8_t, 12 + codec::kFrameSamples> g{};
    for (uint64_t slot = 0; !stop.load(); ++slot) {
      const uint64_t frame = slot / n;
      const size_t i = slot % n;
      const uint64_t at = static_cast<uint64_t>(start.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(start.tv_nsec) +
                          frame * 20'000'000ull + i * static_cast<uint64_t>(slotNs);
      timespec next{static_cast<time_t>(at / 1'000'000'000ull), static_cast<long>(at % 1'000'000'000ull)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
      }
      Call* c = calls[i].get();
      if (opt.fromGenesys) {
        writeHeader(g.data(), 0, static_cast<uint16_t>(frame), static_cast<uint32_t>(frame * 160), 0x6e5);
        const auto& p = genesysFrames[frame % 50];
        std::memcpy(g.data() + 12, p.data(), p.size());
        to.sin_port = htons(c->gatewayRtpPort);
        if (::sendto(c->genesysFd, g.data(), 12 + p.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0)
          sentToBrowserSide.fetch_add(1, std::memory_order_relaxed);
      }
      if (opt.fromBrowser) {
        browsers.loop().post([c, frame, &browserFrames, browserPt, browserTicks, &sentToGenesysSide] {
          std::array<uint8_t, 12 + codec::kMaxEncodedBytes> b{};
          writeHeader(b.data(), browserPt, static_cast<uint16_t>(frame), static_cast<uint32_t>(frame) * browserTicks, 0xb0b);
          const auto& p = browserFrames[frame % 50];
          std::memcpy(b.data() + 12, p.data(), p.size());
          if (c->browser->sendRtp(b.data(), 12 + p.size()) == media::SendStatus::Ok)
            sentToGenesysSide.fetch_add(1, std::memory_order_relaxed);
        });
      }
    }
  });

  std::this_thread::sleep_for(std::chrono::seconds(opt.warmupSeconds));
  struct Sample {
    ThreadCpu gateway, peers;
    uint64_t sentUp, sentDown, gotUp, gotDown;
    std::chrono::steady_clock::time_point at;
  };
  auto sample = [&] {
    Sample s{};
    s.gateway = onLoop(gateway.loop(), [] { return threadCpu(); });
    s.peers = onLoop(browsers.loop(), [] { return threadCpu(); });
    s.sentUp = sentToGenesysSide.load();
    s.sentDown = sentToBrowserSide.load();
    s.gotUp = s.gotDown = 0;
    for (auto& c : calls) {
      s.gotUp += c->toGenesys.load();
      s.gotDown += c->toBrowser.load();
    }
    s.at = std::chrono::steady_clock::now();
    return s;
  };
  const pid_t gatewayTid = onLoop(gateway.loop(), [] { return static_cast<pid_t>(::syscall(SYS_gettid)); });
  const Sample a = sample();
  std::this_thread::sleep_for(std::chrono::seconds(opt.seconds));
  const Sample b = sample();
  // The CPU figures above were taken with nothing attached; perf's tracepoints and sampling would inflate them.
  if (!opt.tidFile.empty()) {
    std::ofstream(opt.tidFile) << gatewayTid << "\n";
    std::this_thread::sleep_for(std::chrono::seconds(opt.perfSeconds));
  }
  stop = true;
  sender.join();
  std::this_thread::sleep_for(200ms);  // what is in flight arrives (loss is counted over the whole run below)
  genesysReceiver.join();
  uint64_t sentUp = sentToGenesysSide.load(), sentDown = sentToBrowserSide.load(), gotUp = 0, gotDown = 0;
  for (auto& c : calls) {
    gotUp += c->toGenesys.load();
    gotDown += c->toBrowser.load();
  }

  const double wall = std::chrono::duration<double>(b.at - a.at).count();
  const double user = b.gateway.userUs - a.gateway.userUs, sys = b.gateway.systemUs - a.gateway.systemUs;
  const double inUp = static_cast<double>(b.sentUp - a.sentUp), inDown = static_cast<double>(b.sentDown - a.sentDown);
  const double packets = inUp + inDown;
  const double peers = (b.peers.userUs - a.peers.userUs) + (b.peers.systemUs - a.peers.systemUs);
  std::printf(
      "mode=%s calls=%d direction=%s window_s=%.2f gateway_tid=%d packets_in_to_genesys=%.0f packets_in_to_browser=%.0f "
      "gateway_cpu_pct=%.1f gateway_user_us_per_pkt=%.2f gateway_sys_us_per_pkt=%.2f gateway_us_per_pkt=%.2f "
      "peers_thread_cpu_pct=%.1f loss_to_genesys=%llu/%llu loss_to_browser=%llu/%llu\n",
      opt.transcoded ? "transcoded" : "passthrough", opt.calls,
      opt.fromBrowser && opt.fromGenesys ? "both" : (opt.fromBrowser ? "to-genesys" : "to-browser"), wall, gatewayTid,
      inUp, inDown, 100 * (user + sys) / (wall * 1e6), packets > 0 ? user / packets : 0, packets > 0 ? sys / packets : 0,
      packets > 0 ? (user + sys) / packets : 0, 100 * peers / (wall * 1e6),
      static_cast<unsigned long long>(sentUp > gotUp ? sentUp - gotUp : 0), static_cast<unsigned long long>(sentUp),
      static_cast<unsigned long long>(sentDown > gotDown ? sentDown - gotDown : 0),
      static_cast<unsigned long long>(sentDown));

  teardown();
  return 0;
}

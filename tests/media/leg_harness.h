// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/media/browser_leg.h"

namespace rtcgate::media::test {

// A BrowserLeg on its own media loop thread, with what its callbacks reported, for component tests.
// Thread: the test thread calls run()/waitFor(); the leg lives on thread_.
class LegHarness {
public:
  using Clock = std::chrono::steady_clock;

  explicit LegHarness(std::string name) : thread_(std::move(name)) { thread_.start(); }
  ~LegHarness() {
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    run([this, closed] {
      if (leg) {
        leg->close([closed] { closed->set_value(); });
        leg.reset();
      } else {
        closed->set_value();
      }
    });
    // nice_agent_close_async completes on the leg's loop; give it a bounded moment before the thread stops.
    done.wait_for(std::chrono::seconds(3));
    thread_.stop();
  }

  // Runs fn on the leg's loop and waits for its result.
  template <typename Fn>
  auto run(Fn fn) -> decltype(fn()) {
    using R = decltype(fn());
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    auto future = task->get_future();
    thread_.loop().post([task] { (*task)(); });
    return future.get();
  }

  void create(LegRole role, MediaContext ctx) {
    run([&] {
      BrowserLeg::Callbacks cb;
      cb.localDescription = [this](const sdp::TransportParams& t) { update([&] { local = t; localAt = Clock::now(); ++localCount; }); };
      cb.connected = [this] { update([&] { connected = true; }); };
      cb.failed = [this](const std::string& r) { update([&] { failure = r; failedAt = Clock::now(); }); };
      cb.closedByPeer = [this] { update([&] { closedByPeer = true; closedByPeerAt = Clock::now(); }); };
      cb.rtp = [this](const RtpHeader& h, const uint8_t* d, size_t n) {
        if (rtpHook) return rtpHook(h, d, n);
        update([&] {
          rtp.emplace_back(d, d + n);
          rtpAt.push_back(Clock::now());
        });
      };
      cb.rtcp = [this](const uint8_t* d, size_t n) { update([&] { rtcp.emplace_back(d, d + n); }); };
      if (recreateLostRelay)
        cb.relayRestartOffer = [this](const sdp::TransportParams& t) { update([&] { relayOffers.push_back(t); }); };
      leg = std::make_unique<BrowserLeg>(thread_.loop(), "test-call", role, std::move(ctx), std::move(cb));
    });
  }

  bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, pred);
  }

  // Blocks the leg's loop until the returned function is called (a peer that has gone silent).
  std::function<void()> freeze() {
    auto gate = std::make_shared<std::promise<void>>();
    auto opened = gate->get_future().share();
    thread_.loop().post([opened] { opened.wait(); });
    return [gate] { gate->set_value(); };
  }

  EventLoop& loop() { return thread_.loop(); }

  // Set before create(): the leg re-creates a lost TURN allocation and reports its re-offers in relayOffers.
  bool recreateLostRelay = false;
  // Set before create(): called on the leg's thread for each RTP packet instead of storing it (no copy, no lock).
  std::function<void(const RtpHeader&, const uint8_t*, size_t)> rtpHook;
  // Written on the leg's thread under mutex_; read by the test in waitFor predicates or after run().
  std::unique_ptr<BrowserLeg> leg;
  std::vector<sdp::TransportParams> relayOffers;
  std::optional<sdp::TransportParams> local;
  int localCount = 0;
  bool connected = false;
  std::string failure;
  bool closedByPeer = false;
  Clock::time_point localAt{}, failedAt{}, closedByPeerAt{};
  std::vector<std::vector<uint8_t>> rtp, rtcp;
  std::vector<Clock::time_point> rtpAt;  // arrival time of each rtp[] packet

  std::mutex& mutex() { return mutex_; }

private:
  template <typename Fn>
  void update(Fn fn) {
    {
      std::lock_guard lock(mutex_);
      fn();
    }
    cv_.notify_all();
  }

  LoopThread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
};

// Offer/answer between two created legs as the session layer does it: the offerer starts, its offer (edited by
// mutateOffer) goes to the answerer, the answer (edited by mutateAnswer) back. Returns what each side was given.
inline void negotiateLegs(LegHarness& offerer, LegHarness& answerer, sdp::TransportParams& offer,
                          sdp::TransportParams& answer,
                          const std::function<void(sdp::TransportParams&)>& mutateOffer = nullptr,
                          const std::function<void(sdp::TransportParams&)>& mutateAnswer = nullptr) {
  using namespace std::chrono_literals;
  offerer.run([&] { offerer.leg->start(); });
  ASSERT_TRUE(offerer.waitFor([&] { return offerer.local.has_value(); }, 5s));
  offer = *offerer.local;
  EXPECT_EQ(offer.setup, sdp::Setup::ActPass);
  if (mutateOffer) mutateOffer(offer);
  std::string error;
  ASSERT_TRUE(answerer.run([&] {
    bool ok = answerer.leg->setRemoteDescription(offer, &error);
    answerer.leg->start();
    return ok;
  })) << error;
  ASSERT_TRUE(answerer.waitFor([&] { return answerer.local.has_value(); }, 5s));
  answer = *answerer.local;
  EXPECT_NE(answer.setup, sdp::Setup::ActPass);
  if (mutateAnswer) mutateAnswer(answer);
  ASSERT_TRUE(offerer.run([&] { return offerer.leg->setRemoteDescription(answer, &error); })) << error;
}

// A minimal RTP packet (version 2) with a recognisable payload.
inline std::vector<uint8_t> rtpPacket(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t fill, size_t payload = 160) {
  std::vector<uint8_t> p = {0x80, pt, static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq)};
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(ts >> (24 - 8 * i)));
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(ssrc >> (24 - 8 * i)));
  p.insert(p.end(), payload, fill);
  return p;
}

// An RTCP receiver report without report blocks (PT 201).
inline std::vector<uint8_t> rtcpReceiverReport(uint32_t ssrc) {
  std::vector<uint8_t> p = {0x80, 201, 0, 1, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  return p;
}

}  // namespace rtcgate::media::test

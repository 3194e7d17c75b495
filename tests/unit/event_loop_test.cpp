// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/worker_pool.h"
#include "support/test_support.h"

namespace rtcgate {
namespace {

TEST(EventLoop, PostIsAsynchronousEvenFromTheOwningThread) {
  EventLoop loop("t");
  loop.adoptCurrentThread();
  bool ran = false;
  loop.post([&] { ran = true; });
  EXPECT_FALSE(ran);  // g_main_context_invoke would have run it here
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return ran; }));
}

TEST(EventLoop, PostsFromManyThreadsKeepPerThreadOrderAndAllArrive) {
  LoopThread worker("order");
  worker.start();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  // Only the worker touches `seen`; the counter tells the test thread when everything has arrived.
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> done{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t)
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i)
        worker.loop().post([&, t, i] {
          EXPECT_TRUE(worker.loop().isCurrentThread());
          seen[t].push_back(i);
          done.fetch_add(1);
        });
    });
  for (auto& p : producers) p.join();
  EventLoop here("main");
  here.adoptCurrentThread();
  ASSERT_TRUE(test::pumpUntil(here, [&] { return done.load() == kThreads * kPerThread; }, std::chrono::seconds(20)));
  worker.stop();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) ASSERT_EQ(seen[t][i], i) << "thread " << t;
  }
}

TEST(EventLoop, TaskPostedDuringDispatchRunsOnALaterIteration) {
  EventLoop loop("t");
  loop.adoptCurrentThread();
  std::vector<int> order;
  loop.post([&] {
    order.push_back(1);
    loop.post([&] { order.push_back(3); });
  });
  loop.post([&] { order.push_back(2); });
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, ThrowingTaskDoesNotStopTheLoop) {
  EventLoop loop("t");
  loop.adoptCurrentThread();
  bool after = false;
  loop.post([] { throw std::runtime_error("boom"); });
  loop.post([&] { after = true; });
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return after; }));
}

TEST(EventLoop, PostAfterShutdownIsRefused) {
  LoopThread worker("stopped");
  worker.start();
  worker.stop();
  EXPECT_FALSE(worker.loop().post([] {}));
}

TEST(EventLoop, StopRightAfterStartDoesNotHang) {
  for (int i = 0; i < 50; ++i) {
    LoopThread worker("quick");
    worker.start();
    worker.stop();
  }
}

TEST(Timer, FiresOnItsLoopAndStopsWhenAsked) {
  EventLoop loop("t");
  loop.adoptCurrentThread();
  int fired = 0;
  Timer timer(loop, std::chrono::milliseconds(1), [&] { return ++fired < 3; });
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return fired == 3 && !timer.active(); }));
  Timer cancelled(loop, std::chrono::milliseconds(1), [&] {
    ADD_FAILURE() << "cancelled timer fired";
    return false;
  });
  cancelled.cancel();
  Timer probe(loop, std::chrono::milliseconds(20), [] { return false; });
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return !probe.active(); }));
}

TEST(WorkerPool, PicksTheLeastLoadedWorker) {
  WorkerPool pool(3);
  EXPECT_EQ(pool.size(), 3u);
  pool.acquire(0);
  pool.acquire(1);
  EXPECT_EQ(pool.pick(), 2u);
  pool.acquire(2);
  pool.acquire(2);
  pool.release(0);
  EXPECT_EQ(pool.pick(), 0u);
}

TEST(WorkerPool, EachWorkerRunsItsOwnThread) {
  WorkerPool pool(2);
  pool.start();
  std::atomic<int> done{0};
  std::thread::id ids[2];
  for (int i = 0; i < 2; ++i)
    pool.loop(static_cast<size_t>(i)).post([&, i] {
      ids[i] = std::this_thread::get_id();
      done.fetch_add(1);
    });
  EventLoop here("main");
  here.adoptCurrentThread();
  ASSERT_TRUE(test::pumpUntil(here, [&] { return done.load() == 2; }));
  pool.stop();
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_NE(ids[0], std::this_thread::get_id());
}

}  // namespace
}  // namespace rtcgate

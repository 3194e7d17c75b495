// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <glib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rtcgate {

// One GMainContext and the loop that runs it. The control thread and every media worker own one each.
// Thread: post() and quit() are safe from any thread; everything else belongs to the thread that runs the loop.
// post() is the only cross-thread primitive of rtcgate (docs/threading.md): it is always asynchronous, even when
// called from the loop's own thread, unlike g_main_context_invoke() which would run the task re-entrantly.
class EventLoop {
public:
  using Task = std::function<void()>;

  explicit EventLoop(std::string name);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Queue a task; tasks run in the order they were posted from any one thread. Returns false once the loop has
  // been shut down (the task is then dropped, never run).
  bool post(Task task);
  // Run the loop on the calling thread until quit(). The context becomes that thread's default for its duration,
  // so GLib-based libraries that look up the thread-default context (libnice, GIO) land on it.
  void run();
  // Claim the loop for the calling thread before run() (the control loop sets up its objects first).
  void adoptCurrentThread() { owner_.store(std::this_thread::get_id(), std::memory_order_release); }
  void quit();
  // Drop pending tasks and refuse new ones; call after run() returned, on the owning thread.
  void shutdown();

  bool isCurrentThread() const { return owner_.load(std::memory_order_acquire) == std::this_thread::get_id(); }
  GMainContext* context() const { return context_; }
  // A GMainLoop over context() for libraries that want one (libwebsockets' foreign_loops). It is never run:
  // run() iterates the context itself.
  GMainLoop* glibLoop() const { return glibLoop_; }
  const std::string& name() const { return name_; }
  // Number of tasks executed so far (for tests and load figures).
  uint64_t tasksRun() const { return tasksRun_.load(std::memory_order_relaxed); }

private:
  struct QueueSource;
  static gboolean dispatchQueue(GSource* source, GSourceFunc, gpointer);
  void drain();

  std::string name_;
  GMainContext* context_;
  GMainLoop* glibLoop_;
  GSource* queueSource_;
  std::mutex mutex_;
  std::vector<Task> queue_;
  // The batch being run, swapped with queue_: both keep their capacity, so a media worker's wake-up for posted tasks
  // allocates nothing once they have grown to its largest batch (a std::deque allocates its map and a node on every
  // construction). Loop thread only.
  std::vector<Task> batch_;
  bool closed_ = false;
  std::atomic<bool> quit_{false};
  std::atomic<std::thread::id> owner_{};
  std::atomic<uint64_t> tasksRun_{0};
};

// Asserts that the caller runs on the loop that owns an object: in debug builds and in every build with the tests
// (RTCGATE_THREAD_ASSERTS, set by CMake with RTCGATE_BUILD_TESTS); production release builds skip the check.
#if !defined(NDEBUG) || defined(RTCGATE_THREAD_ASSERTS)
#define RTCGATE_ASSERT_ON_LOOP(loop)                                                                               \
  do {                                                                                                             \
    if (!(loop).isCurrentThread()) ::rtcgate::detail::wrongThread(__FILE__, __LINE__, (loop).name());              \
  } while (0)
#else
// Still names the loop: a member kept only for these checks is then used in every build (clang's
// -Wunused-private-field, an error under -Werror, sees a member no statement names).
#define RTCGATE_ASSERT_ON_LOOP(loop) ((void)(loop))
#endif

namespace detail {
[[noreturn]] void wrongThread(const char* file, int line, const std::string& loopName);
}

// A repeating or one-shot timer on one loop's context. Thread: the loop's own; destroy it there too.
// The callback returns true to keep the timer running. The callback may cancel, re-arm (assign a new Timer to the
// same variable) or destroy its own Timer: the callback's state is owned by the GSource and outlives the dispatch.
class Timer {
public:
  Timer() = default;
  // Relative interval: each firing is scheduled `interval` after the previous callback ran (it drifts late under
  // load). Right for timeouts and retransmissions; never for media pacing (see periodic()).
  Timer(EventLoop& loop, std::chrono::milliseconds interval, std::function<bool()> callback);
  // Absolute schedule on CLOCK_MONOTONIC: the n-th firing is due at start + n × period, whatever the callback's
  // own latency. Ticks that are late are delivered back to back, at most `maxCatchUp` of them per dispatch; a
  // longer stall skips the excess (counted in skippedTicks()) so a stalled loop never bursts more than that.
  static Timer periodic(EventLoop& loop, std::chrono::microseconds period, std::function<bool()> callback,
                        uint32_t maxCatchUp = 5);
  ~Timer();
  Timer(Timer&& other) noexcept;
  Timer& operator=(Timer&& other) noexcept;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void cancel();
  bool active() const;
  // periodic(): ticks skipped after stalls longer than maxCatchUp periods.
  uint64_t skippedTicks() const;

  struct State;  // opaque; owned by the GSource

private:
  Timer(GSource* source, State* state) : source_(source), state_(state) {}
  GSource* source_ = nullptr;
  State* state_ = nullptr;  // valid while source_ is not destroyed
};

// A named thread running one EventLoop. Thread: construct, start and stop from one (control) thread.
class LoopThread {
public:
  explicit LoopThread(std::string name);
  ~LoopThread();
  void start();
  void stop();  // quits the loop and joins the thread; tasks still queued are dropped
  EventLoop& loop() { return loop_; }

private:
  EventLoop loop_;
  std::thread thread_;
};

}  // namespace rtcgate

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/event_loop.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "rtcgate/core/log.h"

namespace rtcgate {

namespace detail {
void wrongThread(const char* file, int line, const std::string& loopName) {
  std::fprintf(stderr, "%s:%d: called off its owning loop '%s'\n", file, line, loopName.c_str());
  std::abort();
}
}  // namespace detail

struct EventLoop::QueueSource {
  GSource base;
  EventLoop* loop;
};

EventLoop::EventLoop(std::string name)
    : name_(std::move(name)), context_(g_main_context_new()), glibLoop_(g_main_loop_new(context_, FALSE)) {
  static GSourceFuncs funcs = {
      [](GSource* s, gint* timeout) -> gboolean {
        auto* q = reinterpret_cast<QueueSource*>(s);
        *timeout = -1;
        std::lock_guard lock(q->loop->mutex_);
        return q->loop->queue_.empty() ? FALSE : TRUE;
      },
      [](GSource* s) -> gboolean {
        auto* q = reinterpret_cast<QueueSource*>(s);
        std::lock_guard lock(q->loop->mutex_);
        return q->loop->queue_.empty() ? FALSE : TRUE;
      },
      &EventLoop::dispatchQueue, nullptr, nullptr, nullptr};
  queueSource_ = g_source_new(&funcs, sizeof(QueueSource));
  reinterpret_cast<QueueSource*>(queueSource_)->loop = this;
  g_source_set_name(queueSource_, "rtcgate-post");
  g_source_attach(queueSource_, context_);
}

EventLoop::~EventLoop() {
  g_source_destroy(queueSource_);
  g_source_unref(queueSource_);
  g_main_loop_unref(glibLoop_);
  g_main_context_unref(context_);
}

bool EventLoop::post(Task task) {
  bool wasEmpty;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    wasEmpty = queue_.empty();
    queue_.push_back(std::move(task));
  }
  // Envoy's rule: only the first task of a batch needs to wake the loop; later ones ride the same dispatch.
  if (wasEmpty) g_main_context_wakeup(context_);
  return true;
}

gboolean EventLoop::dispatchQueue(GSource* source, GSourceFunc, gpointer) {
  reinterpret_cast<QueueSource*>(source)->loop->drain();
  return G_SOURCE_CONTINUE;
}

void EventLoop::drain() {
  // Swap the batch out so tasks posted while running go to the next dispatch and a task that posts to its own
  // loop cannot starve other sources.
  {
    std::lock_guard lock(mutex_);
    batch_.swap(queue_);
  }
  for (auto& task : batch_) {
    try {
      task();
    } catch (const std::exception& e) {
      log::get(log::Component::Core)->error("loop {}: task threw: {}", name_, e.what());
    } catch (...) {
      log::get(log::Component::Core)->error("loop {}: task threw a non-standard exception", name_);
    }
    tasksRun_.fetch_add(1, std::memory_order_relaxed);
  }
  batch_.clear();  // destroys the tasks, keeps the capacity
}

void EventLoop::run() {
  owner_.store(std::this_thread::get_id(), std::memory_order_release);
  g_main_context_push_thread_default(context_);
  // A flag rather than GMainLoop: g_main_loop_quit() before g_main_loop_run() starts is lost, and stop() may
  // come right after start().
  while (!quit_.load(std::memory_order_acquire)) g_main_context_iteration(context_, TRUE);
  g_main_context_pop_thread_default(context_);
}

void EventLoop::quit() {
  quit_.store(true, std::memory_order_release);
  g_main_context_wakeup(context_);
}

void EventLoop::shutdown() {
  std::vector<Task> dropped;
  std::lock_guard lock(mutex_);
  closed_ = true;
  dropped.swap(queue_);
}

// The callback's state lives in the GSource's callback data, not in the Timer object: GLib keeps the callback data
// referenced for the whole dispatch (g_main_dispatch refs it before calling), so the callback may cancel, replace
// or destroy its own Timer and the destroy notify frees the state only after it returned.
struct Timer::State {
  std::function<bool()> callback;
  // periodic() only: the next deadline in g_get_monotonic_time() units (CLOCK_MONOTONIC, µs).
  gint64 periodUs = 0;
  gint64 nextDeadlineUs = 0;
  uint32_t maxCatchUp = 0;
  uint64_t skipped = 0;

  bool runOnce() {
    try {
      return callback();
    } catch (...) {
      log::get(log::Component::Core)->error("timer callback threw; timer stopped");
      return false;
    }
  }
  static void destroy(gpointer self) { delete static_cast<State*>(self); }
};

namespace {

gboolean fireRelative(gpointer state) {
  return static_cast<Timer::State*>(state)->runOnce() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

// A GSource whose ready time is the absolute deadline (g_source_set_ready_time uses the monotonic clock).
struct PeriodicSource {
  GSource base;
};

gboolean dispatchPeriodic(GSource* source, GSourceFunc, gpointer data) {
  auto* st = static_cast<Timer::State*>(data);
  const gint64 now = g_source_get_time(source);
  // Ticks due by now; beyond maxCatchUp the schedule jumps ahead instead of bursting.
  gint64 due = (now - st->nextDeadlineUs) / st->periodUs + 1;
  if (due > st->maxCatchUp) {
    st->skipped += static_cast<uint64_t>(due - st->maxCatchUp);
    st->nextDeadlineUs += (due - st->maxCatchUp) * st->periodUs;
    due = st->maxCatchUp;
  }
  for (gint64 i = 0; i < due; ++i) {
    st->nextDeadlineUs += st->periodUs;
    if (!st->runOnce()) return G_SOURCE_REMOVE;
    // The callback may have cancelled its own timer.
    if (g_source_is_destroyed(source)) return G_SOURCE_REMOVE;
  }
  g_source_set_ready_time(source, st->nextDeadlineUs);
  return G_SOURCE_CONTINUE;
}

GSourceFuncs periodicFuncs = {nullptr, nullptr, &dispatchPeriodic, nullptr, nullptr, nullptr};

}  // namespace

Timer::Timer(EventLoop& loop, std::chrono::milliseconds interval, std::function<bool()> callback) {
  source_ = g_timeout_source_new(static_cast<guint>(interval.count()));
  state_ = new State{std::move(callback)};
  g_source_set_callback(source_, &fireRelative, state_, &State::destroy);
  // Attach to the loop's own context: g_timeout_add() would attach to the global default context instead.
  g_source_attach(source_, loop.context());
}

Timer Timer::periodic(EventLoop& loop, std::chrono::microseconds period, std::function<bool()> callback,
                      uint32_t maxCatchUp) {
  auto* st = new State{std::move(callback)};
  st->periodUs = std::max<gint64>(1, period.count());
  st->maxCatchUp = std::max<uint32_t>(1, maxCatchUp);
  st->nextDeadlineUs = g_get_monotonic_time() + st->periodUs;
  GSource* source = g_source_new(&periodicFuncs, sizeof(PeriodicSource));
  g_source_set_name(source, "rtcgate-periodic");
  g_source_set_callback(source, nullptr, st, &State::destroy);
  g_source_set_ready_time(source, st->nextDeadlineUs);
  g_source_attach(source, loop.context());
  return Timer(source, st);
}

Timer::~Timer() { cancel(); }

Timer::Timer(Timer&& other) noexcept
    : source_(std::exchange(other.source_, nullptr)), state_(std::exchange(other.state_, nullptr)) {}

Timer& Timer::operator=(Timer&& other) noexcept {
  if (this != &other) {
    cancel();
    source_ = std::exchange(other.source_, nullptr);
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

void Timer::cancel() {
  if (source_ == nullptr) return;
  GSource* s = std::exchange(source_, nullptr);
  state_ = nullptr;
  g_source_destroy(s);
  g_source_unref(s);
}

bool Timer::active() const { return source_ != nullptr && !g_source_is_destroyed(source_); }

uint64_t Timer::skippedTicks() const {
  return active() ? state_->skipped : 0;
}

LoopThread::LoopThread(std::string name) : loop_(std::move(name)) {}

LoopThread::~LoopThread() { stop(); }

void LoopThread::start() {
  thread_ = std::thread([this] {
    // Linux limits thread names to 15 characters.
    pthread_setname_np(pthread_self(), loop_.name().substr(0, 15).c_str());
    loop_.run();
    loop_.shutdown();
  });
}

void LoopThread::stop() {
  if (!thread_.joinable()) return;
  loop_.quit();
  thread_.join();
}

}  // namespace rtcgate

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/event_loop.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>

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
  std::deque<Task> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queue_);
  }
  for (auto& task : batch) {
    try {
      task();
    } catch (const std::exception& e) {
      log::get(log::Component::Core)->error("loop {}: task threw: {}", name_, e.what());
    } catch (...) {
      log::get(log::Component::Core)->error("loop {}: task threw a non-standard exception", name_);
    }
    tasksRun_.fetch_add(1, std::memory_order_relaxed);
  }
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
  std::deque<Task> dropped;
  std::lock_guard lock(mutex_);
  closed_ = true;
  dropped.swap(queue_);
}

Timer::Timer(EventLoop& loop, std::chrono::milliseconds interval, std::function<bool()> callback)
    : callback_(std::move(callback)) {
  source_ = g_timeout_source_new(static_cast<guint>(interval.count()));
  g_source_set_callback(source_, &Timer::fire, this, nullptr);
  // Attach to the loop's own context: g_timeout_add() would attach to the global default context instead.
  g_source_attach(source_, loop.context());
}

Timer::~Timer() { cancel(); }

Timer::Timer(Timer&& other) noexcept { *this = std::move(other); }

Timer& Timer::operator=(Timer&& other) noexcept {
  if (this != &other) {
    cancel();
    callback_ = std::move(other.callback_);
    source_ = other.source_;
    other.source_ = nullptr;
    // The GSource's user data points at the Timer object, so it must follow the move.
    if (source_ != nullptr) g_source_set_callback(source_, &Timer::fire, this, nullptr);
  }
  return *this;
}

void Timer::cancel() {
  if (source_ == nullptr) return;
  g_source_destroy(source_);
  g_source_unref(source_);
  source_ = nullptr;
}

gboolean Timer::fire(gpointer self) {
  auto* timer = static_cast<Timer*>(self);
  bool again = false;
  try {
    again = timer->callback_();
  } catch (...) {
    log::get(log::Component::Core)->error("timer callback threw; timer stopped");
  }
  if (!again) {
    // Returning G_SOURCE_REMOVE destroys the source; drop our reference so cancel() does nothing later.
    g_source_unref(timer->source_);
    timer->source_ = nullptr;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
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

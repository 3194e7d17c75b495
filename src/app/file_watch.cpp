// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/app/file_watch.h"

#include <gio/gio.h>

#include "rtcgate/core/log.h"

namespace rtcgate::app {

FileWatch::FileWatch(EventLoop& loop, const std::string& path, std::chrono::milliseconds debounce,
                     std::function<void()> changed)
    : loop_(loop), path_(path), debounce_(debounce), changed_(std::move(changed)) {
  // GFileMonitor delivers on the thread-default context of its creation: make that the loop's.
  g_main_context_push_thread_default(loop_.context());
  GFile* file = g_file_new_for_path(path_.c_str());
  GError* error = nullptr;
  // WATCH_MOVES: a rename over the file arrives as one MOVED_IN/RENAMED event instead of DELETED + CREATED.
  monitor_ = g_file_monitor_file(file, G_FILE_MONITOR_WATCH_MOVES, nullptr, &error);
  g_object_unref(file);
  g_main_context_pop_thread_default(loop_.context());
  if (monitor_ == nullptr) {
    log::get(log::Component::Config)
        ->warn("cannot watch {} for changes ({}); it is reloaded on SIGHUP only", log::escaped(path_, 200),
               error != nullptr ? error->message : "unknown error");
    if (error != nullptr) g_error_free(error);
    return;
  }
  handler_ = g_signal_connect(monitor_, "changed", G_CALLBACK(&FileWatch::onEvent), this);
}

FileWatch::~FileWatch() {
  if (monitor_ == nullptr) return;
  g_signal_handler_disconnect(monitor_, handler_);
  g_file_monitor_cancel(monitor_);
  g_object_unref(monitor_);
}

void FileWatch::onEvent(GFileMonitor*, void*, void*, int event, void* self) {
  auto* w = static_cast<FileWatch*>(self);
  // Attribute changes (touch, chmod) do not change the content.
  if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED) return;
  w->quiet_ = Timer(w->loop_, w->debounce_, [w] {
    w->changed_();
    return false;
  });
}

}  // namespace rtcgate::app

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "rtcgate/core/event_loop.h"

typedef struct _GFileMonitor GFileMonitor;

namespace rtcgate::app {

// Calls `changed` on the loop once a file has been quiet for `debounce` after it changed, was replaced (an editor's
// or a deploy tool's rename over it), created or deleted: one reload per edit, not one per write(2).
// GFileMonitor (inotify) on the file's directory, so a replaced file keeps being watched. Thread: the loop's.
class FileWatch {
public:
  FileWatch(EventLoop& loop, const std::string& path, std::chrono::milliseconds debounce, std::function<void()> changed);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  const std::string& path() const { return path_; }
  bool watching() const { return monitor_ != nullptr; }

private:
  static void onEvent(GFileMonitor*, void* file, void* other, int event, void* self);

  EventLoop& loop_;
  std::string path_;
  std::chrono::milliseconds debounce_;
  std::function<void()> changed_;
  GFileMonitor* monitor_ = nullptr;
  unsigned long handler_ = 0;
  Timer quiet_;
};

}  // namespace rtcgate::app

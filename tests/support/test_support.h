// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "rtcgate/core/event_loop.h"

namespace rtcgate::test {

// Pump `loop` on the calling thread until pred() holds or the timeout passes; returns pred()'s last value.
// The loop must be owned by (or adopted by) the calling thread.
bool pumpUntil(EventLoop& loop, const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A fresh temporary directory, removed with its contents when the object goes away.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::string path_;
};

// Blocking HTTP/1.1 GET to 127.0.0.1:port with a deadline. Returns the status code (or -1) and fills body.
int httpGet(uint16_t port, const std::string& path, std::string* body,
            std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace rtcgate::test

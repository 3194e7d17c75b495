// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "rtcgate/core/event_loop.h"

namespace rtcgate::app {

// Drain (issue 13): the gateway stops taking new calls and new agent registrations (the hooks given), lets calls
// in progress finish up to a deadline, then stops (the daemon's normal shutdown ends what is left; exit 0).
// Progress goes to GET /api/v1/drain, a log line every kLogInterval and systemd STATUS=. Thread: control.
class Drain {
public:
  struct Hooks {
    std::function<size_t()> callsLeft;
    std::function<void()> refuseNew;                 // 503 + Retry-After to new INVITEs and REGISTERs
    std::function<void(const char* why)> stop;       // Daemon::beginShutdown
  };
  struct Progress {
    bool active = false;
    size_t callsLeft = 0;
    double deadlineS = 0;       // as asked
    double secondsLeft = 0;     // until the remaining calls are ended
    double elapsedS = 0;
    std::string requestedBy;
    bool stopping = false;      // the drain ended (no call left, or the deadline): the daemon is stopping
  };
  static constexpr std::chrono::seconds kDefaultDeadline{600};
  static constexpr std::chrono::seconds kMaxDeadline{86400};
  static constexpr std::chrono::seconds kLogInterval{5};

  Drain(EventLoop& control, Hooks hooks) : control_(control), hooks_(std::move(hooks)) {}

  // Starts draining; a second call keeps the first deadline and returns false.
  bool start(std::chrono::milliseconds deadline, const std::string& requestedBy);
  Progress progress() const;

private:
  void tick();

  EventLoop& control_;
  Hooks hooks_;
  bool active_ = false;
  bool stopped_ = false;
  std::string requestedBy_;
  std::chrono::milliseconds deadline_{0};
  std::chrono::steady_clock::time_point started_, endAt_, lastLog_;
  Timer timer_;
};

}  // namespace rtcgate::app

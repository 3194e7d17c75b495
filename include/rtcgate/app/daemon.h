// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rtcgate/config/config_store.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/core/worker_pool.h"

namespace rtcgate::admin {
class AdminHttp;
}
namespace rtcgate::session {
class AgentPresence;
class SessionManager;
}
namespace rtcgate::media {
class RtpPortPool;
}
namespace rtcgate::sip {
class SipStack;
class UpstreamCallHandler;
}

namespace rtcgate::signaling {
class WssServer;
}

namespace rtcgate::app {

class AdminApi;
class Drain;
class FileWatch;

// Wires the process together: control loop, media workers, admin endpoint, signals, systemd notification.
// Thread: the thread that calls run() is the control thread for the daemon's whole life.
class Daemon {
public:
  // configPath empty: the configuration came from the embedded default.
  Daemon(config::ConfigPtr config, std::string configPath);
  ~Daemon();

  // Serve until SIGTERM or SIGINT; returns the process exit code.
  int run();

private:
  // SIGHUP and POST /api/v1/reload.
  config::ConfigStore::ReloadResult reload();
  // SIGUSR1 and POST /api/v1/drain (drain.h).
  void startDrain(std::chrono::milliseconds deadline, const std::string& by);
  // agents_file: watched for changes (debounced), reloaded on its own; a bad file keeps the agents loaded before.
  void watchAgentsFile();
  void reloadAgentsFile();
  void beginShutdown(const char* why);
  void announceReady();
  // /readyz: one line per condition that keeps the gateway from being ready; empty when ready (daemon_readiness.cpp,
  // rule in docs/metrics.md).
  std::vector<std::string> notReadyReasons() const;
  // Returns freed heap pages to the system when calls ended since the last run (kHeapTrimInterval, daemon.cpp).
  void trimHeapAfterCalls();

  EventLoop control_{"rtc-control"};
  config::ConfigStore store_;
  Metrics metrics_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<admin::AdminHttp> admin_;
  std::unique_ptr<Drain> drain_;
  std::unique_ptr<AdminApi> api_;
  std::unique_ptr<sip::UpstreamCallHandler> callHandler_;
  std::unique_ptr<sip::SipStack> sip_;
  std::unique_ptr<session::AgentPresence> presence_;
  std::unique_ptr<media::RtpPortPool> ports_;
  std::unique_ptr<session::SessionManager> sessions_;
  Timer shutdownDeadline_;
  std::unique_ptr<signaling::WssServer> wss_;
  bool stopping_ = false;
  std::atomic<uint64_t>* reloadsTotal_ = nullptr;
  std::atomic<uint64_t>* reloadFailuresTotal_ = nullptr;
  Timer heapTrim_;
  // Sends WATCHDOG=1 at half of $WATCHDOG_USEC (sdWatchdogInterval) while the control loop runs.
  Timer watchdog_;
  uint64_t endedAtTrim_ = 0;
  std::atomic<uint64_t>* callsTotal_ = nullptr;
  std::atomic<uint64_t>* heapTrims_ = nullptr;
  std::unique_ptr<FileWatch> agentsWatch_;
  std::atomic<uint64_t>* agentsFileReloads_ = nullptr;
  std::atomic<uint64_t>* agentsFileReloadFailures_ = nullptr;
};

}  // namespace rtcgate::app

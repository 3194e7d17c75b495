// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "browser_agent.h"
#include "genesys_side.h"
#include "load_env.h"
#include "load_report.h"
#include "rtcgate/core/metrics.h"
#include "wss_client.h"

namespace rtcgate::load {

// One run of the load: agents registered, calls ramped at --rate up to --concurrency for --duration, each held
// --hold seconds with media both ways, then the report. Thread: everything on `loop` (run() drives it from the
// calling thread).
class LoadRun final : public CallHooks {
public:
  LoadRun(EventLoop& loop, const LoadOptions& options);
  ~LoadRun() override;
  // Runs to the end; returns the exit code (0 completed, 1 setup failure). `error` says why for 1.
  int run(std::string& error);
  LoadResult& result() { return result_; }

  LoadCall* callOfAgent(int agent) override;
  int agentOfUser(const std::string& user) override;
  void progress(LoadCall& call) override;
  void fail(LoadCall& call, const std::string& reason) override;
  void hungUp(LoadCall& call) override;
  void agentRegistered(int agent, bool ok, const std::string& why) override;
  void registrationRefreshed(int agent, bool ok, const std::string& why) override;
  void dnRegistered(const std::string& dn) override;
  DirectionTotals& toGenesys() override { return result_.toGenesys; }
  DirectionTotals& toBrowser() override { return result_.toBrowser; }

private:
  void setUp();
  void maybeStartRamp();
  void rampTick();
  void startCall(int agent);
  void startMedia(LoadCall& call);
  void sendTick(LoadCall& call);
  void endCall(LoadCall& call);
  void finish(LoadCall& call);
  void endRun();
  void maybeQuit();
  void sample();
  void maybeOpenSteadyWindow();
  void closeSteadyWindow();
  int targetConcurrency() const;
  void setupFailed(const std::string& why);

  EventLoop& loop_;
  const LoadOptions& options_;
  Metrics metrics_;
  std::unique_ptr<WssClient> wss_;
  EncodedTone opusTone_, pcmuTone_, pcmaTone_;
  std::unique_ptr<LoadEnv> env_;
  std::unique_ptr<GenesysSide> genesys_;
  std::vector<std::unique_ptr<BrowserAgent>> agents_;  // [0] is agent 1
  std::map<std::string, int> userToAgent_;             // dial strings and DNs → agent
  std::map<int, std::unique_ptr<LoadCall>> calls_;     // agent → its current call
  std::vector<std::unique_ptr<LoadCall>> graveyard_;   // finished calls, destroyed on a later loop turn
  int registeredAgents_ = 0, registeredDns_ = 0;
  bool rampStarted_ = false, rampStopped_ = false, runEnded_ = false;
  int nextAgent_ = 0;
  int exitCode_ = 0;
  std::string error_;
  Timer registerTimeout_, ramp_, durationTimer_, sampler_, endGrace_;
  Clock::time_point runStart_{}, lastSample_{};
  bool steadyOpen_ = false, steadyClosed_ = false;
  ProcessSample steadyStart_;
  LoadResult result_;
};

}  // namespace rtcgate::load

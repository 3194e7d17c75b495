// SPDX-License-Identifier: Apache-2.0
#include "load_run.h"

#include <sys/resource.h>

#include <cstdio>
#include <random>

#include "rtcgate/core/log.h"
#include "rtcgate/media/dtls_certificate.h"

namespace rtcgate::load {
namespace {

constexpr auto kFrame = std::chrono::milliseconds(20);
// Media starts this long after both legs are up, so that the first packets of neither side meet rtcgate's leg
// still finishing its DTLS handshake (its Finished may be in flight when ours completes).
constexpr auto kMediaStartDelay = std::chrono::milliseconds(100);
// Between the last packet sent and the BYE: until everything sent has arrived both ways (checked every 20 ms), at
// most kDrainMax, so that the report's received counts equal the sent ones exactly even when rtcgate or the machine
// is slow; what is still missing then is lost.
constexpr auto kDrainMax = std::chrono::milliseconds(2000);
constexpr auto kDrain = std::chrono::milliseconds(20);
constexpr auto kByeTimeout = std::chrono::seconds(5);

double cpuSelf() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

uint32_t randomSsrc() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return rng();
}

}  // namespace

LoadRun::LoadRun(EventLoop& loop, const LoadOptions& options) : loop_(loop), options_(options) {}

LoadRun::~LoadRun() {
  // Calls (legs, sockets, timers) go before the agents and the WSS context they use.
  calls_.clear();
  graveyard_.clear();
  agents_.clear();
  genesys_.reset();
  env_.reset();
  wss_.reset();
}

int LoadRun::run(std::string& error) {
  const auto wallStart = Clock::now();
  loop_.adoptCurrentThread();
  loop_.post([this] { setUp(); });
  loop_.run();
  if (genesys_) {
    result_.genesysRetransmissionsSent = genesys_->retransmissionsSent();
    result_.genesysRequestsRepeated = genesys_->requestsRepeated();
  }
  result_.wallS = std::chrono::duration<double>(Clock::now() - wallStart).count();
  result_.generatorCpuS = cpuSelf();
  error = error_;
  return exitCode_;
}

void LoadRun::setupFailed(const std::string& why) {
  if (exitCode_ != 0) return;
  exitCode_ = 1;
  error_ = why;
  loop_.quit();
}

void LoadRun::setUp() {
  try {
    opusTone_ = encodeTone(codec::CodecId::Opus, options_.opusComplexity);
    pcmuTone_ = encodeTone(codec::CodecId::Pcmu, options_.opusComplexity);
    pcmaTone_ = encodeTone(codec::CodecId::Pcma, options_.opusComplexity);
    wss_ = std::make_unique<WssClient>(loop_, static_cast<size_t>(options_.agents));
    config::Config cfg;
    cfg.ice.candidates.allowLoopback = true;
    cfg.media.icePortMin = 0;
    cfg.media.icePortMax = 0;
    cfg.media.packetRate.perSecond = 0;  // the generator counts what arrives; it never drops
    media::MediaContext ctx;
    ctx.config = std::make_shared<const config::Config>(cfg);
    ctx.certificate = media::DtlsCertificate::generate();
    ctx.metrics = &metrics_;
    // Host candidates on the address rtcgate is reached at (loopback in the single-host set-up).
    ctx.localAddressesOverride = {{"lo", options_.wssHost, false, true}};
    env_ = std::make_unique<LoadEnv>(LoadEnv{loop_, options_, ctx, *wss_, *this, opusTone_, pcmuTone_, pcmaTone_});
    genesys_ = std::make_unique<GenesysSide>(*env_);
  } catch (const std::exception& e) {
    return setupFailed(std::string("setup: ") + e.what());
  }
  for (int i = 1; i <= options_.agents; ++i) {
    agents_.push_back(std::make_unique<BrowserAgent>(*env_, i));
    userToAgent_[expandPattern(options_.dialPattern, i)] = i;
    userToAgent_.emplace(expandPattern(options_.dnPattern, i), i);
  }
  registerTimeout_ = Timer(loop_, std::chrono::milliseconds(options_.registerTimeoutMs), [this] {
    setupFailed("registration: " + std::to_string(registeredAgents_) + " of " + std::to_string(options_.agents) +
                " agents and " + std::to_string(registeredDns_) + " DNs registered within --register-timeout-ms");
    return false;
  });
  log::get(log::Component::Core)->info("load: {} agents connecting to {}{}", options_.agents, options_.wss,
                                       waitsForDns(options_) ? ", waiting for their DN registrations" : "");
  for (auto& a : agents_) a->connect();
}

void LoadRun::agentRegistered(int agent, bool ok, const std::string& why) {
  if (!ok) {
    if (!rampStarted_) setupFailed("agent " + agents_[static_cast<size_t>(agent - 1)]->user() + ": " + why);
    return;
  }
  ++registeredAgents_;
  maybeStartRamp();
}

void LoadRun::registrationRefreshed(int, bool ok, const std::string& why) {
  if (ok) ++result_.registrationsRefreshed;
  else ++result_.refreshFailed[why];
}

void LoadRun::dnRegistered(const std::string&) {
  registeredDns_ = 0;
  for (auto& a : agents_)
    if (genesys_->hasContact(a->dn())) ++registeredDns_;
  maybeStartRamp();
}

void LoadRun::maybeStartRamp() {
  if (rampStarted_ || exitCode_ != 0) return;
  if (registeredAgents_ < options_.agents) return;
  if (waitsForDns(options_) && registeredDns_ < options_.agents) return;
  rampStarted_ = true;
  registerTimeout_.cancel();
  runStart_ = lastSample_ = Clock::now();
  log::get(log::Component::Core)->info("load: {} agents registered ({} DNs); calls start at {}/s up to {} at once",
                                       registeredAgents_, registeredDns_, options_.rate, options_.concurrency);
  if (options_.cpuOfPid != 0) {
    auto s = sampleProcess(options_.cpuOfPid);
    result_.targetPid = options_.cpuOfPid;
    result_.rssKbStart = result_.rssKbPeak = s.rssKb;
  }
  const auto period = std::chrono::microseconds(static_cast<int64_t>(1e6 / options_.rate));
  ramp_ = Timer::periodic(loop_, period, [this] {
    rampTick();
    return !rampStopped_;
  });
  rampTick();
  durationTimer_ = Timer(loop_, std::chrono::milliseconds(static_cast<int64_t>(options_.durationS * 1000)), [this] {
    endRun();
    return false;
  });
  sampler_ = Timer::periodic(loop_, std::chrono::milliseconds(100), [this] {
    sample();
    return true;
  });
}

int LoadRun::targetConcurrency() const {
  return options_.maxCalls > 0 ? std::min(options_.concurrency, options_.maxCalls) : options_.concurrency;
}

void LoadRun::rampTick() {
  if (rampStopped_) return;
  if (options_.maxCalls > 0 && result_.attempted >= static_cast<uint64_t>(options_.maxCalls)) {
    rampStopped_ = true;
    return;
  }
  if (static_cast<int>(calls_.size()) >= options_.concurrency) return;
  for (int tried = 0; tried < options_.agents; ++tried) {
    const int agent = nextAgent_ % options_.agents + 1;
    ++nextAgent_;
    if (calls_.count(agent) == 0) return startCall(agent);
  }
}

void LoadRun::startCall(int agent) {
  auto owned = std::make_unique<LoadCall>();
  LoadCall& call = *owned;
  call.agent = agent;
  call.outbound = options_.direction == Direction::Outbound;
  call.attemptAt = Clock::now();
  calls_[agent] = std::move(owned);
  ++result_.attempted;
  // The last call of --calls: the run ends when it does, not at the ramp's next tick (1/--rate later).
  if (options_.maxCalls > 0 && result_.attempted >= static_cast<uint64_t>(options_.maxCalls)) rampStopped_ = true;
  result_.maxConcurrent = std::max(result_.maxConcurrent, static_cast<int>(calls_.size()));
  call.setupTimeout = Timer(loop_, std::chrono::milliseconds(options_.setupTimeoutMs), [this, &call] {
    std::string stage = !call.browserConfirmed ? "browser_sip" : !call.genesysConfirmed ? "genesys_sip" : "ice_dtls";
    fail(call, "setup_timeout_" + stage);
    return false;
  });
  if (call.outbound) agents_[static_cast<size_t>(agent - 1)]->startCall(call);
  else genesys_->call(call, agents_[static_cast<size_t>(agent - 1)]->dn(), agents_[static_cast<size_t>(agent - 1)]->user());
}

LoadCall* LoadRun::callOfAgent(int agent) {
  auto it = calls_.find(agent);
  return it == calls_.end() ? nullptr : it->second.get();
}

int LoadRun::agentOfUser(const std::string& user) {
  auto it = userToAgent_.find(user);
  return it == userToAgent_.end() ? 0 : it->second;
}

void LoadRun::progress(LoadCall& call) {
  if (call.finished || call.established) return;
  if (!call.browserConfirmed || !call.legConnected || !call.genesysConfirmed) return;
  call.established = true;
  call.establishedAt = Clock::now();
  call.setupTimeout.cancel();
  ++result_.established;
  result_.setupMs.push_back(std::chrono::duration<double, std::milli>(call.establishedAt - call.attemptAt).count());
  if (runEnded_) return endCall(call);  // established after --duration: no media, BYE
  LoadCall* c = &call;
  call.startDelay = Timer(loop_, std::chrono::duration_cast<std::chrono::milliseconds>(kMediaStartDelay), [this, c] {
    startMedia(*c);
    return false;
  });
}

void LoadRun::startMedia(LoadCall& call) {
  if (call.finished || call.hangingUp) return;
  if (call.browserTone == nullptr || call.genesysTone == nullptr || !call.rtp || !call.leg)
    return fail(call, "media_not_negotiated");
  call.toGenesysSender = std::make_unique<RtpSender>(call.browserTone, call.browserPt, randomSsrc());
  call.toBrowserSender = std::make_unique<RtpSender>(call.genesysTone, call.genesysPt, randomSsrc());
  call.toGenesysReceiver = std::make_unique<RtpReceiver>(codec::rtpClockRate(call.genesysTone->codec), options_.lateMs);
  call.toBrowserReceiver = std::make_unique<RtpReceiver>(codec::rtpClockRate(call.browserTone->codec), options_.lateMs);
  call.mediaRunning = true;
  call.mediaStartAt = Clock::now();
  ++result_.browserCodecs[std::string(codec::codecName(call.browserTone->codec))];
  ++result_.genesysCodecs[std::string(codec::codecName(call.genesysTone->codec))];
  LoadCall* c = &call;
  // An absolute 20 ms schedule per call (Timer::periodic): the generator's own lateness never drifts the rate.
  call.pacer = Timer::periodic(loop_, kFrame, [this, c] {
    sendTick(*c);
    return true;
  });
  sendTick(call);
  call.hold = Timer(loop_, std::chrono::milliseconds(static_cast<int64_t>(options_.holdS * 1000)), [this, c] {
    endCall(*c);
    return false;
  });
  genesys_->startRtcp(call);
  maybeOpenSteadyWindow();
}

// The steady window opens when the target concurrency has media running, or, when calls failed on the way, once
// the ramp is over and no call is still in setup.
void LoadRun::maybeOpenSteadyWindow() {
  if (steadyOpen_) return;
  int running = 0, inSetup = 0;
  for (auto& [agent, other] : calls_) {
    if (other->mediaRunning && !other->hangingUp) ++running;
    else if (!other->established && !other->finished) ++inSetup;
  }
  const bool rampDone = rampStopped_ || (options_.maxCalls > 0 && result_.attempted >= static_cast<uint64_t>(options_.maxCalls));
  if (running == 0 || (running < targetConcurrency() && !(rampDone && inSetup == 0))) return;
  steadyOpen_ = true;
  if (options_.cpuOfPid != 0) steadyStart_ = sampleProcess(options_.cpuOfPid);
  result_.steadyS = 0;
}

void LoadRun::sendTick(LoadCall& call) {
  const auto now = Clock::now();
  // The tick's place on the schedule, not the packets sent: a send that failed, or ticks the pacer skipped after a
  // stall, would otherwise shift every later tick's due time and show as lateness for the rest of the call.
  const auto due = call.mediaStartAt + kFrame * (call.ticksRun++ + call.pacer.skippedTicks());
  result_.tickLatenessMs.push_back(static_cast<float>(std::chrono::duration<double, std::milli>(now - due).count()));
  uint8_t buf[1600];
  size_t n = call.toGenesysSender->build(buf, sizeof(buf));
  if (n > 0 && call.leg && call.leg->sendRtp(buf, n) == media::SendStatus::Ok) call.toGenesysSender->sent(Clock::now());
  n = call.toBrowserSender->build(buf, sizeof(buf));
  if (n > 0 && call.rtp && call.rtp->sendTo(buf, n, call.rtcgateRtp, call.rtcgateRtpLen))
    call.toBrowserSender->sent(Clock::now());
}

void LoadRun::endCall(LoadCall& call) {
  if (call.finished || call.hangingUp) return;
  if (options_.maxCalls > 0 && rampStopped_) closeSteadyWindow();
  call.hangingUp = true;
  result_.ticksSkipped += call.pacer.skippedTicks();
  call.pacer.cancel();
  call.hold.cancel();
  call.startDelay.cancel();
  if (!call.established) return fail(call, "ended_before_established");
  LoadCall* c = &call;
  const auto drainUntil = Clock::now() + kDrainMax;
  call.drain = Timer(loop_, kDrain, [this, c, drainUntil] {
    // A call ended before its media started (at --duration) has nothing in flight.
    const bool allIn = !c->toGenesysReceiver ||
                       (c->toGenesysReceiver->received() >= c->toGenesysSender->count() &&
                        c->toBrowserReceiver->received() >= c->toBrowserSender->count());
    if (!allIn && Clock::now() < drainUntil) return true;
    if (c->outbound) agents_[static_cast<size_t>(c->agent - 1)]->hangUp(*c);
    else genesys_->hangUp(*c);
    c->byeTimeout = Timer(loop_, std::chrono::duration_cast<std::chrono::milliseconds>(kByeTimeout), [this, c] {
      fail(*c, "bye_unanswered");
      return false;
    });
    return false;
  });
}

void LoadRun::hungUp(LoadCall& call) {
  if (call.finished) return;
  finish(call);
}

void LoadRun::fail(LoadCall& call, const std::string& reason) {
  if (call.finished) return;
  call.failure = reason;
  ++result_.failed[reason];
  log::get(log::Component::Core)->debug("load: call of agent {} failed: {}", call.agent, reason);
  finish(call);
}

void LoadRun::finish(LoadCall& call) {
  call.finished = true;
  result_.ticksSkipped += call.pacer.skippedTicks();  // 0 once endCall() cancelled it
  for (Timer* t : {&call.startDelay, &call.pacer, &call.hold, &call.drain, &call.setupTimeout, &call.answerTimer,
                   &call.byeTimeout})
    t->cancel();
  if (call.mediaRunning) {
    result_.toGenesys.packetsSent += call.toGenesysSender->count();
    result_.toBrowser.packetsSent += call.toBrowserSender->count();
    result_.toGenesys.jitterMs.push_back(static_cast<float>(call.toGenesysReceiver->jitterMs()));
    result_.toBrowser.jitterMs.push_back(static_cast<float>(call.toBrowserReceiver->jitterMs()));
  }
  call.mediaRunning = false;
  if (call.leg) call.browserRttMs = call.leg->stats().rttMs;
  if (call.browserRttMs) result_.browserRttMs.push_back(*call.browserRttMs);
  if (auto rtt = call.genesysRtcp.rttMs()) result_.genesysRttMs.push_back(*rtt);
  result_.unexpectedPackets += call.unexpectedPackets;
  const bool failed = !call.failure.empty();
  agents_[static_cast<size_t>(call.agent - 1)]->abandon(call);
  if (failed) {
    // Keep the BYE of a failed call apart from a hangup: its dialog may still be half set up.
  }
  genesys_->release(call, failed);
  auto it = calls_.find(call.agent);
  if (it != calls_.end() && it->second.get() == &call) {
    graveyard_.push_back(std::move(it->second));
    calls_.erase(it);
  }
  // Destroyed on a later loop turn: this may run inside a callback of the call's own leg or timers.
  loop_.post([this] { graveyard_.clear(); });
  if (failed) maybeOpenSteadyWindow();
  if (runEnded_ || (rampStopped_ && options_.maxCalls > 0)) maybeQuit();
}

void LoadRun::sample() {
  const auto now = Clock::now();
  const double dt = std::chrono::duration<double>(now - lastSample_).count();
  lastSample_ = now;
  if (!steadyOpen_ || steadyClosed_) return;
  int running = 0;
  for (auto& [agent, call] : calls_) running += call->mediaRunning && !call->hangingUp ? 1 : 0;
  result_.callSeconds += running * dt;
  result_.steadyS += dt;
  if (options_.cpuOfPid != 0) {
    auto s = sampleProcess(options_.cpuOfPid);
    if (s.ok) result_.rssKbPeak = std::max(result_.rssKbPeak, s.rssKb);
  }
}

void LoadRun::closeSteadyWindow() {
  if (!steadyOpen_ || steadyClosed_) return;
  sample();
  steadyClosed_ = true;
  if (options_.cpuOfPid != 0) {
    auto s = sampleProcess(options_.cpuOfPid);
    if (s.ok) result_.targetCpuS = s.cpuS - steadyStart_.cpuS;
  }
}

void LoadRun::endRun() {
  if (runEnded_) return;
  runEnded_ = true;
  rampStopped_ = true;
  log::get(log::Component::Core)->info("load: --duration reached; ending {} calls", calls_.size());
  ramp_.cancel();
  closeSteadyWindow();
  std::vector<LoadCall*> live;
  for (auto& [agent, call] : calls_) live.push_back(call.get());
  // Calls still in setup finish it (or fail by their setup timeout) and are then ended at once (progress()).
  for (LoadCall* c : live)
    if (c->established) endCall(*c);
  // Bounded: calls whose BYE is never answered are failed by their byeTimeout.
  endGrace_ = Timer(loop_, std::chrono::milliseconds(options_.setupTimeoutMs) + kDrainMax + kByeTimeout + std::chrono::seconds(2), [this] {
    loop_.quit();
    return false;
  });
  maybeQuit();
}

void LoadRun::maybeQuit() {
  if (!calls_.empty()) return;
  if (!runEnded_) {
    if (!(rampStopped_ && options_.maxCalls > 0)) return;
    runEnded_ = true;
    closeSteadyWindow();
  }
  sampler_.cancel();
  durationTimer_.cancel();
  log::get(log::Component::Core)->info("load: all calls ended ({} attempted, {} established)", result_.attempted,
                                       result_.established);
  // Give the last BYEs' 200s and leg closes a loop turn, then stop.
  endGrace_ = Timer(loop_, std::chrono::milliseconds(50), [this] {
    loop_.quit();
    return false;
  });
}

}  // namespace rtcgate::load

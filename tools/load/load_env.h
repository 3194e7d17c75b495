// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "load_call.h"
#include "load_options.h"
#include "media_flow.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/media/browser_leg.h"

namespace rtcgate::load {

class WssClient;

// What the two sides report to the run that owns the calls (LoadRun). Thread: the generator's loop.
class CallHooks {
public:
  virtual ~CallHooks() = default;
  // The call agent `agent` is in, or nullptr.
  virtual LoadCall* callOfAgent(int agent) = 0;
  // The agent a Genesys-side user part (dialled number or DN) stands for, 0 for none.
  virtual int agentOfUser(const std::string& user) = 0;
  virtual void progress(LoadCall& call) = 0;  // one of the call's progress flags was set
  virtual void fail(LoadCall& call, const std::string& reason) = 0;
  virtual void hungUp(LoadCall& call) = 0;    // our BYE was answered: the call is over
  virtual void agentRegistered(int agent, bool ok, const std::string& why) = 0;
  // A re-REGISTER of a registered agent was answered 2xx (ok) or failed (`why`: register_<code>, ...).
  virtual void registrationRefreshed(int agent, bool ok, const std::string& why) = 0;
  virtual void dnRegistered(const std::string& dn) = 0;
  virtual DirectionTotals& toGenesys() = 0;
  virtual DirectionTotals& toBrowser() = 0;
};

// Shared by the browser agents and the Genesys side. Thread: the generator's loop.
struct LoadEnv {
  EventLoop& loop;
  const LoadOptions& options;
  media::MediaContext media;
  WssClient& wss;
  CallHooks& hooks;
  const EncodedTone& opusTone;
  const EncodedTone& pcmuTone;
  const EncodedTone& pcmaTone;
  const EncodedTone& toneOf(codec::CodecId id) const {
    return id == codec::CodecId::Opus ? opusTone : id == codec::CodecId::Pcma ? pcmaTone : pcmuTone;
  }
};

}  // namespace rtcgate::load

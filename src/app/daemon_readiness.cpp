// SPDX-License-Identifier: Apache-2.0
// /readyz: what keeps the gateway from taking calls, one line per failing condition (docs/metrics.md, "Readiness").
#include <fmt/format.h>

#include "drain.h"
#include "rtcgate/app/daemon.h"
#include "rtcgate/signaling/wss_server.h"
#include "rtcgate/sip/dn_health.h"
#include "rtcgate/sip/sip_stack.h"

namespace rtcgate::app {

std::vector<std::string> Daemon::notReadyReasons() const {
  std::vector<std::string> why;
  if (stopping_) why.emplace_back("shutting down");
  if (drain_ && drain_->progress().active) why.emplace_back("draining: new calls and registrations are refused");
  const auto cfg = store_.current();
  if (!cfg->listeners.wss.empty() && !wss_) why.emplace_back("WSS listener not started");
  if (!sip_ || !sip_->ready()) {
    why.emplace_back("SIP listener toward the upstream not bound yet");
    return why;  // nothing below is known before SIP runs
  }
  // Without OPTIONS pings nothing tells whether a server answers: the condition is left out (documented).
  if (cfg->upstream.optionsPingIntervalMs != 0 && !cfg->upstream.servers.empty()) {
    const auto state = sip_->upstreamState();
    if (state != sip::UpstreamState::Up)
      why.push_back(fmt::format("no upstream server answers OPTIONS ({} configured, {})", cfg->upstream.servers.size(),
                                state == sip::UpstreamState::Down ? "all down" : "none answered yet"));
  }
  if (auto dn = sip::dnHealthProblem(sip::dnHealth(sip_->registrations()), cfg->upstream.readyMaxFailedDnPercent);
      !dn.empty())
    why.push_back(std::move(dn));
  return why;
}

}  // namespace rtcgate::app

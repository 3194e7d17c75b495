// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <memory>

#include "rtcgate/config/config_store.h"
#include "rtcgate/session/session.h"
#include "rtcgate/signaling/registrar.h"

namespace rtcgate::session {

// All calls of the gateway: routes browser INVITEs and Genesys INVITEs to new Sessions, applies admission limits
// (security.max_calls → 503) and ends every call on shutdown. Thread: control.
class SessionManager final : public sip::UpstreamCallHandler {
public:
  SessionManager(SessionDeps deps, const config::ConfigStore& config, signaling::Registrar& registrar,
                 Metrics& metrics);
  ~SessionManager() override;

  void onBrowserInvite(std::shared_ptr<signaling::BrowserDialog> dialog);
  void onIncomingCall(std::shared_ptr<sip::UpstreamCall> call) override;

  size_t size() const { return sessions_.size(); }
  // Ends every call (BYE/CANCEL on both legs); `done` runs once none is left.
  void terminateAll(std::function<void()> done);

  // Admin API (issue 13). Snapshots of every call, or of the call `id` (empty vector: none), delivered to `done`
  // on the control loop once each call's media worker answered.
  void snapshot(const std::string& id, std::function<void(std::vector<CallSnapshot>)> done) const;
  // BYE/CANCEL both legs of call `id`, `reason` logged. False: no such call.
  bool hangup(const std::string& id, const std::string& reason);
  // Drain: new INVITEs from either side get 503 + Retry-After; calls in progress go on.
  void setDraining(bool on) { draining_ = on; }
  bool draining() const { return draining_; }
  // Calls in progress of the agent whose DN is `dn`.
  size_t callsOfDn(const std::string& dn) const;

private:
  // security.max_calls, then security.max_pending_media_sessions; each refusal counted. Both answer 503.
  bool admit();
  // security.max_calls_per_agent: true while the agent of `dn` may take (or make) one more call.
  bool admitForAgent(const std::string& dn);
  std::shared_ptr<Session> add(Session::Direction direction);
  // security.destinations of the configuration in force, counted in rtcgate_calls_refused_destination_total.
  DestinationVerdict checkAgentDestination(std::string_view user, std::string_view host);

  SessionDeps deps_;
  const config::ConfigStore& config_;
  signaling::Registrar& registrar_;
  std::map<Session*, std::shared_ptr<Session>> sessions_;
  std::function<void()> drained_;
  bool draining_ = false;
  std::atomic<uint64_t>& callsTotal_;
  std::atomic<uint64_t>& refusedTotal_;
  std::atomic<uint64_t>& pendingRefusedTotal_;
  std::atomic<uint64_t>& agentBusyTotal_;
  std::atomic<uint64_t>& destinationRefusedTotal_;
};

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/session_manager.h"

#include "rtcgate/core/log.h"
#include "rtcgate/session/call_metrics.h"
#include "rtcgate/media/browser_leg.h"

namespace rtcgate::session {
namespace {
spdlog::logger* lg() { return log::get(log::Component::Session); }
}  // namespace

SessionManager::SessionManager(SessionDeps deps, const config::ConfigStore& config, signaling::Registrar& registrar,
                               Metrics& metrics)
    : deps_(std::move(deps)),
      config_(config),
      registrar_(registrar),
      callsTotal_(metrics.counter("rtcgate_calls_total", "Calls admitted (both directions)")),
      refusedTotal_(metrics.counter("rtcgate_calls_refused_total", "Calls refused by security.max_calls (503)")),
      pendingRefusedTotal_(metrics.counter("rtcgate_calls_refused_pending_total",
                                           "Calls refused by security.max_pending_media_sessions (503)")),
      agentBusyTotal_(metrics.counter("rtcgate_calls_refused_agent_busy_total",
                                      "Calls refused by security.max_calls_per_agent (486)")),
      destinationRefusedTotal_(metrics.counter("rtcgate_calls_refused_destination_total",
                                               "Agent calls and transfers refused by security.destinations (403)")) {
  // Attended transfers name the agent's other call by its browser dialog: a scan of the calls (REFERs are rare).
  deps_.findByBrowserDialog = [this](const std::string& callId, const std::string& tag1,
                                     const std::string& tag2) -> std::shared_ptr<Session> {
    for (const auto& [p, s] : sessions_)
      if (s->hasBrowserDialog(callId, tag1, tag2)) return s;
    return nullptr;
  };
  deps_.checkDestination = [this](std::string_view user, std::string_view host) {
    return checkAgentDestination(user, host);
  };
  registerCallMetrics(metrics);
  metrics.gauge("rtcgate_calls_active", "Calls in progress", [this] { return static_cast<double>(sessions_.size()); });
  metrics.gauge("rtcgate_browser_legs_live", "Browser media legs (ICE agent, DTLS, SRTP) alive in the process",
                [] { return static_cast<double>(media::BrowserLeg::liveCount()); });
}

SessionManager::~SessionManager() {
  for (auto& [p, s] : sessions_) s->terminate("gateway stopping");
}

void SessionManager::snapshot(const std::string& id, std::function<void(std::vector<CallSnapshot>)> done) const {
  struct Gather {
    std::vector<CallSnapshot> calls;
    size_t waiting = 0;
    std::function<void(std::vector<CallSnapshot>)> done;
  };
  auto g = std::make_shared<Gather>();
  g->done = std::move(done);
  std::vector<std::shared_ptr<Session>> chosen;
  for (const auto& [p, s] : sessions_)
    if (id.empty() || s->id() == id) chosen.push_back(s);
  if (chosen.empty()) {
    deps_.control.post([g] { g->done({}); });
    return;
  }
  g->waiting = chosen.size();
  for (auto& s : chosen)
    s->snapshot([g](CallSnapshot c) {
      g->calls.push_back(std::move(c));
      if (--g->waiting == 0) g->done(std::move(g->calls));
    });
}

size_t SessionManager::callsOfDn(const std::string& dn) const {
  size_t n = 0;
  for (const auto& [p, s] : sessions_) n += s->dn() == dn ? 1 : 0;
  return n;
}

bool SessionManager::hangup(const std::string& id, const std::string& reason) {
  for (const auto& [p, s] : sessions_) {
    if (s->id() != id) continue;
    // terminate() may end the call at once and erase it from sessions_: keep it alive past the loop.
    auto keep = s;
    keep->terminate("hung up through the admin API: " + reason);
    return true;
  }
  return false;
}

bool SessionManager::admitForAgent(const std::string& dn) {
  // Several calls per agent are normal with Genesys (a held call and a consultation call on one DN, a transfer's
  // new dialog), but a DN is one person: bounded, so a loop or a flood toward one DN cannot take every call slot.
  if (callsOfDn(dn) < config_.current()->security.maxCallsPerAgent) return true;
  agentBusyTotal_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

DestinationVerdict SessionManager::checkAgentDestination(std::string_view user, std::string_view host) {
  const DestinationVerdict v = checkDestination(*config_.current(), user, host);
  if (v != DestinationVerdict::Allowed) destinationRefusedTotal_.fetch_add(1, std::memory_order_relaxed);
  return v;
}

bool SessionManager::admit() {
  const auto& security = config_.current()->security;
  if (sessions_.size() >= security.maxCalls) {
    refusedTotal_.fetch_add(1, std::memory_order_relaxed);
    lg()->warn("call refused (503): security.max_calls ({}) reached", security.maxCalls);
    return false;
  }
  // Half-open calls (offers whose ICE/DTLS never completes, INVITEs nobody answers) each hold ports, a DTLS context
  // and timers until their deadline: capped apart from max_calls so that a flood of them cannot take every slot.
  // A scan: bounded by max_calls, and only on a new INVITE.
  size_t pending = 0;
  for (const auto& [p, s] : sessions_) pending += s->pendingMedia() ? 1 : 0;
  if (pending < security.pendingCap()) return true;
  pendingRefusedTotal_.fetch_add(1, std::memory_order_relaxed);
  lg()->warn("call refused (503): security.max_pending_media_sessions ({}) calls are still being set up",
             security.pendingCap());
  return false;
}

std::shared_ptr<Session> SessionManager::add(Session::Direction direction) {
  auto s = std::make_shared<Session>(deps_, config_.current(), direction, [this](Session& done) {
    sessions_.erase(&done);
    if (sessions_.empty() && drained_) std::exchange(drained_, nullptr)();
  });
  sessions_[s.get()] = s;
  callsTotal_.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void SessionManager::onBrowserInvite(std::shared_ptr<signaling::BrowserDialog> dialog) {
  log::CallScope scope(dialog->callId());
  const auto cfg = config_.current();
  std::string dn;
  for (const auto& a : cfg->agents)
    if (a.user == dialog->agent()) dn = a.dn;
  // An agent_tokens agent is in no list: its DN is the one its token gave at REGISTER.
  if (dn.empty() && cfg->agentTokens.enabled())
    for (const auto& r : registrar_.lookup(dialog->agent()))
      if (r.byToken) dn = r.dn;
  if (dn.empty()) {
    dialog->respond(403, "Forbidden");
    return;
  }
  // The destination policy (architecture: before anything is sent upstream); REFER targets pass the same one.
  if (auto v = checkAgentDestination(dialog->target(), dialog->targetHost()); v != DestinationVerdict::Allowed) {
    lg()->warn("call from agent {} to '{}@{}' refused (403): {}", dialog->agent(), log::escaped(dialog->target()),
               log::escaped(dialog->targetHost()), refusalDescription(v));
    dialog->respond(403, refusalPhrase(v));
    return;
  }
  if (drained_ || draining_ || !admit()) {
    if (drained_ || draining_) lg()->warn("call from agent {} refused: the gateway is stopping", dialog->agent());
    dialog->respond(503, "Service Unavailable");
    return;
  }
  if (!admitForAgent(dn)) {
    lg()->warn("call from agent {} refused: security.max_calls_per_agent ({}) reached", dialog->agent(),
               cfg->security.maxCallsPerAgent);
    dialog->respond(486, "Busy Here");
    return;
  }
  add(Session::Direction::FromAgent)->startFromAgent(std::move(dialog), dn);
}

void SessionManager::onIncomingCall(std::shared_ptr<sip::UpstreamCall> call) {
  log::CallScope scope(call->callId());
  // A drain refuses before the agent is looked up: 503 + Retry-After tells Genesys to try another node, a 480
  // would mark the agent away.
  if (draining_) {
    lg()->warn("call to DN {} refused (503): the gateway is draining", log::escaped(call->dn()));
    call->reject(503, "Service Unavailable");
    return;
  }
  const auto cfg = config_.current();
  std::optional<signaling::Registration> target;
  for (const auto& a : cfg->agents) {
    if (a.dn != call->dn()) continue;
    auto regs = registrar_.lookup(a.user);
    // The most recent binding is the browser the agent uses now (a reload or a reconnect makes a new one).
    for (const auto& r : regs)
      if (!target || r.expiresAt > target->expiresAt) target = r;
  }
  if (!target && cfg->agentTokens.enabled())
    for (const auto& r : registrar_.all())
      if (r.byToken && r.dn == call->dn() && (!target || r.expiresAt > target->expiresAt)) target = r;
  if (!target) {
    call->reject(480, "Temporarily Unavailable");
    return;
  }
  if (drained_ || draining_ || !admit()) {
    if (drained_ || draining_) lg()->warn("call to DN {} refused: the gateway is stopping", call->dn());
    call->reject(503, "Service Unavailable");
    return;
  }
  if (!admitForAgent(call->dn())) {
    lg()->warn("call to DN {} refused: security.max_calls_per_agent ({}) reached", call->dn(),
               cfg->security.maxCallsPerAgent);
    call->reject(486, "Busy Here");
    return;
  }
  add(Session::Direction::ToAgent)->startToAgent(std::move(call), *target);
}

void SessionManager::terminateAll(std::function<void()> done) {
  if (sessions_.empty()) {
    done();
    return;
  }
  drained_ = std::move(done);
  auto copy = sessions_;
  for (auto& [p, s] : copy) s->terminate("gateway stopping");
}

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
// The browser leg's reconnect grace: a confirmed dialog outlives its WebSocket connection for
// calls.browser_reconnect_grace_ms, and the agent's reconnected browser (JsSIP keeps its RTCSession and its media
// through a connection drop, reconnects and re-registers) picks it up on the new connection.
#include "rtcgate/core/log.h"
#include "rtcgate/signaling/browser_dialogs.h"

namespace rtcgate::signaling {
namespace {

// Requests toward a browser that may wait for it to reconnect (INFO DTMF and remote-control events, the BYE):
// a handful per call in practice; beyond that they are dropped and counted.
constexpr size_t kMaxParked = 8;

// The JsSIP UA behind a Contact: its URI's user and host. JsSIP adds ";ob" to the Contact of its INVITEs but not
// to that of its REGISTERs, and keeps both for the UA's whole life (a page reload makes a new one).
std::string_view uaIdentity(std::string_view uri) {
  if (!uri.empty() && uri.front() == '<') uri.remove_prefix(1);
  auto end = uri.find_first_of(";?>");
  return uri.substr(0, end);
}

std::string_view methodOf(const std::string& request) { return std::string_view(request).substr(0, request.find(' ')); }

}  // namespace

void BrowserDialog::holdAgent(bool hold) {
  if (holdsAgent_ == hold) return;
  holdsAgent_ = hold;
  owner_.agentWaiting(agent_, hold);
}

void BrowserDialog::dropParked(std::string_view why) {
  if (parked_.empty()) return;
  owner_.parkedDropped_.fetch_add(parked_.size(), std::memory_order_relaxed);
  std::string methods;
  for (const auto& r : parked_) methods.append(methods.empty() ? "" : ", ").append(methodOf(r));
  log::get(log::Component::Wss)->warn("{} request(s) for the browser dropped ({}): {}", parked_.size(), why, methods);
  parked_.clear();
}

void BrowserDialog::detach(std::chrono::milliseconds grace) {
  log::CallScope scope(callId_);
  detached_ = true;
  detachedAt_ = std::chrono::steady_clock::now();
  holdAgent(true);
  owner_.detachedTotal_.fetch_add(1, std::memory_order_relaxed);
  log::get(log::Component::Wss)
      ->info("agent {}'s connection {} closed with the call up: waiting {} ms for its browser to reconnect "
             "(the Genesys leg and the media stay up)",
             agent_, connection_, grace.count());
  std::weak_ptr<BrowserDialog> weak = shared_from_this();
  graceTimer_ = Timer(owner_.loop_, grace, [weak, &loop = owner_.loop_] {
    // Posted: the expiry ends the dialog, which cancels this timer; never inside its own callback.
    loop.post([weak] {
      if (auto self = weak.lock()) self->graceExpired();
    });
    return false;
  });
}

void BrowserDialog::graceExpired() {
  log::CallScope scope(callId_);
  if (lingering_) {
    lingering_ = false;
    dropParked("the agent's browser did not reconnect");
    owner_.forget(*this);
    return;
  }
  if (terminated_ || !detached_) return;
  owner_.graceExpiredTotal_.fetch_add(1, std::memory_order_relaxed);
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - detachedAt_);
  log::get(log::Component::Wss)->warn("agent {}'s browser did not reconnect within {} ms: ending the call", agent_,
                                      waited.count());
  terminate("the agent's browser did not reconnect within " + std::to_string(waited.count()) + " ms");
}

void BrowserDialog::rebind(ConnectionId connection, std::string_view how) {
  if (connection == connection_ && !detached_) return;
  log::CallScope scope(callId_);
  auto* lg = log::get(log::Component::Wss);
  const ConnectionId old = connection_;
  connection_ = connection;
  if (detached_) {
    detached_ = false;
    graceTimer_.cancel();  // never called from the grace timer itself (its expiry is posted)
    holdAgent(false);
    owner_.resumedTotal_.fetch_add(1, std::memory_order_relaxed);
    auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - detachedAt_);
    lg->info("agent {}'s browser is back on connection {} ({}) {} ms after connection {} closed: {}, {} waiting "
             "request(s) sent",
             agent_, connection, how, gap.count(), old, lingering_ ? "delivering the BYE" : "call resumed",
             parked_.size());
  } else {
    lg->info("agent {}'s dialog moves from connection {} to {} ({})", agent_, old, connection, how);
  }
  for (auto& request : parked_) owner_.transport_.send(connection_, std::move(request));
  parked_.clear();
  if (lingering_) {
    lingering_ = false;
    graceTimer_.cancel();
    owner_.forget(*this);
  }
}

bool BrowserDialog::sendOrPark(std::string request, std::string_view method) {
  if (!detached_) return owner_.transport_.send(connection_, std::move(request));
  auto* lg = log::get(log::Component::Wss);
  if (parked_.size() >= kMaxParked) {
    owner_.parkedDropped_.fetch_add(1, std::memory_order_relaxed);
    lg->warn("{} for the browser dropped: its connection is gone and {} requests already wait for it", method,
             parked_.size());
    return false;
  }
  parked_.push_back(std::move(request));
  lg->info("{} for the browser waits for it to reconnect ({} waiting)", method, parked_.size());
  return true;
}

void BrowserDialogs::agentWaiting(const std::string& agent, bool waiting) {
  int& n = detachedByAgent_[agent];
  n += waiting ? 1 : -1;
  const bool edge = waiting ? n == 1 : n == 0;
  if (n <= 0) detachedByAgent_.erase(agent);
  if (edge && graceListener_) graceListener_(agent, waiting);
}

bool BrowserDialogs::acceptFromConnection(BrowserDialog& d, ConnectionId connection, const std::string& agent,
                                          const std::string& method) {
  // Only a dialog whose connection is gone moves: while it lives, another tab of the same agent has no business in
  // it, and the same UA coming back over a half-open socket re-registers first (agentRegistered moves it then).
  if (d.detached_ && !agent.empty() && agent == d.agent_) {
    d.rebind(connection, "in-dialog " + method);
    return true;
  }
  if (method != "ACK") {
    foreignConnection_.fetch_add(1, std::memory_order_relaxed);
    log::get(log::Component::Wss)
        ->warn("in-dialog {} on connection {} refused with 403: the dialog is agent {}'s on connection {}, this "
               "connection is {}",
               log::escaped(method), connection, d.agent_, d.connection_,
               agent.empty() ? std::string("not authenticated") : "agent " + log::escaped(agent));
  }
  return false;
}

void BrowserDialogs::connectionClosed(ConnectionId connection) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  std::vector<std::shared_ptr<BrowserDialog>> gone;
  for (auto& [key, d] : dialogs_)
    if (d->connection_ == connection && !d->terminated_) gone.push_back(d);
  for (auto& d : gone) {
    // Only an answered call survives: JsSIP fails the transactions in flight when its socket drops, so a ringing
    // or calling dialog is over on its side.
    if (reconnectGrace_.count() > 0 && d->state_ == BrowserDialog::State::Confirmed && !d->detached_)
      d->detach(reconnectGrace_);
    else
      d->terminate("connection closed");
  }
}

void BrowserDialogs::agentRegistered(const Registration& r) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  std::vector<std::shared_ptr<BrowserDialog>> back, other;
  for (auto& [key, d] : dialogs_) {
    if (d->agent_ != r.user || d->connection_ == r.connection) continue;
    if (d->terminated_ ? !d->lingering_ : d->state_ != BrowserDialog::State::Confirmed) continue;
    auto ua = uaIdentity(d->remoteTarget_);
    if (!ua.empty() && ua == uaIdentity(r.contactUri)) back.push_back(d);
    else if (d->detached_ && !d->terminated_) other.push_back(d);
  }
  for (auto& d : back) d->rebind(r.connection, "registered again with the same Contact");
  for (auto& d : other) {
    log::CallScope scope(d->callId_);
    log::get(log::Component::Wss)
        ->info("agent {} registered another browser on connection {} while the call waits for its old one",
               r.user, r.connection);
    // A copy: the handler may replace the dialog's events.
    auto handler = d->events_.onAgentNewBrowser;
    if (handler) handler(r);
  }
}

}  // namespace rtcgate::signaling

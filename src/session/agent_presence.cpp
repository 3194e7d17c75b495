// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/agent_presence.h"

#include "rtcgate/core/log.h"

namespace rtcgate::session {

AgentPresence::AgentPresence(signaling::Registrar& registrar, DnAction registerDn, DnAction unregisterDn)
    : registrar_(registrar), registerDn_(std::move(registerDn)), unregisterDn_(std::move(unregisterDn)) {
  signaling::Registrar::Listener l;
  l.registered = [this](const signaling::Registration& r) {
    if (r.dn.empty()) return;
    if (bindings_[r.dn]++ == 0) {
      log::get(log::Component::Session)->info("agent {} online: registering DN {} upstream", r.user, r.dn);
      registerDn_(r.dn);
    }
  };
  l.unregistered = [this](const signaling::Registration& r, signaling::Registrar::Reason why) {
    auto it = bindings_.find(r.dn);
    if (it == bindings_.end()) return;
    if (--it->second > 0) return;
    bindings_.erase(it);
    log::get(log::Component::Session)
        ->info("agent {} offline ({}): unregistering DN {} upstream", r.user, signaling::toString(why), r.dn);
    unregisterDn_(r.dn);
  };
  listener_ = registrar_.addListener(std::move(l));
}

AgentPresence::~AgentPresence() { registrar_.removeListener(listener_); }

}  // namespace rtcgate::session

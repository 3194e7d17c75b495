// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/agent_presence.h"

#include "rtcgate/core/log.h"

namespace rtcgate::session {

AgentPresence::AgentPresence(signaling::Registrar& registrar, DnAction registerDn, DnAction unregisterDn)
    : registrar_(registrar), registerDn_(std::move(registerDn)), unregisterDn_(std::move(unregisterDn)) {
  signaling::Registrar::Listener l;
  l.registered = [this](const signaling::Registration& r) {
    if (r.dn.empty()) return;
    dnOfUser_[r.user] = r.dn;
    Dn& d = dns_[r.dn];
    const bool upstream = d.bindings > 0 || d.keeps > 0 || d.replacing;
    d.replacing = false;
    if (d.bindings++ == 0 && !upstream) {
      log::get(log::Component::Session)->info("agent {} online: registering DN {} upstream", r.user, r.dn);
      registerDn_(r.dn);
    }
  };
  l.unregistered = [this](const signaling::Registration& r, signaling::Registrar::Reason why) {
    auto it = dns_.find(r.dn);
    if (it == dns_.end()) return;
    if (--it->second.bindings > 0) return;
    if (why == signaling::Registrar::Reason::Replaced) {
      // The browser registered again on a new connection before its old one was seen closed (a reconnect over a
      // half-open socket): the new binding follows at once, and the DN must not flap upstream meanwhile.
      it->second.replacing = true;
      return;
    }
    if (it->second.keeps > 0) {
      log::get(log::Component::Session)
          ->info("agent {} offline ({}), but a call waits for its browser to reconnect: DN {} stays registered",
                 r.user, signaling::toString(why), r.dn);
      return;
    }
    releaseIfUnused(r.dn, r.user, signaling::toString(why));
  };
  listener_ = registrar_.addListener(std::move(l));
}

AgentPresence::~AgentPresence() { registrar_.removeListener(listener_); }

void AgentPresence::keepForReconnect(const std::string& user, bool keep) {
  auto u = dnOfUser_.find(user);
  if (u == dnOfUser_.end()) return;  // never registered: no DN of its is registered upstream either
  auto it = dns_.find(u->second);
  if (keep) {
    if (it != dns_.end()) ++it->second.keeps;  // a DN not registered now is not registered for the call
    return;
  }
  if (it == dns_.end() || it->second.keeps == 0) return;
  --it->second.keeps;
  releaseIfUnused(u->second, user, "its call no longer waits for a reconnect");
}

void AgentPresence::releaseIfUnused(const std::string& dn, const std::string& user, const char* why) {
  auto it = dns_.find(dn);
  if (it == dns_.end() || it->second.bindings > 0 || it->second.keeps > 0) return;
  dns_.erase(it);
  log::get(log::Component::Session)->info("agent {} offline ({}): unregistering DN {} upstream", user, why, dn);
  unregisterDn_(dn);
}

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <map>
#include <string>

#include "rtcgate/signaling/registrar.h"

namespace rtcgate::session {

// Keeps each agent's DN registered at Genesys exactly while at least one browser of that agent is registered
// over WSS (several tabs or a reconnect overlap count once), or a call of the agent waits for its browser to
// reconnect (calls.browser_reconnect_grace_ms). Thread: control.
class AgentPresence {
public:
  using DnAction = std::function<void(const std::string& dn)>;
  AgentPresence(signaling::Registrar& registrar, DnAction registerDn, DnAction unregisterDn);
  ~AgentPresence();
  AgentPresence(const AgentPresence&) = delete;
  AgentPresence& operator=(const AgentPresence&) = delete;

  bool present(const std::string& dn) const { return dns_.count(dn) != 0; }
  // A call of `user` waits for the agent's browser to reconnect (true) or no longer does (false): its DN stays
  // registered meanwhile even with no browser binding. Counted: one true per false.
  void keepForReconnect(const std::string& user, bool keep);

private:
  struct Dn {
    int bindings = 0;  // browser bindings
    int keeps = 0;     // keepForReconnect
    bool replacing = false;  // its last binding was just replaced: Registrar::bind adds the new one right after
  };
  void releaseIfUnused(const std::string& dn, const std::string& user, const char* why);

  signaling::Registrar& registrar_;
  DnAction registerDn_;
  DnAction unregisterDn_;
  int listener_;
  std::map<std::string, Dn> dns_;                   // DN → what keeps it registered upstream
  std::map<std::string, std::string> dnOfUser_;     // learned from registrations
};

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <map>
#include <string>

#include "rtcgate/signaling/registrar.h"

namespace rtcgate::session {

// Keeps each agent's DN registered at Genesys exactly while at least one browser of that agent is registered
// over WSS (several tabs or a reconnect overlap count once). Thread: control.
class AgentPresence {
public:
  using DnAction = std::function<void(const std::string& dn)>;
  AgentPresence(signaling::Registrar& registrar, DnAction registerDn, DnAction unregisterDn);
  ~AgentPresence();
  AgentPresence(const AgentPresence&) = delete;
  AgentPresence& operator=(const AgentPresence&) = delete;

  bool present(const std::string& dn) const { return bindings_.count(dn) != 0; }

private:
  signaling::Registrar& registrar_;
  DnAction registerDn_;
  DnAction unregisterDn_;
  int listener_;
  std::map<std::string, int> bindings_;  // DN → browser bindings
};

}  // namespace rtcgate::session

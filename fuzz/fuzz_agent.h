// SPDX-License-Identifier: Apache-2.0
// The one agent the signaling targets authenticate: user 1001, password demo-1001, DN 5001.
#pragma once

#include "rtcgate/config/config.h"

namespace rtcgate::fuzz {

inline constexpr const char* kAgentUser = "1001";
inline constexpr const char* kAgentPassword = "demo-1001";

inline config::Config oneAgentConfig() {
  config::Config cfg;
  auto& agent = cfg.agents.emplace_back();
  agent.user = kAgentUser;
  agent.password = Secret(kAgentPassword);
  agent.dn = "5001";
  // Never blocked: a run's failed attempts must not turn every later input into the same 403.
  cfg.security.authFailuresPerMinute = 1000000;
  return cfg;
}

}  // namespace rtcgate::fuzz

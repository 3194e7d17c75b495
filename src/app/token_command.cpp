// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/app/token_command.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "rtcgate/config/config_loader.h"
#include "rtcgate/signaling/agent_jwt.h"

namespace rtcgate::app {
namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "rtcgate token: %s\nusage: rtcgate token --config FILE --user USER [--dn DN] [--ttl SECONDS]\n",
               what.c_str());
  return 2;
}

}  // namespace

int runTokenCommand(int argc, char** argv) {
  std::string configPath, user, dn;
  long ttl = -1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return fail(arg + " needs a value");
    std::string value = argv[++i];
    if (arg == "--config") configPath = value;
    else if (arg == "--user") user = value;
    else if (arg == "--dn") dn = value;
    else if (arg == "--ttl") {
      char* end = nullptr;
      ttl = std::strtol(value.c_str(), &end, 10);
      if (end == nullptr || *end != '\0' || ttl <= 0) return fail("--ttl must be a positive number of seconds");
    } else {
      return fail("unknown argument '" + arg + "'");
    }
  }
  if (configPath.empty() || user.empty()) return fail("--config and --user are required");
  config::Config cfg;
  try {
    cfg = config::loadFromFile(configPath);
  } catch (const config::ConfigError& e) {
    return fail(e.what());
  }
  if (!cfg.agentTokens.enabled()) return fail(configPath + " has no agent_tokens section");
  const long maxTtl = static_cast<long>(cfg.agentTokens.maxLifetimeS);
  if (ttl < 0) ttl = std::min(3600L, maxTtl);
  if (ttl > maxTtl) return fail("--ttl is above agent_tokens.max_lifetime_s (" + std::to_string(maxTtl) + ")");
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // aud: the first configured audience (any one of them would do; the first is the documented one).
  const auto& audience = cfg.agentTokens.audience;
  std::string token = signaling::makeAgentJwt(cfg.agentTokens.secret.reveal(), cfg.agentTokens.issuer, user, dn, now,
                                              now + ttl, audience.empty() ? std::string() : audience.front());
  // Checked with the daemon's own rules, so a user or DN it would refuse is reported here, not at REGISTER.
  signaling::AgentJwtPolicy policy{cfg.agentTokens.secret.reveal(), cfg.agentTokens.issuer,
                                   static_cast<int64_t>(cfg.agentTokens.maxLifetimeS)};
  policy.audience = audience;
  auto check = signaling::verifyAgentJwt(policy, token, now);
  if (check.reject != signaling::JwtReject::None)
    return fail(std::string("the token would be refused: ") + signaling::toString(check.reject) +
                " (user and dn must be SIP user tokens: letters, digits, -_.!~*'()+)");
  std::printf("%s\n", token.c_str());
  return 0;
}

}  // namespace rtcgate::app

// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace rtcgate::app {

// `rtcgate token --config FILE --user U [--dn D] [--ttl S]`: prints an agent JWT signed with the configuration's
// agent_tokens secret, its aud the first agent_tokens.audience value when one is set (for integrators and tests;
// docs/configuration.md "Agents at scale"). Exit 0, or 2 with a message on stderr (bad arguments, unusable
// configuration, no agent_tokens section, ttl above max_lifetime_s).
int runTokenCommand(int argc, char** argv);

}  // namespace rtcgate::app

// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace rtcgate::app {

// `rtcgate doctor --config FILE [--json] [--timeout-ms N]`: checks a deployment against its configuration (local
// addresses and candidate policy, port ranges, STUN, TURN, Genesys OPTIONS) and prints one fix per problem.
// argv[0] is "doctor". Exit code: 0 nothing wrong, 1 a problem found, 2 unusable configuration or arguments.
// Thread: the caller's; blocks for at most a few timeouts per configured server.
int runDoctor(int argc, char** argv);

}  // namespace rtcgate::app

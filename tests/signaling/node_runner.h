// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "rtcgate/core/event_loop.h"

namespace rtcgate::test {

// Runs `node <script> args...` (cwd tests/js so node_modules resolve) while pumping `loop` on this thread, so an
// in-process server keeps serving. Collects the script's "RESULT key=value" lines.
struct NodeRun {
  int exitCode = -1;  // -1: did not finish in time (killed)
  std::map<std::string, std::string> results;
  std::string output;  // stdout + stderr, for failure messages
};
NodeRun runNode(EventLoop& loop, const std::string& script, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace rtcgate::test

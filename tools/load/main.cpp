// SPDX-License-Identifier: Apache-2.0
// rtcgate-load: a load generator for rtcgate (tools/load/README.md). Browser agents over WSS with ICE/DTLS-SRTP and
// a Genesys side over SIP/UDP with plain RTP, both driven by rtcgate's own code, in one process on one loop thread.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "load_options.h"
#include "load_run.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/log.h"

int main(int argc, char** argv) {
  using namespace rtcgate::load;
  LoadOptions options;
  std::string error;
  if (!parseOptions(argc, argv, options, error)) {
    if (error != "help") std::cerr << "rtcgate-load: " << error << "\n";
    std::cerr << usageText();
    return error == "help" ? 0 : 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  // rtcgate's modules log per leg at info (ICE connected, DTLS connected): thousands of lines at 1,000 calls. The
  // generator's own phases stay at info (Core); per-call events are debug, shown with --verbose.
  rtcgate::log::Settings logSettings;
  logSettings.level = options.verbose ? spdlog::level::debug : spdlog::level::info;
  if (!options.verbose)
    for (int c = 0; c < static_cast<int>(rtcgate::log::Component::Count); ++c)
      if (static_cast<rtcgate::log::Component>(c) != rtcgate::log::Component::Core)
        logSettings.componentLevels[static_cast<rtcgate::log::Component>(c)] = spdlog::level::warn;
  rtcgate::log::init(logSettings);
  int code = 0;
  {
    rtcgate::EventLoop loop("load");
    LoadRun run(loop, options);
    code = run.run(error);
    if (code != 0) {
      std::cerr << "rtcgate-load: " << error << "\n";
      return code;
    }
    LoadResult& r = run.result();
    const std::string json = reportJson(r, options);
    if (!options.reportPath.empty()) {
      std::ofstream out(options.reportPath);
      out << json;
      if (!out) {
        std::cerr << "rtcgate-load: cannot write " << options.reportPath << "\n";
        return 1;
      }
    }
    std::cout << summaryText(r);
  }
  return code;
}

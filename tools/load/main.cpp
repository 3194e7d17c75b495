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
  // rtcgate's modules log per leg at info (ICE connected, DTLS connected): a load run wants warnings only.
  rtcgate::log::Settings logSettings;
  logSettings.level = spdlog::level::warn;
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

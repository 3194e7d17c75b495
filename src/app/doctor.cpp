// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/app/doctor.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "doctor_checks.h"
#include "rtcgate/config/config_loader.h"

namespace rtcgate::app {

namespace {

constexpr const char* kDoctorUsage =
    "usage: rtcgate doctor --config FILE [--json] [--timeout-ms N]\n"
    "  checks interfaces and candidate policy, port ranges, STUN, TURN and Genesys OPTIONS for FILE;\n"
    "  exit 0: nothing wrong, 1: problems found (each with a fix), 2: unusable configuration.\n"
    "  --timeout-ms: wait per server exchange, 100..30000, default 2000\n";

int usage(const std::string& what) {
  std::fprintf(stderr, "rtcgate doctor: %s\n%s", what.c_str(), kDoctorUsage);
  return 2;
}

}  // namespace

int runDoctor(int argc, char** argv) {
  std::string configPath;
  bool json = false;
  doctor::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kDoctorUsage, stdout);
      return 0;
    }
    if (arg == "--json") {
      json = true;
    } else if (arg == "--config" && i + 1 < argc) {
      configPath = argv[++i];
    } else if (arg == "--timeout-ms" && i + 1 < argc) {
      char* end = nullptr;
      long ms = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || ms < 100 || ms > 30000) return usage("--timeout-ms must be 100..30000");
      options.timeout = std::chrono::milliseconds(ms);
    } else {
      return usage("unknown or incomplete argument '" + arg + "'");
    }
  }
  if (configPath.empty()) return usage("--config FILE is required");

  config::Config cfg;
  try {
    cfg = config::loadFromFile(configPath);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "rtcgate doctor: invalid configuration: %s\n", e.what());
    return 2;
  }

  doctor::Report report;
  auto offered = doctor::checkInterfaces(cfg, media::listLocalAddresses(), report);
  doctor::checkPortRanges(cfg, offered, report);
  doctor::checkStunServers(cfg, offered, options, report);
  doctor::checkTurnServers(cfg, offered, options, report);
  doctor::checkUpstreamServers(cfg, options, report);

  std::fputs((json ? report.json() : report.text()).c_str(), stdout);
  return report.problems() == 0 ? 0 : 1;
}

}  // namespace rtcgate::app

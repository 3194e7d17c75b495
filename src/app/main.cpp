// SPDX-License-Identifier: Apache-2.0
// rtcgate: WebRTC (SIP over WSS, ICE, DTLS-SRTP, Opus) to SIP/RTP (G.711) gateway.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "rtcgate/app/daemon.h"
#include "rtcgate/app/doctor.h"
#include "rtcgate/app/token_command.h"
#include "rtcgate/app/version.h"
#include "rtcgate/config/config_loader.h"
#include "rtcgate/media/candidate_policy.h"
#include "rtcgate/media/srtp_session.h"

namespace {

constexpr const char* kUsage =
    "usage: rtcgate [--config FILE]        run in the foreground (no FILE: the embedded local demo config)\n"
    "       rtcgate --check-config FILE    check FILE (keys, certificate/key files, port ranges) as this user:\n"
    "                                      exit 0 valid (warnings, if any, on stderr), 2 invalid (every error\n"
    "                                      listed, FILE:LINE:COLUMN: key: problem)\n"
    "       rtcgate --print-default-config print the embedded default configuration\n"
    "       rtcgate doctor --config FILE [--json]  check the deployment (network, STUN, TURN, Genesys): exit\n"
    "                                      0 all good, 1 problems found (each with a fix), 2 unusable config\n"
    "       rtcgate token --config FILE --user USER [--dn DN] [--ttl SECONDS]  print an agent JWT (agent_tokens)\n"
    "       rtcgate --version\n";

int usageError(const char* what) {
  std::fprintf(stderr, "rtcgate: %s\n%s", what, kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rtcgate;
  if (argc >= 2 && std::strcmp(argv[1], "doctor") == 0) return app::runDoctor(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "token") == 0) return app::runTokenCommand(argc - 1, argv + 1);
  std::string configPath;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--version") {
      std::printf("rtcgate %s\n%s\n", app::kVersion, media::srtpLibraryDescription().c_str());
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--print-default-config") {
      std::fputs(config::embeddedDefaultYaml().c_str(), stdout);
      return 0;
    }
    if (arg == "--config" || arg == "--check-config") {
      if (i + 1 >= argc) return usageError((arg + " needs a file name").c_str());
      if (!configPath.empty()) return usageError("only one configuration file may be given");
      check = check || arg == "--check-config";
      configPath = argv[++i];
      continue;
    }
    return usageError(("unknown argument '" + arg + "'").c_str());
  }

  config::Config cfg;
  std::vector<std::string> warnings;
  try {
    cfg = configPath.empty() ? config::loadFromString(config::embeddedDefaultYaml(), "(embedded default)", &warnings)
                             : config::loadFromFile(configPath, &warnings);
  } catch (const config::ConfigError& e) {
    const auto errors = e.errors();
    if (errors.size() == 1) {
      std::fprintf(stderr, "rtcgate: invalid configuration: %s\n", e.what());
    } else {
      std::fprintf(stderr, "rtcgate: invalid configuration, %zu errors:\n", errors.size());
      for (auto& one : errors) std::fprintf(stderr, "  %s\n", one.what());
    }
    for (auto& w : warnings) std::fprintf(stderr, "rtcgate: warning: %s\n", w.c_str());
    return 2;
  }
  for (auto& w : warnings) std::fprintf(stderr, "rtcgate: warning: %s\n", w.c_str());
  if (check) {
    std::printf("%s: configuration is valid\n", configPath.c_str());
    // Issue 12: the effective candidate policy (built-in denials included) and what it offers on this host.
    std::printf("ice candidate policy:\n");
    for (auto& line : media::describeCandidateRules(cfg.ice.candidates)) std::printf("  %s\n", line.c_str());
    auto report = media::describeCandidatePolicy(cfg.ice.candidates, media::listLocalAddresses());
    std::printf("on this host:\n");
    for (auto& e : report.entries) std::printf("  %s\n", media::formatCandidatePolicyEntry(e).c_str());
    for (auto& w : report.warnings) std::printf("  warning: %s\n", w.c_str());
    return 0;
  }
  try {
    app::Daemon daemon(std::make_shared<const config::Config>(std::move(cfg)), configPath);
    return daemon.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rtcgate: fatal: %s\n", e.what());
    return 1;
  }
}

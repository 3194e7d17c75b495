// SPDX-License-Identifier: Apache-2.0
// Target (h): a config file's text through the YAML loader (yaml-cpp, then rtcgate's schema: unknown and duplicate
// keys, types, ranges, combinations), as --check-config and SIGHUP read it. ConfigError is the expected answer to
// bad input; any other exception escaping the loader would end the daemon on a reload, and fails here.
#include <string>

#include "fuzz_support.h"
#include "rtcgate/config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rtcgate::fuzz::silenceLogs();
  try {
    (void)rtcgate::config::loadFromString(std::string(rtcgate::fuzz::asText(data, size)), "fuzz.yaml");
  } catch (const rtcgate::config::ConfigError&) {
  }
  return 0;
}

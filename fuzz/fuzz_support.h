// SPDX-License-Identifier: Apache-2.0
// Shared by the fuzz targets: silence, and splitting one input into several messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "rtcgate/core/log.h"

namespace rtcgate::fuzz {

// Logging every rejected input would make the logger, not the parser, the thing being fuzzed (and flood CI).
inline void silenceLogs() {
  static const bool once = [] {
    log::Settings s;
    s.level = spdlog::level::off;
    for (int c = 0; c < static_cast<int>(log::Component::Count); ++c)
      s.componentLevels[static_cast<log::Component>(c)] = spdlog::level::off;
    log::init(s);
    return true;
  }();
  (void)once;
}

// Messages of a sequence (a REGISTER then an INVITE, an INVITE then its re-INVITE) are separated by this line, so a
// seed file is a plain SIP text or several of them; the fuzzer finds the separator in fuzz/dict/sip.dict.
inline constexpr std::string_view kFrameSeparator = "\n%%frame%%\n";

inline std::vector<std::string_view> splitFrames(std::string_view input, size_t maxFrames = 8) {
  std::vector<std::string_view> frames;
  while (frames.size() + 1 < maxFrames) {
    auto at = input.find(kFrameSeparator);
    if (at == std::string_view::npos) break;
    frames.push_back(input.substr(0, at));
    input.remove_prefix(at + kFrameSeparator.size());
  }
  frames.push_back(input);
  return frames;
}

inline std::string_view asText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace rtcgate::fuzz

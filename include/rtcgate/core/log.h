// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rtcgate::log {

// One spdlog logger per component, so levels are set per component and `[name]` says who spoke.
enum class Component { Core, Config, Wss, Sip, Ice, Dtls, Srtp, Rtp, Codec, Session, Admin, Sofia, Nice, Lws, Count };

const char* name(Component c);
std::optional<Component> parseComponent(std::string_view name);
std::optional<spdlog::level::level_enum> parseLevel(std::string_view name);

struct Settings {
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<Component, spdlog::level::level_enum> componentLevels;
  // "text" (human, one line per event) or "json" (one object per line, for log shippers).
  std::string format = "text";
  // Empty: stderr only.
  std::string file;
  bool operator==(const Settings&) const = default;
};

// Create or re-configure the loggers. Thread: control; safe to call again on reload (levels change in place).
void init(const Settings& settings);
// Replace sinks and format of the existing loggers. Not thread-safe against concurrent logging: tests only.
void reinitForTest(const Settings& settings);
// Never null; before init() it is a stderr logger with default settings.
spdlog::logger* get(Component c);

// Carries the call id onto every log line written by this thread while the scope lives (spdlog 1.10 has no MDC).
// Sessions open one around each callback that works for a call; loggers are synchronous so the thread-local is
// read on the thread that logs.
class CallScope {
public:
  explicit CallScope(std::string_view callId);
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

private:
  std::string previous_;
};
std::string_view currentCallId();

// One id per call on every line of both legs: a session registers the SIP Call-IDs of its browser and Genesys
// dialogs as aliases of its own id, and a CallScope opened with either Call-ID (by the WSS or SIP layer, which know
// only their message) logs the session's id instead. Thread: any (a mutex; scopes open per event, not per packet).
void aliasCallId(std::string_view sipCallId, std::string_view callId);
// Network-supplied text made safe for a log line: control bytes, DEL, backslash and non-ASCII bytes as \xNN (so
// neither a forged line nor a terminal escape can get through), cut at `max` bytes with "...".
std::string escaped(std::string_view text, size_t max = 200);
void unaliasCallId(std::string_view sipCallId);

}  // namespace rtcgate::log

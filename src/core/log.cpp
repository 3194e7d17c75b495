// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>

namespace rtcgate::log {
namespace {

constexpr std::array<const char*, static_cast<size_t>(Component::Count)> kNames = {
    "core", "config", "wss", "sip", "ice", "dtls", "srtp", "rtp", "codec", "session", "admin", "sofia", "nice", "lws"};

thread_local std::string tlsCallId;

// Text lines carry bytes from the network (Call-IDs, URIs, headers, library messages). Whatever a call site did,
// a control byte never reaches the line as is: CR/LF would forge log lines, ESC would drive the operator's
// terminal. They become \xNN here, for every logger and every third-party message (defence in depth behind
// log::escaped, which call sites use for values they know are foreign).
void appendTextEscaped(spdlog::memory_buf_t& dest, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
      dest.append(esc, esc + 4);
    } else {
      dest.push_back(ch);
    }
  }
}

// `%*` in the pattern: "call=<id> " when a CallScope is open on this thread, nothing otherwise.
class CallIdFlag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    if (tlsCallId.empty()) return;
    static constexpr std::string_view kPrefix = "call=";
    dest.append(kPrefix.data(), kPrefix.data() + kPrefix.size());
    appendTextEscaped(dest, tlsCallId);
    dest.push_back(' ');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<CallIdFlag>(); }
};

// `%V` in the text pattern: the message with control bytes escaped.
class TextMessageFlag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    appendTextEscaped(dest, std::string_view(msg.payload.data(), msg.payload.size()));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<TextMessageFlag>(); }
};

// JSON string escaping for the `%J` flag (the message) and call ids.
void appendJsonEscaped(spdlog::memory_buf_t& dest, std::string_view s) {
  for (char ch : s) {
    switch (ch) {
      case '"': dest.append(std::string_view("\\\"")); break;
      case '\\': dest.append(std::string_view("\\\\")); break;
      case '\n': dest.append(std::string_view("\\n")); break;
      case '\r': dest.append(std::string_view("\\r")); break;
      case '\t': dest.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          fmt::format_to(std::back_inserter(dest), "\\u{:04x}", static_cast<unsigned>(ch));
        } else {
          dest.push_back(ch);
        }
    }
  }
}

class JsonMessageFlag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    appendJsonEscaped(dest, std::string_view(msg.payload.data(), msg.payload.size()));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

class JsonCallFlag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    if (tlsCallId.empty()) return;
    dest.append(std::string_view(",\"call\":\""));
    appendJsonEscaped(dest, tlsCallId);
    dest.push_back('"');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonCallFlag>(); }
};

struct Registry {
  std::mutex mutex;
  std::vector<spdlog::sink_ptr> sinks;
  std::array<std::shared_ptr<spdlog::logger>, static_cast<size_t>(Component::Count)> loggers;
  std::string format;
  std::string file;
};

Registry& registry() {
  static Registry r;
  return r;
}

std::unique_ptr<spdlog::formatter> makeFormatter(const std::string& format) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  if (format == "json") {
    f->add_flag<JsonMessageFlag>('J').add_flag<JsonCallFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%e","level":"%l","thread":"%t","component":"%n"%*,"msg":"%J"})");
  } else {
    f->add_flag<CallIdFlag>('*').add_flag<TextMessageFlag>('V').set_pattern(
        "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] [%n] %*%V");
  }
  return f;
}

void buildSinks(Registry& r, const Settings& s) {
  r.sinks.clear();
  r.sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!s.file.empty()) r.sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(s.file));
  for (auto& sink : r.sinks) sink->set_formatter(makeFormatter(s.format));
  r.format = s.format;
  r.file = s.file;
}

}  // namespace

const char* name(Component c) { return kNames.at(static_cast<size_t>(c)); }

std::optional<Component> parseComponent(std::string_view n) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (n == kNames[i]) return static_cast<Component>(i);
  return std::nullopt;
}

std::optional<spdlog::level::level_enum> parseLevel(std::string_view n) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off}};
  for (auto& [k, v] : kLevels)
    if (n == k) return v;
  return std::nullopt;
}

void init(const Settings& s) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  // Sinks and format are fixed by the first init(): loggers handed out stay valid for the process lifetime, and
  // a reload only changes levels (config/rtcgate.yaml marks logging.format and logging.file "restart").
  if (r.sinks.empty()) buildSinks(r, s);
  for (size_t i = 0; i < r.loggers.size(); ++i) {
    auto c = static_cast<Component>(i);
    if (!r.loggers[i]) r.loggers[i] = std::make_shared<spdlog::logger>(kNames[i], r.sinks.begin(), r.sinks.end());
    auto it = s.componentLevels.find(c);
    r.loggers[i]->set_level(it != s.componentLevels.end() ? it->second : s.level);
    r.loggers[i]->flush_on(spdlog::level::warn);
  }
}

void reinitForTest(const Settings& s) {
  auto& r = registry();
  {
    std::lock_guard lock(r.mutex);
    buildSinks(r, s);
    for (auto& l : r.loggers)
      if (l) l->sinks() = r.sinks;
  }
  init(s);
}

spdlog::logger* get(Component c) {
  auto& r = registry();
  {
    std::lock_guard lock(r.mutex);
    if (auto& l = r.loggers.at(static_cast<size_t>(c))) return l.get();
  }
  init(Settings{});
  std::lock_guard lock(r.mutex);
  return r.loggers.at(static_cast<size_t>(c)).get();
}

namespace {
// SIP Call-IDs of both legs → the call's own id. Bounded by the number of live calls (sessions remove theirs).
struct Aliases {
  std::mutex mutex;
  std::map<std::string, std::string, std::less<>> byCallId;
  std::atomic<size_t> size{0};
};
Aliases& aliases() {
  static Aliases a;
  return a;
}
}  // namespace

void aliasCallId(std::string_view sipCallId, std::string_view callId) {
  if (sipCallId.empty() || sipCallId == callId) return;
  auto& a = aliases();
  std::lock_guard lock(a.mutex);
  a.byCallId.insert_or_assign(std::string(sipCallId), std::string(callId));
  a.size.store(a.byCallId.size(), std::memory_order_relaxed);
}

std::string escaped(std::string_view text, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max) + 8);
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

void unaliasCallId(std::string_view sipCallId) {
  auto& a = aliases();
  std::lock_guard lock(a.mutex);
  if (auto it = a.byCallId.find(sipCallId); it != a.byCallId.end()) a.byCallId.erase(it);
  a.size.store(a.byCallId.size(), std::memory_order_relaxed);
}

CallScope::CallScope(std::string_view callId) : previous_(std::move(tlsCallId)) {
  auto& a = aliases();
  if (!callId.empty() && a.size.load(std::memory_order_relaxed) != 0) {
    std::lock_guard lock(a.mutex);
    if (auto it = a.byCallId.find(callId); it != a.byCallId.end()) {
      tlsCallId = it->second;
      return;
    }
  }
  tlsCallId = callId;
}
CallScope::~CallScope() { tlsCallId = std::move(previous_); }
std::string_view currentCallId() { return tlsCallId; }

}  // namespace rtcgate::log

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "rtcgate/config/config_loader.h"

namespace rtcgate::config::detail {

bool isIpAddress(const std::string& s);

// rtcgate's own schema nests 4 levels deep; anything near this bound is hostile or broken (reliability-security.md
// §5 item 38). yaml-cpp's own guard (DepthGuard, 2,000 levels) still builds every level's node first.
inline constexpr int kMaxNestingDepth = 64;

// Walks the parser's events (aliases are not expanded, so an alias bomb costs its text, not its expansion) and
// throws ConfigError at the first collection opened deeper than kMaxNestingDepth, before any node is built.
// Lets YAML::Exception (syntax) through.
void checkNestingDepth(const std::string& yamlText, const std::string& sourceName);

// Collects errors so that a file's every error is reported, not only the first: each section, list item and
// check runs under guard(), which keeps its ConfigError (a collected one flattened) and goes on.
class ErrorList {
public:
  template <typename F>
  bool guard(F&& f) {
    try {
      f();
      return true;
    } catch (const ConfigError& e) {
      add(e);
      return false;
    }
  }
  void add(const ConfigError& e);
  bool empty() const { return errors_.empty(); }
  // Throws ConfigError::collected(...) when any error was kept.
  void throwIfAny() const;

private:
  std::vector<ConfigError> errors_;
};

// A YAML node together with its key path ("media.rtp_port_min", "agents[2].dn") and the source name, so every
// conversion failure becomes a ConfigError that names the key, the line and the column.
class Field {
public:
  Field(YAML::Node node, std::string path, std::string source)
      : node_(std::move(node)), path_(std::move(path)), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& message) const;

  std::string asString() const;
  bool asBool() const;
  uint32_t asUint(uint32_t min, uint32_t max) const;
  uint16_t asPort(bool allowZero) const;
  std::string asIpAddress() const;
  std::string asCidr() const;
  // A user name, DN or similar SIP token: 1..64 characters of RFC 3261 "unreserved".
  std::string asToken() const;
  std::vector<Field> asSequence() const;
  std::vector<std::pair<Field, Field>> asMap() const;

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const std::string& source() const { return source_; }

private:
  YAML::Node node_;
  std::string path_;
  std::string source_;
};

// Reads one YAML mapping key by key; finish() rejects every key nobody asked for, and duplicate keys are
// rejected up front (yaml-cpp keeps the first silently).
class MapReader {
public:
  explicit MapReader(const Field& map);
  std::optional<Field> optional(const std::string& key);
  Field required(const std::string& key);
  // A key that was removed: when present, fails at it with `why` (what to use instead) rather than "unknown key";
  // never listed among the known keys.
  void removed(const std::string& key, const std::string& why) const;
  void finish() const;

private:
  Field map_;
  std::vector<std::pair<Field, Field>> entries_;
  std::set<std::string> asked_;
};

}  // namespace rtcgate::config::detail

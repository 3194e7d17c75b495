// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>
#include <string>

#include "rtcgate/config/config.h"

namespace rtcgate::config {

// A configuration that cannot be used, with where it went wrong. line and column are 1-based; 0 when the
// problem has no place in the text (an unreadable file).
class ConfigError : public std::runtime_error {
public:
  ConfigError(std::string source, int line, int column, std::string key, std::string message);
  const std::string& source() const { return source_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& key() const { return key_; }
  const std::string& message() const { return message_; }

private:
  std::string source_;
  int line_;
  int column_;
  std::string key_;
  std::string message_;
};

// Parse and validate. Unknown keys, duplicate keys, wrong types, out-of-range values and inconsistent
// combinations are errors. Throws ConfigError.
Config loadFromString(const std::string& yamlText, const std::string& sourceName);
Config loadFromFile(const std::string& path);
// The YAML file alone: agents_file named but not read (ConfigStore::reload merges it on its own).
Config loadYamlFile(const std::string& path);

// The configuration compiled into the binary (config/rtcgate.default.yaml): a local demo on loopback.
const std::string& embeddedDefaultYaml();

}  // namespace rtcgate::config

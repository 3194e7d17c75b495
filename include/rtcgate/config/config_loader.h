// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

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

  // Every error found in one file, in file order; what() lists them one a line, each "FILE:LINE:COLUMN: key:
  // message", and source(), line()... are the first one's. A single error is its own only entry.
  static ConfigError collected(std::vector<ConfigError> errors);
  std::vector<ConfigError> errors() const;

private:
  ConfigError(const std::string& what, const ConfigError& first, std::vector<ConfigError> all);

  std::string source_;
  int line_;
  int column_;
  std::string key_;
  std::string message_;
  std::vector<ConfigError> all_;  // empty for a single error
};

// Parse and validate. Unknown keys, duplicate keys, wrong types, out-of-range values and inconsistent
// combinations are errors, and so is what would fail at start: certificate/key files missing, unreadable, not PEM,
// not matching or out of their validity; media port ranges overlapping or too small for security.max_calls.
// Throws ConfigError listing every error found (ConfigError::errors()). Warnings (a certificate expiring within 14
// days) go to `warnings` when given, each "FILE:LINE:COLUMN: key: message".
Config loadFromString(const std::string& yamlText, const std::string& sourceName,
                      std::vector<std::string>* warnings = nullptr);
// The YAML file and the agents_file it names.
Config loadFromFile(const std::string& path, std::vector<std::string>* warnings = nullptr);
// The YAML file alone: agents_file named but not read (ConfigStore::reload merges it on its own).
Config loadYamlFile(const std::string& path, std::vector<std::string>* warnings = nullptr);

// The configuration compiled into the binary (config/rtcgate.default.yaml): a local demo on loopback.
const std::string& embeddedDefaultYaml();

}  // namespace rtcgate::config

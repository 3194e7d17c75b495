// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rtcgate/config/config.h"

namespace rtcgate::config {

// The agents file (`agents_file`, docs/configuration.md "Agents at scale"): CSV, a header row naming the columns
// (user, password or ha1, dn, dn_auth_user, dn_password, always_registered; any order), one agent a line, '#'
// comments and blank lines ignored, RFC 4180 quoting within a line. Validated as a whole: every bad line is
// reported (FILE:LINE, no secret in a message) and one bad line refuses the file. Thread: any.

inline constexpr size_t kMaxAgentsFileBytes = 16 * 1024 * 1024;

// Agents of `text` (fromFile set, fileLine their line). `yamlAgents` are the YAML list's: a user or DN in both is
// an error. Throws ConfigError whose message lists every error, one "FILE:LINE: message" a line.
std::vector<Agent> parseAgentsCsv(std::string_view text, const std::string& sourceName,
                                  const std::vector<Agent>& yamlAgents, uint32_t maxAgents);
// Reads `path` (size checked before it is read) and parses it.
std::vector<Agent> loadAgentsFile(const std::string& path, const std::vector<Agent>& yamlAgents, uint32_t maxAgents);
// agents_file as configured, resolved against the directory of the YAML file that names it.
std::string resolveAgentsFile(const std::string& agentsFile, const std::string& yamlPath);
// Replaces c.agents' file part with the file's agents (c.agentsFile resolved against yamlPath). Throws ConfigError;
// c is unchanged then.
void mergeAgentsFile(Config& c, const std::string& yamlPath);

}  // namespace rtcgate::config

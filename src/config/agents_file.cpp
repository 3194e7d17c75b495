// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/config/agents_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "rtcgate/config/config_loader.h"

namespace rtcgate::config {
namespace {

// The errors listed in one refusal; a file with thousands of bad lines is refused just the same.
constexpr size_t kMaxReportedErrors = 50;

enum class Column { User, Password, Ha1, Dn, DnAuthUser, DnPassword, AlwaysRegistered };
const std::map<std::string, Column, std::less<>> kColumns = {
    {"user", Column::User},
    {"password", Column::Password},
    {"ha1", Column::Ha1},
    {"dn", Column::Dn},
    {"dn_auth_user", Column::DnAuthUser},
    {"dn_password", Column::DnPassword},
    {"always_registered", Column::AlwaysRegistered},
};

// The same rule as the YAML's user/dn (Field::asToken): RFC 3261 25.1 unreserved, 1 to 64 characters.
std::optional<std::string> tokenError(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::string("must be 1 to 64 characters");
  if (s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()+") !=
      std::string_view::npos)
    return std::string("has characters not allowed in a SIP user part");
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// RFC 4180 fields of one line ("" inside quotes is a quote); no field spans lines here.
std::optional<std::vector<std::string>> splitCsvLine(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field += line[i++];
      }
      if (!closed) return std::nullopt;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      if (i < line.size() && line[i] != ',') return std::nullopt;
    } else {
      size_t comma = line.find(',', i);
      auto raw = line.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
      if (raw.find('"') != std::string_view::npos) return std::nullopt;
      field = std::string(trim(raw));
      i = comma == std::string_view::npos ? line.size() : comma;
    }
    out.push_back(std::move(field));
    if (i >= line.size()) return out;
    ++i;  // the comma
  }
}

}  // namespace

std::vector<Agent> parseAgentsCsv(std::string_view text, const std::string& sourceName,
                                  const std::vector<Agent>& yamlAgents, uint32_t maxAgents) {
  std::vector<std::string> errors;
  size_t errorCount = 0;
  auto error = [&](size_t line, const std::string& message) {
    ++errorCount;
    if (errors.size() < kMaxReportedErrors) errors.push_back(fmt::format("{}:{}: {}", sourceName, line, message));
  };
  std::unordered_map<std::string, std::string> userWhere;  // user -> where it was first defined
  std::unordered_map<std::string, std::string> dnWhere;
  for (const auto& a : yamlAgents) {
    if (a.fromFile) continue;
    userWhere.emplace(a.user, "in the YAML agents list");
    dnWhere.emplace(a.dn, fmt::format("by agent '{}' in the YAML agents list", a.user));
  }
  const size_t yamlCount = userWhere.size();

  std::vector<Agent> out;
  std::vector<Column> columns;
  bool haveHeader = false;
  size_t lineNo = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineNo;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto fields = splitCsvLine(line);
    if (!fields) {
      error(lineNo, "unbalanced or misplaced double quote");
      if (!haveHeader) break;
      continue;
    }
    if (!haveHeader) {
      haveHeader = true;
      std::set<Column> seen;
      for (auto& name : *fields) {
        auto it = kColumns.find(name);
        if (it == kColumns.end()) {
          error(lineNo, fmt::format("unknown column '{}' (known: user, password, ha1, dn, dn_auth_user, dn_password, "
                                    "always_registered)", name.substr(0, 40)));
          continue;
        }
        if (!seen.insert(it->second).second) error(lineNo, fmt::format("column '{}' appears twice", name));
        columns.push_back(it->second);
      }
      if (seen.count(Column::User) == 0 || seen.count(Column::Dn) == 0 ||
          (seen.count(Column::Password) == 0 && seen.count(Column::Ha1) == 0))
        error(lineNo, "the header row must name the columns user, dn and password or ha1");
      if (errorCount != 0) break;  // the rows cannot be read without a good header
      continue;
    }
    if (fields->size() != columns.size()) {
      error(lineNo, fmt::format("{} fields, the header has {}", fields->size(), columns.size()));
      continue;
    }
    if (yamlCount + out.size() >= maxAgents) {
      error(lineNo, fmt::format("more than max_agents ({}) agents, YAML list included", maxAgents));
      break;
    }
    Agent a;
    a.fromFile = true;
    a.fileLine = static_cast<uint32_t>(lineNo);
    bool ok = true;
    auto bad = [&](const std::string& message) {
      error(lineNo, message);
      ok = false;
    };
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string& v = (*fields)[i];
      switch (columns[i]) {
        case Column::User: a.user = v; break;
        case Column::Password: a.password = Secret(std::move(v)); break;
        case Column::Ha1:
          if (!v.empty() && (v.size() != 32 || v.find_first_not_of("0123456789abcdef") != std::string::npos))
            bad("ha1: must be 32 lowercase hex digits (MD5 of user:realm:password)");
          a.ha1 = Secret(std::move(v));
          break;
        case Column::Dn: a.dn = v; break;
        case Column::DnAuthUser:
          if (!v.empty()) {
            if (auto e = tokenError(v)) bad("dn_auth_user: " + *e);
            a.dnAuthUser = v;
          }
          break;
        case Column::DnPassword: a.dnPassword = Secret(std::move(v)); break;
        case Column::AlwaysRegistered:
          if (v == "true" || v == "1" || v == "yes") a.alwaysRegistered = true;
          else if (!v.empty() && v != "false" && v != "0" && v != "no")
            bad("always_registered: must be true or false (or empty: false)");
          break;
      }
    }
    if (auto e = tokenError(a.user)) {
      bad("user: " + *e);
      continue;
    }
    if (a.password.empty() == a.ha1.empty())
      bad(fmt::format("agent '{}': exactly one of password and ha1 is required", a.user));
    if (auto e = tokenError(a.dn)) bad(fmt::format("agent '{}': dn: {}", a.user, *e));
    auto [u, newUser] = userWhere.emplace(a.user, fmt::format("at line {}", lineNo));
    if (!newUser) bad(fmt::format("agent '{}' is defined twice (also {})", a.user, u->second));
    if (!a.dn.empty()) {
      auto [d, newDn] = dnWhere.emplace(a.dn, fmt::format("by agent '{}' at line {}", a.user, lineNo));
      if (!newDn) bad(fmt::format("DN '{}' of agent '{}' is already used {}", a.dn, a.user, d->second));
    }
    if (ok) out.push_back(std::move(a));
  }
  if (!haveHeader && errorCount == 0) error(lineNo == 0 ? 1 : lineNo, "no header row (the file is empty)");
  if (errorCount != 0) {
    std::string message = fmt::format("{} error{}, the agents file is refused and the agents loaded before stay:",
                                      errorCount, errorCount == 1 ? "" : "s");
    for (auto& e : errors) message += "\n  " + e;
    if (errorCount > errors.size()) message += fmt::format("\n  ... and {} more", errorCount - errors.size());
    throw ConfigError(sourceName, 0, 0, "agents_file", message);
  }
  return out;
}

std::vector<Agent> loadAgentsFile(const std::string& path, const std::vector<Agent>& yamlAgents, uint32_t maxAgents) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw ConfigError(path, 0, 0, "agents_file", "cannot read the file (missing?)");
  if (!S_ISREG(st.st_mode)) throw ConfigError(path, 0, 0, "agents_file", "not a regular file");
  // Bounded before anything is allocated for it.
  if (static_cast<uint64_t>(st.st_size) > kMaxAgentsFileBytes)
    throw ConfigError(path, 0, 0, "agents_file",
                      fmt::format("larger than {} MiB; refusing to parse", kMaxAgentsFileBytes / (1024 * 1024)));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, 0, "agents_file", "cannot open the file for reading");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return parseAgentsCsv(text, path, yamlAgents, maxAgents);
}

std::string resolveAgentsFile(const std::string& agentsFile, const std::string& yamlPath) {
  if (agentsFile.empty() || agentsFile.front() == '/') return agentsFile;
  auto slash = yamlPath.rfind('/');
  if (slash == std::string::npos) return agentsFile;
  return yamlPath.substr(0, slash + 1) + agentsFile;
}

void mergeAgentsFile(Config& c, const std::string& yamlPath) {
  std::vector<Agent> yaml;
  for (auto& a : c.agents)
    if (!a.fromFile) yaml.push_back(a);
  std::vector<Agent> fileAgents;
  if (!c.agentsFile.empty()) fileAgents = loadAgentsFile(resolveAgentsFile(c.agentsFile, yamlPath), yaml, c.maxAgents);
  yaml.insert(yaml.end(), std::make_move_iterator(fileAgents.begin()), std::make_move_iterator(fileAgents.end()));
  c.agents = std::move(yaml);
}

}  // namespace rtcgate::config

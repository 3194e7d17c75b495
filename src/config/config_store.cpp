// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/config/config_store.h"

#include <functional>
#include <tuple>
#include <unordered_set>

#include "rtcgate/config/agents_file.h"
#include "rtcgate/config/config_loader.h"

namespace rtcgate::config {

ConfigStore::ConfigStore(ConfigPtr initial, std::string path) : current_(std::move(initial)), path_(std::move(path)) {}

ConfigStore::ReloadResult ConfigStore::reload() {
  std::vector<std::string> warnings;
  try {
    if (path_.empty()) {
      auto r = apply(loadFromString(embeddedDefaultYaml(), "(embedded default)", &warnings));
      r.warnings = std::move(warnings);
      return r;
    }
    // The agents file is judged on its own (docs/configuration.md, "Agents at scale"): a bad one keeps the agents
    // it gave before and does not hold back the YAML's changes.
    Config next = loadYamlFile(path_, &warnings);
    std::string agentsError;
    try {
      mergeAgentsFile(next, path_);
    } catch (const ConfigError& e) {
      agentsError = e.what();
      std::vector<Agent> kept;
      for (const auto& a : current_->agents)
        if (a.fromFile) kept.push_back(a);
      // The kept agents must still fit the new YAML list (no user or DN in both); if not, nothing is applied.
      std::unordered_set<std::string> yamlNames;
      for (const auto& y : next.agents) {
        yamlNames.insert("u:" + y.user);
        yamlNames.insert("d:" + y.dn);
      }
      for (const auto& k : kept)
        if (yamlNames.count("u:" + k.user) != 0 || yamlNames.count("d:" + k.dn) != 0)
          throw ConfigError(path_, 0, 0, "agents_file",
                            agentsError + "\n  and agent '" + k.user + "' kept from before clashes with the YAML list");
      next.agents.insert(next.agents.end(), kept.begin(), kept.end());
    }
    auto r = apply(std::move(next));
    r.agentsFileError = std::move(agentsError);
    r.warnings = std::move(warnings);
    return r;
  } catch (const ConfigError& e) {
    ++reloadFailures_;
    ReloadResult r;
    r.error = e.what();
    r.warnings = std::move(warnings);
    return r;
  }
}

ConfigStore::ReloadResult ConfigStore::reloadAgentsFile() {
  Config next = *current_;
  try {
    mergeAgentsFile(next, path_);
  } catch (const ConfigError& e) {
    ++reloadFailures_;
    ReloadResult r;
    r.error = e.what();
    return r;
  }
  return apply(std::move(next));
}

ConfigStore::ReloadResult ConfigStore::apply(Config next) {
  ReloadResult r;
  // A [restart] key keeps its running value in the new snapshot: nothing reads half of a change that only a
  // restart can make (a new port range beside the old sockets, a new DTLS file beside the certificate in use).
  r.restartOnly = keepRestartOnlyValues(*current_, next);
  current_ = std::make_shared<const Config>(std::move(next));
  ++reloads_;
  r.applied = true;
  for (auto& l : listeners_) l(current_);
  return r;
}

namespace {

// One entry per [restart] key (config/rtcgate.yaml): its name in reports, whether it changed, and how the running
// value is put back into the next snapshot.
struct RestartOnlyKey {
  const char* name;
  std::function<bool(const Config& running, const Config& next)> changed;
  std::function<void(const Config& running, Config& next)> keep;
};

// A key made of plain fields: `fields` returns std::tie of them, for a const or a mutable Config.
template <typename Fields>
RestartOnlyKey byFields(const char* name, Fields fields) {
  return {name, [fields](const Config& a, const Config& b) { return fields(a) != fields(b); },
          [fields](const Config& a, Config& b) { fields(b) = fields(a); }};
}

bool wssBindsChanged(const Config& a, const Config& b) {
  if (a.listeners.wss.size() != b.listeners.wss.size()) return true;
  for (size_t i = 0; i < a.listeners.wss.size(); ++i)
    if (!(a.listeners.wss[i].bind == b.listeners.wss[i].bind)) return true;
  return false;
}

// The listeners stay; a new certificate, web_root or proxy_protocol for one that stays where it is is still taken
// ([reload]).
void keepWssBinds(const Config& running, Config& next) {
  auto kept = running.listeners.wss;
  for (size_t i = 0; i < kept.size() && i < next.listeners.wss.size(); ++i) {
    kept[i].tlsCertFile = next.listeners.wss[i].tlsCertFile;
    kept[i].tlsKeyFile = next.listeners.wss[i].tlsKeyFile;
    kept[i].webRoot = next.listeners.wss[i].webRoot;
    kept[i].proxyProtocol = next.listeners.wss[i].proxyProtocol;
  }
  next.listeners.wss = std::move(kept);
}

const std::vector<RestartOnlyKey>& restartOnlyKeys() {
  static const std::vector<RestartOnlyKey> keys = {
      {"listeners.wss (address, port, count)", wssBindsChanged, keepWssBinds},
      byFields("listeners.admin", [](auto& c) { return std::tie(c.listeners.admin); }),
      byFields("upstream.sip_bind", [](auto& c) { return std::tie(c.upstream.sipBind); }),
      byFields("upstream.transports", [](auto& c) { return std::tie(c.upstream.transports); }),
      byFields("upstream.session_timer", [](auto& c) { return std::tie(c.upstream.sessionTimer); }),
      byFields("media.workers", [](auto& c) { return std::tie(c.media.workers); }),
      byFields("media.rtp_address", [](auto& c) { return std::tie(c.media.rtpAddress); }),
      byFields("media.rtp_port_min/max", [](auto& c) { return std::tie(c.media.rtpPortMin, c.media.rtpPortMax); }),
      byFields("media.ice_port_min/max", [](auto& c) { return std::tie(c.media.icePortMin, c.media.icePortMax); }),
      byFields("media.dtls_cert_file/key_file",
               [](auto& c) { return std::tie(c.media.dtlsCertFile, c.media.dtlsKeyFile); }),
      byFields("logging.format", [](auto& c) { return std::tie(c.logging.settings.format); }),
      byFields("logging.file", [](auto& c) { return std::tie(c.logging.settings.file); }),
  };
  return keys;
}

}  // namespace

std::vector<std::string> restartOnlyChanges(const Config& a, const Config& b) {
  std::vector<std::string> out;
  // listeners.wss[].web_root is not among them: WssServer::applyConfig serves the new root ([reload]).
  for (auto& k : restartOnlyKeys())
    if (k.changed(a, b)) out.emplace_back(k.name);
  return out;
}

std::vector<std::string> keepRestartOnlyValues(const Config& running, Config& next) {
  auto changed = restartOnlyChanges(running, next);
  for (auto& k : restartOnlyKeys())
    if (k.changed(running, next)) k.keep(running, next);
  return changed;
}

}  // namespace rtcgate::config

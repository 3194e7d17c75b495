// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/config/config_store.h"

#include "rtcgate/config/agents_file.h"
#include "rtcgate/config/config_loader.h"

#include <unordered_set>

namespace rtcgate::config {

ConfigStore::ConfigStore(ConfigPtr initial, std::string path) : current_(std::move(initial)), path_(std::move(path)) {}

ConfigStore::ReloadResult ConfigStore::reload() {
  try {
    if (path_.empty()) return apply(loadFromString(embeddedDefaultYaml(), "(embedded default)"));
    // The agents file is judged on its own (docs/configuration.md, "Agents at scale"): a bad one keeps the agents
    // it gave before and does not hold back the YAML's changes.
    Config next = loadYamlFile(path_);
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
    return r;
  } catch (const ConfigError& e) {
    ++reloadFailures_;
    ReloadResult r;
    r.error = e.what();
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
  r.restartOnly = restartOnlyChanges(*current_, next);
  current_ = std::make_shared<const Config>(std::move(next));
  ++reloads_;
  r.applied = true;
  for (auto& l : listeners_) l(current_);
  return r;
}

std::vector<std::string> restartOnlyChanges(const Config& a, const Config& b) {
  std::vector<std::string> out;
  if (!(a.listeners == b.listeners)) out.emplace_back("listeners");
  if (!(a.upstream.sipBind == b.upstream.sipBind)) out.emplace_back("upstream.sip_bind");
  if (a.upstream.transports != b.upstream.transports) out.emplace_back("upstream.transports");
  if (!(a.upstream.sessionTimer == b.upstream.sessionTimer)) out.emplace_back("upstream.session_timer");
  if (a.media.workers != b.media.workers) out.emplace_back("media.workers");
  if (a.media.rtpAddress != b.media.rtpAddress) out.emplace_back("media.rtp_address");
  if (a.media.rtpPortMin != b.media.rtpPortMin || a.media.rtpPortMax != b.media.rtpPortMax)
    out.emplace_back("media.rtp_port_min/max");
  if (a.media.icePortMin != b.media.icePortMin || a.media.icePortMax != b.media.icePortMax)
    out.emplace_back("media.ice_port_min/max");
  if (a.media.dtlsCertFile != b.media.dtlsCertFile || a.media.dtlsKeyFile != b.media.dtlsKeyFile)
    out.emplace_back("media.dtls_cert_file/key_file");
  if (a.logging.settings.format != b.logging.settings.format) out.emplace_back("logging.format");
  if (a.logging.settings.file != b.logging.settings.file) out.emplace_back("logging.file");
  return out;
}

}  // namespace rtcgate::config

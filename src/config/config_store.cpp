// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/config/config_store.h"

#include "rtcgate/config/config_loader.h"

namespace rtcgate::config {

ConfigStore::ConfigStore(ConfigPtr initial, std::string path) : current_(std::move(initial)), path_(std::move(path)) {}

ConfigStore::ReloadResult ConfigStore::reload() {
  try {
    return apply(path_.empty() ? loadFromString(embeddedDefaultYaml(), "(embedded default)") : loadFromFile(path_));
  } catch (const ConfigError& e) {
    ++reloadFailures_;
    ReloadResult r;
    r.error = e.what();
    return r;
  }
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
  // listeners.wss[].web_root is applied on reload (WssServer::applyConfig); every other listener key needs a restart.
  auto withoutWebRoots = [](Listeners l) {
    for (auto& w : l.wss) w.webRoot.clear();
    return l;
  };
  if (!(withoutWebRoots(a.listeners) == withoutWebRoots(b.listeners))) out.emplace_back("listeners");
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

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/config/config_store.h"

#include "rtcgate/config/config_loader.h"

namespace rtcgate::config {

ConfigStore::ConfigStore(ConfigPtr initial, std::string path) : current_(std::move(initial)), path_(std::move(path)) {}

ConfigStore::ReloadResult ConfigStore::reload() {
  std::vector<std::string> warnings;
  try {
    auto next = path_.empty() ? loadFromString(embeddedDefaultYaml(), "(embedded default)", &warnings)
                              : loadFromFile(path_, &warnings);
    auto r = apply(std::move(next));
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
  bool (*changed)(const Config& running, const Config& next);
  void (*keep)(const Config& running, Config& next);
};

bool wssBindsChanged(const Config& a, const Config& b) {
  if (a.listeners.wss.size() != b.listeners.wss.size()) return true;
  for (size_t i = 0; i < a.listeners.wss.size(); ++i)
    if (!(a.listeners.wss[i].bind == b.listeners.wss[i].bind)) return true;
  return false;
}

// The listeners stay; a new certificate for one that stays where it is is still taken ([reload]).
void keepWssBinds(const Config& running, Config& next) {
  auto kept = running.listeners.wss;
  for (size_t i = 0; i < kept.size() && i < next.listeners.wss.size(); ++i) {
    kept[i].tlsCertFile = next.listeners.wss[i].tlsCertFile;
    kept[i].tlsKeyFile = next.listeners.wss[i].tlsKeyFile;
  }
  next.listeners.wss = std::move(kept);
}

const RestartOnlyKey kRestartOnlyKeys[] = {
    {"listeners.wss (address, port, count)", wssBindsChanged, keepWssBinds},
    {"listeners.admin", [](const Config& a, const Config& b) { return !(a.listeners.admin == b.listeners.admin); },
     [](const Config& a, Config& b) { b.listeners.admin = a.listeners.admin; }},
    {"upstream.sip_bind", [](const Config& a, const Config& b) { return !(a.upstream.sipBind == b.upstream.sipBind); },
     [](const Config& a, Config& b) { b.upstream.sipBind = a.upstream.sipBind; }},
    {"upstream.transports", [](const Config& a, const Config& b) { return a.upstream.transports != b.upstream.transports; },
     [](const Config& a, Config& b) { b.upstream.transports = a.upstream.transports; }},
    {"upstream.session_timer",
     [](const Config& a, const Config& b) { return !(a.upstream.sessionTimer == b.upstream.sessionTimer); },
     [](const Config& a, Config& b) { b.upstream.sessionTimer = a.upstream.sessionTimer; }},
    {"media.workers", [](const Config& a, const Config& b) { return a.media.workers != b.media.workers; },
     [](const Config& a, Config& b) { b.media.workers = a.media.workers; }},
    {"media.rtp_address", [](const Config& a, const Config& b) { return a.media.rtpAddress != b.media.rtpAddress; },
     [](const Config& a, Config& b) { b.media.rtpAddress = a.media.rtpAddress; }},
    {"media.rtp_port_min/max",
     [](const Config& a, const Config& b) {
       return a.media.rtpPortMin != b.media.rtpPortMin || a.media.rtpPortMax != b.media.rtpPortMax;
     },
     [](const Config& a, Config& b) {
       b.media.rtpPortMin = a.media.rtpPortMin;
       b.media.rtpPortMax = a.media.rtpPortMax;
     }},
    {"media.ice_port_min/max",
     [](const Config& a, const Config& b) {
       return a.media.icePortMin != b.media.icePortMin || a.media.icePortMax != b.media.icePortMax;
     },
     [](const Config& a, Config& b) {
       b.media.icePortMin = a.media.icePortMin;
       b.media.icePortMax = a.media.icePortMax;
     }},
    {"media.dtls_cert_file/key_file",
     [](const Config& a, const Config& b) {
       return a.media.dtlsCertFile != b.media.dtlsCertFile || a.media.dtlsKeyFile != b.media.dtlsKeyFile;
     },
     [](const Config& a, Config& b) {
       b.media.dtlsCertFile = a.media.dtlsCertFile;
       b.media.dtlsKeyFile = a.media.dtlsKeyFile;
     }},
    {"logging.format",
     [](const Config& a, const Config& b) { return a.logging.settings.format != b.logging.settings.format; },
     [](const Config& a, Config& b) { b.logging.settings.format = a.logging.settings.format; }},
    {"logging.file", [](const Config& a, const Config& b) { return a.logging.settings.file != b.logging.settings.file; },
     [](const Config& a, Config& b) { b.logging.settings.file = a.logging.settings.file; }},
};

}  // namespace

std::vector<std::string> restartOnlyChanges(const Config& a, const Config& b) {
  std::vector<std::string> out;
  for (auto& k : kRestartOnlyKeys)
    if (k.changed(a, b)) out.emplace_back(k.name);
  return out;
}

std::vector<std::string> keepRestartOnlyValues(const Config& running, Config& next) {
  auto changed = restartOnlyChanges(running, next);
  for (auto& k : kRestartOnlyKeys)
    if (k.changed(running, next)) k.keep(running, next);
  return changed;
}

}  // namespace rtcgate::config

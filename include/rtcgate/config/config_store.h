// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rtcgate/config/config.h"

namespace rtcgate::config {

using ConfigPtr = std::shared_ptr<const Config>;

// The live configuration snapshot. Reload is validate-then-swap: a file that fails validation leaves the running
// snapshot untouched. Sessions keep the snapshot they started with.
// Thread: control. Other threads receive snapshots by post().
class ConfigStore {
public:
  struct ReloadResult {
    bool applied = false;
    std::string error;                    // why the new file was refused
    std::vector<std::string> restartOnly; // changed [restart] keys: they keep their running value until a restart
    std::vector<std::string> warnings;    // from the checks (a certificate expiring soon), applied or not
    std::string agentsFileError;          // applied, but agents_file was refused: its agents loaded before stay
  };

  ConfigStore(ConfigPtr initial, std::string path);
  const ConfigPtr& current() const { return current_; }
  const std::string& path() const { return path_; }

  // Read the file again (path empty: the embedded default) and swap it in when valid.
  ReloadResult reload();
  // Read agents_file again and swap in the running configuration with its new agents (the YAML part unchanged).
  // A bad file changes nothing (error lists every bad line). On a change of the file, SIGHUP not needed.
  ReloadResult reloadAgentsFile();
  // Swap in an already loaded configuration (tests; the admin API later).
  ReloadResult apply(Config next);

  // Called after every successful swap with the new snapshot.
  void onChange(std::function<void(const ConfigPtr&)> listener) { listeners_.push_back(std::move(listener)); }

  uint64_t reloadFailures() const { return reloadFailures_; }
  uint64_t reloads() const { return reloads_; }

private:
  ConfigPtr current_;
  std::string path_;
  std::vector<std::function<void(const ConfigPtr&)>> listeners_;
  uint64_t reloadFailures_ = 0;
  uint64_t reloads_ = 0;
};

// Keys whose change a running daemon does not apply: listening sockets, worker count, port ranges, log sinks.
std::vector<std::string> restartOnlyChanges(const Config& running, const Config& next);
// The same keys, set back to their running values in `next`; returns the names of those that differed.
std::vector<std::string> keepRestartOnlyValues(const Config& running, Config& next);

}  // namespace rtcgate::config

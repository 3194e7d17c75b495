// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "component/daemon_harness.h"
#include "component/udp_peer.h"
#include "support/test_support.h"

namespace rtcgate::test {

// One sample of the daemon's /metrics (it runs in its own process); -1 when absent or not served.
inline double metricValue(uint16_t adminPort, const std::string& name) {
  std::string body;
  if (httpGet(adminPort, "/metrics", &body) != 200) return -1;
  const size_t at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

// Polls /metrics until `name` equals `want`; bounded. /metrics has no change notification.
inline bool awaitMetric(uint16_t adminPort, const std::string& name, double want, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (metricValue(adminPort, name) != want) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// The daemon's descriptors, ports and RSS once its SIP side has answered an OPTIONS: READY=1 is sent before the
// socket it went out on is closed, so a footprint taken at READY counts one descriptor too many. None without 200.
inline std::optional<Footprint> footprintAfterOptions(const Rtcgate& d) {
  UdpPeer peer(d.sip);
  peer.send(optionsRequest(peer.port(), 1));
  std::string answer;
  for (int i = 0; i < 50 && statusOf(answer) < 200; ++i) answer = peer.receive(std::chrono::milliseconds(100));
  if (statusOf(answer) != 200) return std::nullopt;
  return footprintOf(d.pid());
}

}  // namespace rtcgate::test

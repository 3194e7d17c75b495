// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "rtcgate/config/config.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/core/rate_limiter.h"
#include "rtcgate/signaling/agent_authenticator.h"
#include "rtcgate/signaling/registrar.h"
#include "rtcgate/signaling/sip_transport.h"

namespace rtcgate::signaling {

class SipMessage;
class BrowserDialogs;

// The SIP user-agent core of the browser leg, transport-agnostic: takes one frame from a connection, parses it,
// answers REGISTER (the registrar), OPTIONS and malformed requests, and hands dialog traffic to BrowserDialogs.
// Thread: control.
class BrowserSipEndpoint {
public:
  enum class Verdict { Ok, Close };

  BrowserSipEndpoint(EventLoop& loop, const config::Config& config, SipTransport& transport, Registrar& registrar,
                     Metrics& metrics);
  ~BrowserSipEndpoint();
  BrowserSipEndpoint(const BrowserSipEndpoint&) = delete;
  BrowserSipEndpoint& operator=(const BrowserSipEndpoint&) = delete;

  void applyConfig(const config::Config& config);
  // Drain (issue 13): REGISTERs that would create an agent's first binding get 503 + Retry-After; agents already
  // registered keep refreshing (and unregistering).
  void setDraining(bool on) { draining_ = on; }

  // One WebSocket message. Close: the frame could not be answered at all (not SIP); the caller drops the connection.
  Verdict onFrame(ConnectionId connection, const std::string& remoteIp, std::string_view frame);
  void onConnectionClosed(ConnectionId connection);

  Registrar& registrar() { return registrar_; }
  BrowserDialogs& dialogs() { return *dialogs_; }
  AgentAuthenticator& authenticator() { return auth_; }

  // The agent authenticated on a connection (by REGISTER or a challenged request); empty when none.
  std::string agentOf(ConnectionId connection) const;
  // Every connection with an authenticated agent, and its user (admin API).
  const std::unordered_map<ConnectionId, std::string>& agentConnections() const { return agents_; }

private:
  void onRegister(ConnectionId connection, const std::string& remoteIp, SipMessage& request);
  bool authorize(ConnectionId connection, const std::string& remoteIp, const SipMessage& request);
  void reply(ConnectionId connection, const SipMessage& request, int status, std::string_view reason,
             const std::vector<std::string>& headers = {});
  // security.rate_limits for REGISTERs and new INVITEs: false (503 + Retry-After sent, counted) over a limit.
  bool admitRate(ConnectionId connection, const std::string& remoteIp, const SipMessage& request, RateLimiter& limiter,
                 std::atomic<uint64_t>& refused, const char* keyName);

  EventLoop& loop_;
  SipTransport& transport_;
  Registrar& registrar_;
  AgentAuthenticator auth_;
  uint32_t minExpires_;
  uint32_t maxExpires_;
  std::unordered_map<ConnectionId, std::string> agents_;
  std::unique_ptr<BrowserDialogs> dialogs_;
  std::atomic<uint64_t>& malformed_;
  std::atomic<uint64_t>& authFailures_;
  RateLimiter registerRate_;
  RateLimiter inviteRate_;
  TokenBucket refusalLogLimit_{1, 1};
  std::atomic<uint64_t>& registersRateLimited_;
  std::atomic<uint64_t>& invitesRateLimited_;
  bool draining_ = false;
};

}  // namespace rtcgate::signaling

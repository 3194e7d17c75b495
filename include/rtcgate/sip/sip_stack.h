// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/core/rate_limiter.h"
#include "rtcgate/sip/source_filter.h"
#include "rtcgate/sip/upstream_call.h"

struct nua_s;
struct su_root_s;

namespace rtcgate::sip {

class DnRegistration;
class UpstreamMonitor;

enum class RegistrationState { Unregistered, Registering, Registered, RetryWait, Unregistering };
const char* toString(RegistrationState s);

struct DnStatus {
  std::string dn;
  RegistrationState state = RegistrationState::Unregistered;
  bool agentPresent = false;
  bool alwaysRegistered = false;
  int lastStatus = 0;         // last final status of a REGISTER
  uint32_t failures = 0;      // consecutive failures (drives the backoff)
  std::string lastPhrase;     // reason phrase of lastStatus (from the network: escape before logging)
  std::string lastError;      // "status phrase" of the last failure; "" after a success
  std::optional<std::chrono::steady_clock::time_point> registeredUntil;  // the registrar's grant
  std::optional<std::chrono::steady_clock::time_point> nextAttempt;      // RetryWait: the next REGISTER
};

enum class UpstreamState { Unknown, Up, Down };

// One Genesys server's OPTIONS health (admin API).
struct UpstreamStatus {
  std::string uri;
  UpstreamState state = UpstreamState::Unknown;
  int lastStatus = 0;          // final status of the last OPTIONS ping; 0 before one ended (408: no answer)
  std::string lastPhrase;
  std::optional<std::chrono::steady_clock::time_point> lastAnswer;  // the server's last answer (any but 408/503)
  uint32_t consecutiveFailures = 0;  // pings ending 408/503 since the last answer
  uint64_t failuresTotal = 0;
};

// rtcgate as seen by Genesys SIP Server: one SIP phone per agent DN plus a trunk. Owns the sofia-sip nua stack on
// the control loop (su_glib), the DN registrations, OPTIONS handling and pings, and the upstream calls.
// Thread: the control loop (construct, use and destroy it there).
class SipStack {
public:
  SipStack(EventLoop& loop, std::shared_ptr<const config::Config> config, Metrics& metrics,
           UpstreamCallHandler& handler);
  ~SipStack();
  SipStack(const SipStack&) = delete;
  SipStack& operator=(const SipStack&) = delete;

  // Binds the transports and starts always-registered DNs and pings. Throws std::runtime_error on failure.
  void start();
  // True once the bound address is known (asynchronously after start()); `callback` runs then, once.
  bool ready() const { return port_ != 0; }
  void onReady(std::function<void()> callback) { onReady_ = std::move(callback); }
  // Runs once nua has shut down (after shutdown()).
  void onShutdownComplete(std::function<void()> callback) { onShutdownComplete_ = std::move(callback); }
  uint16_t port() const { return port_; }
  // Starts nua_shutdown (unregisters, ends calls); shutdownComplete() turns true after nua_r_shutdown.
  void shutdown();
  bool shutdownComplete() const { return shutdownComplete_; }

  // The agent of `dn` connected / went away. False when the DN is not configured.
  bool registerDn(const std::string& dn);
  // A reload: each configured DN's dn_auth_user / dn_password is used from its next digest challenge (REGISTER
  // and INVITE), security.rate_limits.upstream_invites from the next INVITE. DNs added or removed, servers and bind address still take effect at the next restart.
  void applyConfig(const config::Config& config);
  bool unregisterDn(const std::string& dn);
  // A drain (POST /api/v1/drain, SIGUSR1) runs: OPTIONS are answered 503 with Retry-After, so that a SIP load
  // balancer probing with OPTIONS (Kamailio dispatcher, docs/scale-out.md) takes this node out of rotation.
  void setDraining(bool draining) { draining_ = draining; }
  std::optional<DnStatus> registration(const std::string& dn) const;
  std::vector<DnStatus> registrations() const;
  UpstreamState upstreamState() const;
  // Each pinged server (upstream.options_ping_interval_ms), in configuration order; empty when pings are off.
  std::vector<UpstreamStatus> upstreams() const;

  // An agent-originated call: INVITE from <sip:dn@domain> to <sip:target@domain>, sent to the first upstream
  // server not known to be down, with `sdp` as the offer. Null when the DN is not configured or not started.
  std::shared_ptr<UpstreamCall> placeCall(const std::string& dn, const std::string& target, const std::string& sdp,
                                          UpstreamCallObserver* observer);
  // A transferee's new INVITE for Genesys's REFER on `referrer` (in UpstreamCallObserver::onTransferRequested):
  // routed and authenticated as placeCall, to the Refer-To user, with its Replaces and a Referred-By. Its final
  // response is NOTIFied to Genesys on the referrer's dialog. Null when nothing could be sent.
  std::shared_ptr<UpstreamCall> placeTransfer(UpstreamCall& referrer, const std::string& sdp,
                                              UpstreamCallObserver* observer);
  size_t activeCalls() const { return calls_.size(); }
  // "sip:user@domain" with the domain of our calls (upstream.domain, else the first server): the form of From/To
  // on agent-originated calls, and of Refer-To / Referred-By on transfers the agent asks for.
  std::string userUri(const std::string& user) const;

  // The nua event trampoline (a C callback; public only so the one .cpp that defines NUA_MAGIC_T can name it).
  struct Event;
  void onEvent(const Event& e);

private:
  struct Counters;
  struct Gauges;
  struct DnEntry {
    std::unique_ptr<DnRegistration> reg;
    const config::Agent* agent = nullptr;
    bool agentPresent = false;
  };
  const config::Agent* agentForDn(const std::string& dn) const;
  // A DN registration for `a` (which must outlive the stack: config_'s agents or addedAgents_); null when the DN
  // has one already or there is no upstream server.
  DnEntry* addDn(const config::Agent& a);
  std::string serverUri(const config::UpstreamServer& s, const std::string& user) const;
  const config::UpstreamServer* pickServer() const;
  void onIncomingInvite(const Event& e);
  void onIncomingOptions(const Event& e);
  void onIncomingNotify(const Event& e);
  void onReferNotify(const Event& e);
  void onIncomingRefer(const Event& e);
  // Refer-To of a REFER: a sip: URI on the upstream (a configured server or the call domain), else why not.
  std::optional<TransferRequest> readReferTo(const Event& e, std::string* why) const;
  bool isUpstreamHost(const std::string& host) const;
  // An INVITE with Replaces (RFC 3891): offered to the call it names, or 481 when it names none of the DN's calls.
  void offerReplacement(const std::shared_ptr<UpstreamCall>& call, const Event& e);
  std::shared_ptr<UpstreamCall> invite(const std::string& dn, const std::string& target, const std::string& sdp,
                                       UpstreamCallObserver* observer, const TransferRequest* transfer);
  void onGetParams(const Event& e);
  void dropForeignSourcesInKernel();
  void onShutdownReply(const Event& e);
  bool sourceAllowed(const Event& e);
  void callEnded(UpstreamCall* call);
  void releaseHandles();
  void destroyNua();
  DnStatus statusOf(const DnEntry& e) const;
  void updateGauges();

  EventLoop& loop_;
  std::shared_ptr<const config::Config> config_;
  Metrics& metrics_;
  UpstreamCallHandler& handler_;
  std::unique_ptr<Counters> counters_;
  std::shared_ptr<Gauges> gauges_;
  SourceFilter sources_;
  // Every configured server is an address the filter holds, so the kernel may drop all other sources.
  bool kernelFilterSafe_ = true;
  // security.rate_limits.upstream_invites (one bucket: the upstream is a few trusted addresses, not a crowd).
  RateLimiter inviteRate_;
  TokenBucket refusalLogLimit_{1, 1};
  std::string domain_;
  su_root_s* root_ = nullptr;
  GSource* source_ = nullptr;
  nua_s* nua_ = nullptr;
  uint16_t port_ = 0;
  std::function<void()> onReady_;
  std::function<void()> onShutdownComplete_;
  bool shutdownStarted_ = false;
  bool draining_ = false;
  bool shutdownComplete_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::map<std::string, DnEntry> registrations_;
  // Agents whose DN was added after start (reloads, agents_file, agent_tokens); a deque keeps their addresses.
  std::deque<config::Agent> addedAgents_;
  config::AgentTokens agentTokens_;
  std::vector<std::unique_ptr<UpstreamMonitor>> monitors_;
  std::map<UpstreamCall*, std::shared_ptr<UpstreamCall>> calls_;
};

}  // namespace rtcgate::sip

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/sip_stack.h"

#include <utility>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/su_glib.h>
#include <sofia-sip/su_string.h>

#include <cstdlib>
#include <stdexcept>

#include "caller_info.h"
#include "dn_registration.h"
#include "nua_glue.h"
#include "rtcgate/core/log.h"
#include "rtcgate/sip/sofia_log.h"
#include "upstream_monitor.h"

namespace rtcgate::sip {
namespace {

spdlog::logger* lg() { return log::get(log::Component::Sip); }

// The one C callback of the stack: typed magic (nua_glue.h), no exception crosses into sofia.
void nuaCallback(nua_event_t event, int status, char const* phrase, nua_t* nua, SipStack* stack, nua_handle_t* nh,
                 HandleOwner* owner, sip_t const* sip, tagi_t tags[]) noexcept {
  if (stack == nullptr) return;
  try {
    stack->onEvent(SipStack::Event{event, status, phrase, nua, nh, owner, sip, tags});
  } catch (const std::exception& e) {
    lg()->error("nua event {} failed: {}", nua_event_name(event), e.what());
  } catch (...) {
    lg()->error("nua event {} failed", nua_event_name(event));
  }
}

// As the drain's 503 to a first REGISTER (docs/admin-api.md): a drained node does not come back within that time.
constexpr const char* kDrainRetryAfter = "30";

const char* transportParam(config::SipTransport t) { return t == config::SipTransport::Tcp ? "tcp" : "udp"; }

std::string hostPart(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

const char* toString(RegistrationState s) {
  switch (s) {
    case RegistrationState::Unregistered: return "unregistered";
    case RegistrationState::Registering: return "registering";
    case RegistrationState::Registered: return "registered";
    case RegistrationState::RetryWait: return "retry-wait";
    case RegistrationState::Unregistering: return "unregistering";
  }
  return "?";
}

struct SipStack::Counters {
  explicit Counters(Metrics& m)
      : refusedSource(m.counter("rtcgate_sip_refused_source_total",
                                "SIP requests refused (403, or ignored) because their source is not an allowed upstream; "
                                "not those the kernel filter dropped")),
        optionsIn(m.counter("rtcgate_sip_options_received_total", "OPTIONS requests answered")),
        invitesIn(m.counter("rtcgate_sip_invites_received_total", "INVITEs received from the upstream")),
        unknownDn(m.counter("rtcgate_sip_invites_unknown_dn_total", "INVITEs to an unknown DN (404)")),
        noAgent(m.counter("rtcgate_sip_invites_no_agent_total", "INVITEs to a DN without an agent (480)")),
        callsOut(m.counter("rtcgate_sip_invites_sent_total", "INVITEs sent to the upstream")),
        registerOk(m.counter("rtcgate_sip_register_ok_total", "successful DN REGISTERs (initial and refresh)")),
        registerFailed(m.counter("rtcgate_sip_register_failed_total", "failed DN REGISTERs")),
        upstreamDown(m.counter("rtcgate_sip_upstream_down_total", "upstream servers seen going down")),
        invitesRateLimited(m.counter("rtcgate_sip_invites_rate_limited_total",
                                     "INVITEs from the upstream answered 503 by security.rate_limits.upstream_invites")),
        optionsRefusedDraining(m.counter("rtcgate_sip_options_draining_total",
                                         "OPTIONS outside a dialog answered 503 because the node drains or stops")) {}
  std::atomic<uint64_t>& refusedSource;
  std::atomic<uint64_t>& optionsIn;
  std::atomic<uint64_t>& invitesIn;
  std::atomic<uint64_t>& unknownDn;
  std::atomic<uint64_t>& noAgent;
  std::atomic<uint64_t>& callsOut;
  std::atomic<uint64_t>& registerOk;
  std::atomic<uint64_t>& registerFailed;
  std::atomic<uint64_t>& upstreamDown;
  std::atomic<uint64_t>& invitesRateLimited;
  std::atomic<uint64_t>& optionsRefusedDraining;
};

// Values the gauges read at scrape time (control thread). Shared, so a scrape after the stack is gone reads zeros.
struct SipStack::Gauges {
  double registered = 0;
  double byState[5] = {};  // indexed by RegistrationState
  double upstreamUp = 0;
  double calls = 0;
};

SipStack::SipStack(EventLoop& loop, std::shared_ptr<const config::Config> config, Metrics& metrics,
                   UpstreamCallHandler& handler)
    : loop_(loop),
      config_(std::move(config)),
      metrics_(metrics),
      handler_(handler),
      counters_(std::make_unique<Counters>(metrics)),
      gauges_(std::make_shared<Gauges>()),
      inviteRate_(Rate{}, config_->security.rateLimits.upstreamInvites) {
  const auto& up = config_->upstream;
  for (const auto& s : up.servers) {
    // A server named by a DNS name is not in the filter: its responses must still reach us.
    if (!sources_.add(s.host)) kernelFilterSafe_ = false;
  }
  for (const auto& c : up.allowedSourceCidrs) {
    if (!sources_.add(c)) lg()->warn("allowed_source_cidrs: '{}' is not an address or CIDR, ignored", c);
  }
  domain_ = !up.domain.empty() ? up.domain : !up.servers.empty() ? up.servers.front().host : up.sipBind.address;
  std::weak_ptr<Gauges> g = gauges_;
  metrics_.gauge("rtcgate_sip_dns_registered", "DNs registered at the upstream", [g] {
    auto p = g.lock();
    return p ? p->registered : 0.0;
  });
  for (auto state : {RegistrationState::Unregistered, RegistrationState::Registering, RegistrationState::Registered,
                     RegistrationState::RetryWait, RegistrationState::Unregistering})
    metrics_.gauge("rtcgate_dn_registrations", "Configured DNs by registration state at the upstream",
                   {{"state", toString(state)}}, [g, state] {
                     auto p = g.lock();
                     return p ? p->byState[static_cast<size_t>(state)] : 0.0;
                   });
  metrics_.gauge("rtcgate_sip_upstream_up", "1 when an upstream server answers OPTIONS (or pings are off)", [g] {
    auto p = g.lock();
    return p ? p->upstreamUp : 0.0;
  });
  metrics_.gauge("rtcgate_sip_calls", "upstream SIP calls in progress", [g] {
    auto p = g.lock();
    return p ? p->calls : 0.0;
  });
}

SipStack::~SipStack() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  *alive_ = false;
  if (nua_ != nullptr && !shutdownComplete_) {
    shutdown();
    // Destroying without nua_shutdown is not allowed by nua: give it a bounded moment on our own loop.
    Timer tick(loop_, std::chrono::milliseconds(50), [] { return true; });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!shutdownComplete_ && std::chrono::steady_clock::now() < deadline)
      g_main_context_iteration(loop_.context(), TRUE);
  }
  destroyNua();
}

void SipStack::start() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (root_ != nullptr) return;
  routeSofiaLogs();
  const auto& up = config_->upstream;
  root_ = su_glib_root_create(nullptr);
  if (root_ == nullptr) throw std::runtime_error("sip: su_glib_root_create failed");
  // Keep nua in this thread: with threading on, nua_create would start its own thread and port.
  su_root_threading(root_, 0);
  source_ = su_glib_root_gsource(root_);
  g_source_attach(source_, loop_.context());

  std::string url = "sip:" + hostPart(up.sipBind.address) + ":" + std::to_string(up.sipBind.port);
  bool udp = false, tcp = false;
  for (auto t : up.transports) (t == config::SipTransport::Tcp ? tcp : udp) = true;
  // Without a transport parameter tport binds UDP and TCP on one port (tport_bind_server retries until both fit).
  if (udp != tcp) url += std::string(";transport=") + (tcp ? "tcp" : "udp");

  nua_ = nua_create(root_, &nuaCallback, this, NUTAG_URL(url.c_str()),
                    // The session layer owns offer/answer (architecture: two independent legs): nua carries SDP.
                    NUTAG_MEDIA_ENABLE(0),
                    // OPTIONS come to us: Allow-Events and load-balancer health checks to any user (seed failure).
                    NUTAG_APPL_METHOD("OPTIONS"),
                    // NOTIFY too: in-dialog "talk"/"hold" (BroadWorks remote control, Allow-Events) are ours to
                    // answer; without it nua answered them 481 (no subscription).
                    NUTAG_APPL_METHOD("NOTIFY"),
                    // REFER from Genesys (transfer, rtcgate as transferee): answered by us after checking its source
                    // and Refer-To (nua would accept any REFER with 202 on its own).
                    NUTAG_APPL_METHOD("REFER"),
                    // BYE too: nua would end the call on a BYE from any address; ours after the source check.
                    NUTAG_APPL_METHOD("BYE"), NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0),
                    NUTAG_ENABLEMESSAGE(0), NUTAG_ENABLEMESSENGER(0), SIPTAG_ALLOW_STR(kAllowOutsideDialog),
                    SIPTAG_ALLOW_EVENTS_STR(kAllowEvents), SIPTAG_USER_AGENT_STR("rtcgate"),
                    NUTAG_OUTBOUND("no-outbound no-natify no-validate no-options-keepalive no-gruuize"),
                    NUTAG_KEEPALIVE(0),
                    // RFC 4028: accept Session-Expires down to the configured Min-SE (default 90, RFC 4028's floor;
                    // nua's own default of 120 answered 422 to the common 90).
                    NUTAG_MIN_SE(up.sessionTimer.minSeS),
                    // Session-Expires offered on our INVITEs (and put in our 2xx when Genesys asked for none); a
                    // 422 + Min-SE is retried by nua with the larger interval. How rtcgate refreshes as refresher is
                    // chosen per call from Genesys's Allow (UpstreamCall::chooseRefreshMethod).
                    NUTAG_SESSION_TIMER(up.sessionTimer.expiresS), TAG_END());
  if (nua_ == nullptr) {
    g_source_destroy(source_);
    su_root_destroy(root_);
    root_ = nullptr;
    source_ = nullptr;
    throw std::runtime_error("sip: cannot bind " + url + " (nua_create failed)");
  }
  nua_get_params(nua_, TAG_ANY(), TAG_END());

  agentTokens_ = config_->agentTokens;
  if (!up.servers.empty()) {
    for (const auto& a : config_->agents) addDn(a);
    for (auto& [dn, entry] : registrations_)
      if (entry.agent->alwaysRegistered) entry.reg->setWanted(true);
    if (up.optionsPingIntervalMs > 0) {
      for (const auto& srv : up.servers) {
        monitors_.push_back(std::make_unique<UpstreamMonitor>(
            loop_, nua_, serverUri(srv, ""), std::chrono::milliseconds(up.optionsPingIntervalMs),
            [this](UpstreamState st) {
              if (st == UpstreamState::Down) counters_->upstreamDown.fetch_add(1, std::memory_order_relaxed);
              updateGauges();
            }));
      }
    }
  } else {
    lg()->warn("no upstream servers configured: no DN registrations, no outbound calls");
  }
  updateGauges();
  lg()->info("SIP stack starting on {}", url);
}

void SipStack::shutdown() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (nua_ == nullptr || shutdownStarted_) return;
  shutdownStarted_ = true;
  for (auto& m : monitors_) m->detach();
  // nua ends the calls (BYE/CANCEL) and unregisters the DNs of live handles itself.
  nua_shutdown(nua_);
}

void SipStack::onEvent(const Event& e) {
  switch (e.event) {
    case nua_r_shutdown: return onShutdownReply(e);
    case nua_r_get_params: return onGetParams(e);
    case nua_i_invite:
      if (e.owner == nullptr) return onIncomingInvite(e);
      // In-dialog requests are checked too (issue 11): a re-INVITE from a foreign address moved the media to it.
      if (!sourceAllowed(e)) {
        nua_respond(e.nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(e.nua), TAG_END());
        return;
      }
      return e.owner->onReinvite(e.sip);
    case nua_i_options: return onIncomingOptions(e);
    case nua_i_notify: return onIncomingNotify(e);
    case nua_i_refer: return onIncomingRefer(e);
    case nua_r_register:
      if (e.owner != nullptr) e.owner->onRegisterReply(e.status, e.phrase, e.sip);
      return;
    case nua_r_unregister:
      if (e.owner != nullptr) e.owner->onUnregisterReply(e.status, e.phrase, e.sip);
      return;
    case nua_r_options:
      if (e.owner != nullptr) e.owner->onOptionsReply(e.status, e.phrase, e.sip);
      return;
    case nua_r_invite:
      if (e.owner != nullptr) e.owner->onInviteReply(e.status, e.phrase, e.sip);
      return;
    case nua_r_refer:
      if (e.owner != nullptr) e.owner->onReferReply(e.status, e.phrase, e.sip);
      return;
    case nua_i_ack:
      // An ACK gets no response: one from a foreign address is ignored (its SDP would move the media).
      if (e.owner != nullptr && sourceAllowed(e)) e.owner->onAck(e.sip);
      return;
    case nua_i_bye:
      // BYE is ours to answer (NUTAG_APPL_METHOD): nua ends its session on any final answer to a BYE, 403
      // included, so one from a foreign address is left unanswered; the call goes on.
      if (e.status >= 200) return;  // answered by nua (481: no session)
      if (!sourceAllowed(e)) return;
      nua_respond(e.nh, SIP_200_OK, NUTAG_WITH_THIS(e.nua), TAG_END());
      if (e.owner != nullptr) e.owner->onBye(e.sip);
      return;
    case nua_i_cancel:
      if (e.owner != nullptr) e.owner->onCancel();
      return;
    case nua_i_state: {
      int callState = nua_callstate_init;
      tl_gets(e.tags, NUTAG_CALLSTATE_REF(callState), TAG_END());
      if (e.owner == nullptr) {
        // A rejected INVITE's handle: ours to free once nua is done with the transaction.
        if (callState == nua_callstate_terminated && e.nh != nullptr) nua_handle_destroy(e.nh);
        return;
      }
      e.owner->onCallState(callState, e.status, e.phrase, e.sip);
      if (auto* call = dynamic_cast<UpstreamCall*>(e.owner); call != nullptr && call->state() == CallState::Terminated)
        callEnded(call);
      return;
    }
    default:
      // Other requests nua answered itself (MESSAGE, REFER, SUBSCRIBE...): free a handle nobody owns.
      if (e.owner == nullptr && e.nh != nullptr && e.event < nua_r_set_params && e.sip != nullptr &&
          e.sip->sip_request != nullptr)
        nua_handle_destroy(e.nh);
      if (e.status >= 400) lg()->debug("nua {} {} {}", nua_event_name(e.event), e.status, e.phrase);
      return;
  }
}

void SipStack::onGetParams(const Event& e) {
  const sip_contact_t* m = nullptr;
  tl_gets(e.tags, NTATAG_CONTACT_REF(m), TAG_END());
  if (m != nullptr && m->m_url->url_port != nullptr) {
    port_ = static_cast<uint16_t>(std::strtoul(m->m_url->url_port, nullptr, 10));
  } else if (m != nullptr) {
    port_ = 5060;
  }
  lg()->info("SIP stack listening on port {}", port_);
  if (port_ != 0) dropForeignSourcesInKernel();
  if (port_ != 0 && onReady_) std::exchange(onReady_, nullptr)();
}

void SipStack::onShutdownReply(const Event& e) {
  if (e.status < 200) return;
  lg()->info("SIP stack shut down ({} {})", e.status, e.phrase);
  releaseHandles();
  shutdownComplete_ = true;
  // nua_destroy may not run inside nua's own callback.
  loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
    if (auto a = alive.lock(); a && *a) {
      destroyNua();
      if (onShutdownComplete_) std::exchange(onShutdownComplete_, nullptr)();
    }
  });
}

void SipStack::dropForeignSourcesInKernel() {
  if (sources_.empty() || !kernelFilterSafe_) {
    lg()->warn("upstream sources checked per request only (403): a server is named by a DNS name, not an address");
    return;
  }
  const int n = attachKernelSourceFilter(sources_, port_);
  if (n > 0)
    lg()->info("SIP from sources outside the upstream servers and allowed_source_cidrs dropped in the kernel ({} "
               "sockets)", n);
  else
    lg()->warn("kernel source filter not attached (result {}): foreign sources get 403 per request", n);
}

bool SipStack::sourceAllowed(const Event& e) {
  msg_t* msg = nua_current_request(e.nua);
  su_addrinfo_t* ai = msg != nullptr ? msg_addrinfo(msg) : nullptr;
  if (ai != nullptr && sources_.allows(reinterpret_cast<const sockaddr*>(ai->ai_addr))) return true;
  counters_->refusedSource.fetch_add(1, std::memory_order_relaxed);
  char host[64] = "?";
  if (ai != nullptr) {
    const su_sockaddr_t* su = reinterpret_cast<const su_sockaddr_t*>(ai->ai_addr);
    su_inet_ntop(su->su_family, SU_ADDR(su), host, sizeof host);
  }
  const char* method = e.sip != nullptr && e.sip->sip_request != nullptr ? e.sip->sip_request->rq_method_name : nullptr;
  lg()->warn("{} from {} refused: not an allowed upstream source", log::escaped(method != nullptr ? method : "request"),
             host);
  return false;
}

void SipStack::onIncomingOptions(const Event& e) {
  counters_->optionsIn.fetch_add(1, std::memory_order_relaxed);
  if (e.owner == nullptr && !sourceAllowed(e)) {
    nua_respond(e.nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(e.nua), TAG_END());
    nua_handle_destroy(e.nh);
    return;
  }
  // Draining or stopping: 503 (RFC 3261 21.5.4), which a dispatcher counts as a failed probe (Kamailio's
  // ds_ping_reply_codes accepts 2xx only by default) and so sends no new calls here; in-dialog OPTIONS still get 200.
  if (e.owner == nullptr && (draining_ || shutdownStarted_)) {
    counters_->optionsRefusedDraining.fetch_add(1, std::memory_order_relaxed);
    nua_respond(e.nh, SIP_503_SERVICE_UNAVAILABLE, NUTAG_WITH_THIS(e.nua), SIPTAG_RETRY_AFTER_STR(kDrainRetryAfter),
                TAG_END());
    nua_handle_destroy(e.nh);
    return;
  }
  // 200 to any Request-URI user, known or not: load balancers probe with arbitrary users (seed deployment
  // answered 404 "No matching endpoint found" and was taken out of rotation).
  // No Accept here: nua's OPTIONS responder adds its own (application/sdp); a second one listed it twice.
  nua_respond(e.nh, SIP_200_OK, NUTAG_WITH_THIS(e.nua), SIPTAG_ALLOW_STR(kAllow),
              SIPTAG_ALLOW_EVENTS_STR(kAllowEvents), TAG_END());
  if (e.owner == nullptr) nua_handle_destroy(e.nh);
}

void SipStack::onIncomingNotify(const Event& e) {
  const char* event = e.sip != nullptr && e.sip->sip_event != nullptr ? e.sip->sip_event->o_type : nullptr;
  if (e.sip == nullptr) {
    // Not a request: nua gave up waiting for a NOTIFY of a subscription of ours (the implicit one of our REFER).
    if (e.owner != nullptr) e.owner->onReferNotify(e.status, nullptr);
    return;
  }
  if (e.owner != nullptr && event != nullptr && su_casematch(event, "refer")) return onReferNotify(e);
  // In dialog, from an allowed source, for a package the dialog's owner takes: 200. Everything else keeps the
  // answer nua gave before NOTIFY reached us: 481 (no such subscription).
  // A second NOTIFY of a package in the same dialog finds the usage nua created for the first one: nua has then
  // answered it 200 itself (e.status), and only the event remains to be passed on.
  const bool answered = e.status >= 200;
  const bool accepted = e.owner != nullptr && event != nullptr && sourceAllowed(e) && e.owner->onNotify(event);
  if (accepted || answered) {
    lg()->info("NOTIFY Event: {} from Genesys: 200", event != nullptr ? log::escaped(event) : std::string("-"));
    if (!answered) nua_respond(e.nh, SIP_200_OK, NUTAG_WITH_THIS(e.nua), TAG_END());
    return;
  }
  lg()->info("NOTIFY Event: {}: 481", event != nullptr ? log::escaped(event) : std::string("-"));
  nua_respond(e.nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(e.nua), TAG_END());
  if (e.owner == nullptr && e.nh != nullptr) nua_handle_destroy(e.nh);
}

void SipStack::onReferNotify(const Event& e) {
  // The subscription of our REFER: nua answered 200 itself when it matched the REFER's usage (e.status); otherwise
  // (nua no longer knows the subscription) the owner decides, 481 if it expects none.
  const bool answered = e.status >= 200;
  const bool accepted = sourceAllowed(e) && e.owner->onReferNotify(e.status, e.sip);
  if (answered) return;
  if (accepted)
    nua_respond(e.nh, SIP_200_OK, NUTAG_WITH_THIS(e.nua), TAG_END());
  else
    nua_respond(e.nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(e.nua), TAG_END());
}

std::string SipStack::userUri(const std::string& user) const { return "sip:" + user + "@" + hostPart(domain_); }

void SipStack::onIncomingInvite(const Event& e) {
  counters_->invitesIn.fetch_add(1, std::memory_order_relaxed);
  std::string callId = e.sip != nullptr && e.sip->sip_call_id != nullptr ? e.sip->sip_call_id->i_id : "";
  log::CallScope scope(callId);
  if (!sourceAllowed(e)) {
    nua_respond(e.nh, SIP_403_FORBIDDEN, TAG_END());
    return;
  }
  if (shutdownStarted_) {
    nua_respond(e.nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
    return;
  }
  // ASVS 17.3.1, reliability-security.md 3.10: an INVITE flood is answered 503 at once, before any lookup, object or
  // media port, so the calls already up keep their loop time. Retry-After (RFC 3261 21.5.4, 20.33): a refused
  // INVITE's token is back within a second; Genesys may route the call elsewhere meanwhile.
  if (const auto now = std::chrono::steady_clock::now();
      inviteRate_.admit({}, now) != RateLimiter::Verdict::Allowed) {
    counters_->invitesRateLimited.fetch_add(1, std::memory_order_relaxed);
    if (refusalLogLimit_.take(now))
      lg()->warn("INVITE answered 503: security.rate_limits.upstream_invites exceeded (further refusals only counted "
                 "in rtcgate_sip_invites_rate_limited_total, logged at most once a second)");
    const std::string retryAfter = std::to_string(RateLimiter::kRetryAfterS);
    nua_respond(e.nh, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR(retryAfter.c_str()), TAG_END());
    return;
  }
  const url_t* ruri = e.sip != nullptr && e.sip->sip_request != nullptr ? e.sip->sip_request->rq_url : nullptr;
  std::string dn = ruri != nullptr && ruri->url_user != nullptr ? ruri->url_user : "";
  auto it = registrations_.find(dn);
  if (it == registrations_.end()) {
    counters_->unknownDn.fetch_add(1, std::memory_order_relaxed);
    lg()->info("INVITE to unknown DN '{}': 404", dn);
    nua_respond(e.nh, SIP_404_NOT_FOUND, TAG_END());
    return;
  }
  if (!it->second.agentPresent) {
    counters_->noAgent.fetch_add(1, std::memory_order_relaxed);
    lg()->info("INVITE to DN {} without an agent: 480", dn);
    nua_respond(e.nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
    return;
  }
  UpstreamCall::Params p;
  p.direction = CallDirection::Inbound;
  p.dn = dn;
  p.callId = callId;
  p.genesysCallUuid = unknownHeader(e.sip, "X-Genesys-CallUUID");
  p.remoteSdp = std::string(bodyOf(e.sip));
  p.autoAnswerCallInfo = autoAnswerCallInfo(e.sip);
  callerIdentity(e.sip, &p.callerUser, &p.callerName);
  auto call = std::make_shared<UpstreamCall>(loop_, e.nh, std::move(p));
  nua_handle_bind(e.nh, static_cast<HandleOwner*>(call.get()));
  nua_set_hparams(e.nh, SIPTAG_ALLOW_STR(kAllow), TAG_END());  // REFER in this dialog (Genesys transfers)
  call->chooseRefreshMethod(e.sip);
  calls_[call.get()] = call;
  updateGauges();
  if (e.sip != nullptr && e.sip->sip_replaces != nullptr) return offerReplacement(call, e);
  lg()->info("INVITE to DN {} (CallUUID {}){}", dn, call->genesysCallUuid().empty() ? "-" : call->genesysCallUuid(),
             call->lateOffer() ? ", late offer" : "");
  handler_.onIncomingCall(call);
}

std::shared_ptr<UpstreamCall> SipStack::placeCall(const std::string& dn, const std::string& target,
                                                  const std::string& sdp, UpstreamCallObserver* observer) {
  return invite(dn, target, sdp, observer, nullptr);
}

std::shared_ptr<UpstreamCall> SipStack::invite(const std::string& dn, const std::string& target,
                                               const std::string& sdp, UpstreamCallObserver* observer,
                                               const TransferRequest* transfer) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  auto it = registrations_.find(dn);
  const config::UpstreamServer* server = pickServer();
  if (nua_ == nullptr || shutdownStarted_ || it == registrations_.end() || server == nullptr) return nullptr;
  std::string from = "<" + userUri(dn) + ">";
  std::string to = "<" + userUri(target) + ">";
  std::string ruri = serverUri(*server, target);
  nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(to.c_str()), TAG_END());
  if (nh == nullptr) return nullptr;
  UpstreamCall::Params p;
  p.direction = CallDirection::Outbound;
  p.dn = dn;
  auto call = std::make_shared<UpstreamCall>(loop_, nh, std::move(p));
  call->setObserver(observer);
  call->localSdp_ = sdp;
  // From the registration, not the start-up configuration: a reload may have changed them (issue 11).
  call->authUser_ = it->second.reg->authUser();
  call->authPassword_ = it->second.reg->password();
  nua_handle_bind(nh, static_cast<HandleOwner*>(call.get()));
  nua_set_hparams(nh, SIPTAG_ALLOW_STR(kAllow), TAG_END());  // REFER in this dialog (Genesys transfers)
  calls_[call.get()] = call;
  counters_->callsOut.fetch_add(1, std::memory_order_relaxed);
  updateGauges();
  lg()->info("INVITE from DN {} to {} via {}{}", dn, target, ruri,
             transfer == nullptr ? "" : transfer->replaces.empty() ? " (transfer)" : " (transfer with Replaces)");
  // A transferee's INVITE (REFER from Genesys) carries the Refer-To's Replaces and a Referred-By.
  const char* replaces = transfer != nullptr && !transfer->replaces.empty() ? transfer->replaces.c_str() : nullptr;
  const char* referredBy = transfer != nullptr ? transfer->referredBy.c_str() : nullptr;
  nua_invite(nh, NUTAG_URL(ruri.c_str()), SIPTAG_FROM_STR(from.c_str()), NUTAG_M_USERNAME(dn.c_str()),
             SIPTAG_ALLOW_EVENTS_STR(kAllowEvents), TAG_IF(replaces != nullptr, SIPTAG_REPLACES_STR(replaces)),
             TAG_IF(referredBy != nullptr, SIPTAG_REFERRED_BY_STR(referredBy)),
             TAG_IF(!sdp.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(!sdp.empty(), SIPTAG_PAYLOAD_STR(call->localSdp_.c_str())), TAG_END());
  return call;
}

void SipStack::callEnded(UpstreamCall* call) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  it->second->detach();
  calls_.erase(it);
  updateGauges();
}

SipStack::DnEntry* SipStack::addDn(const config::Agent& a) {
  const auto& up = config_->upstream;
  if (a.dn.empty() || up.servers.empty() || registrations_.count(a.dn) != 0) return nullptr;
  DnRegistration::Params p;
  p.dn = a.dn;
  p.authUser = a.dnAuthUser.empty() ? a.dn : a.dnAuthUser;
  p.password = a.dnPassword.reveal();
  p.aor = "sip:" + a.dn + "@" + hostPart(domain_);
  p.registrar = serverUri(up.servers.front(), "");
  p.expiresS = up.registerExpiresS;
  p.retryMin = std::chrono::milliseconds(up.registerRetryMinMs);
  p.retryMax = std::chrono::milliseconds(up.registerRetryMaxMs);
  auto& entry = registrations_[a.dn];
  entry.agent = &a;
  entry.reg = std::make_unique<DnRegistration>(
      loop_, nua_, std::move(p), DnRegistration::Counters{&counters_->registerOk, &counters_->registerFailed},
      [this] { updateGauges(); });
  return &entry;
}

void SipStack::applyConfig(const config::Config& config) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  agentTokens_ = config.agentTokens;
  size_t changed = 0;
  size_t added = 0;
  for (const auto& a : config.agents) {
    // An agent new since start (a reload, agents_file): its DN gets a registration like those listed at start.
    // Removed agents' DNs stay (a call may use them); they are registered only while their agent is present.
    if (!a.dn.empty() && registrations_.count(a.dn) == 0 && !shutdownStarted_ && nua_ != nullptr) {
      if (auto* e = addDn(addedAgents_.emplace_back(a))) {
        ++added;
        if (a.alwaysRegistered) e->reg->setWanted(true);
      }
      continue;
    }
    auto it = registrations_.find(a.dn);
    if (a.dn.empty() || it == registrations_.end() || !it->second.reg) continue;
    std::string user = a.dnAuthUser.empty() ? a.dn : a.dnAuthUser;
    std::string password = a.dnPassword.reveal();
    if (user == it->second.reg->authUser() && password == it->second.reg->password()) continue;
    it->second.reg->setCredentials(std::move(user), std::move(password));
    ++changed;
  }
  if (changed != 0) lg()->info("reload: new digest credentials for {} DN(s)", changed);
  if (added != 0) lg()->info("reload: {} new DN(s) of new agents", added);
  inviteRate_.setRates(Rate{}, config.security.rateLimits.upstreamInvites);
}

bool SipStack::registerDn(const std::string& dn) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  auto it = registrations_.find(dn);
  if (it == registrations_.end() && agentTokens_.enabled() && !shutdownStarted_ && nua_ != nullptr) {
    // An agent authenticated by a JWT (agent_tokens) has no entry: its DN gets one now, with the section's
    // upstream credentials, never credentials from the token (docs/configuration.md, "Agents at scale").
    config::Agent a;
    a.dn = dn;
    a.dnAuthUser = agentTokens_.dnAuthUser;
    a.dnPassword = agentTokens_.dnPassword;
    if (addDn(addedAgents_.emplace_back(std::move(a))) != nullptr) it = registrations_.find(dn);
  }
  if (it == registrations_.end()) return false;
  it->second.agentPresent = true;
  lg()->info("agent of DN {} present", dn);
  if (!shutdownStarted_) it->second.reg->setWanted(true);
  return true;
}

bool SipStack::unregisterDn(const std::string& dn) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  auto it = registrations_.find(dn);
  if (it == registrations_.end()) return false;
  it->second.agentPresent = false;
  lg()->info("agent of DN {} gone", dn);
  if (!shutdownStarted_) it->second.reg->setWanted(it->second.agent->alwaysRegistered);
  return true;
}

DnStatus SipStack::statusOf(const DnEntry& e) const {
  DnStatus s;
  s.dn = e.agent->dn;
  s.state = e.reg->state();
  s.agentPresent = e.agentPresent;
  s.alwaysRegistered = e.agent->alwaysRegistered;
  s.lastStatus = e.reg->lastStatus();
  s.failures = e.reg->failures();
  s.lastPhrase = e.reg->lastPhrase();
  s.lastError = e.reg->lastError();
  s.registeredUntil = e.reg->registeredUntil();
  s.nextAttempt = e.reg->nextAttempt();
  return s;
}

std::optional<DnStatus> SipStack::registration(const std::string& dn) const {
  auto it = registrations_.find(dn);
  if (it == registrations_.end()) return std::nullopt;
  return statusOf(it->second);
}

std::vector<DnStatus> SipStack::registrations() const {
  std::vector<DnStatus> out;
  for (const auto& [dn, e] : registrations_) out.push_back(statusOf(e));
  return out;
}

std::vector<UpstreamStatus> SipStack::upstreams() const {
  std::vector<UpstreamStatus> out;
  for (const auto& m : monitors_) out.push_back(m->status());
  return out;
}

UpstreamState SipStack::upstreamState() const {
  if (monitors_.empty()) return UpstreamState::Unknown;
  bool anyUnknown = false;
  for (const auto& m : monitors_) {
    if (m->state() == UpstreamState::Up) return UpstreamState::Up;
    anyUnknown |= m->state() == UpstreamState::Unknown;
  }
  return anyUnknown ? UpstreamState::Unknown : UpstreamState::Down;
}

const config::UpstreamServer* SipStack::pickServer() const {
  const auto& servers = config_->upstream.servers;
  for (size_t i = 0; i < servers.size() && i < monitors_.size(); ++i)
    if (monitors_[i]->state() != UpstreamState::Down) return &servers[i];
  return servers.empty() ? nullptr : &servers.front();
}

std::string SipStack::serverUri(const config::UpstreamServer& s, const std::string& user) const {
  return "sip:" + (user.empty() ? "" : user + "@") + hostPart(s.host) + ":" + std::to_string(s.port) +
         ";transport=" + transportParam(s.transport);
}

void SipStack::updateGauges() {
  double registered = 0;
  for (const auto& [dn, e] : registrations_) registered += e.reg->state() == RegistrationState::Registered ? 1 : 0;
  gauges_->registered = registered;
  for (auto& n : gauges_->byState) n = 0;
  for (const auto& [dn, e] : registrations_) ++gauges_->byState[static_cast<size_t>(e.reg->state())];
  gauges_->upstreamUp = monitors_.empty() || upstreamState() == UpstreamState::Up ? 1 : 0;
  gauges_->calls = static_cast<double>(calls_.size());
}

void SipStack::releaseHandles() {
  for (auto& [p, call] : calls_) call->detach(false);
  calls_.clear();
  for (auto& [dn, e] : registrations_) e.reg->detach(false);
  for (auto& m : monitors_) m->detach(false);
}

void SipStack::destroyNua() {
  if (nua_ != nullptr) {
    if (!shutdownComplete_) {
      // nua refuses nua_destroy before nua_r_shutdown: stop dispatching and leave it (logged, never expected).
      lg()->error("SIP stack did not finish shutting down in time; leaking it");
      for (auto& [p, call] : calls_) call->detach(false);
      calls_.clear();
      if (source_ != nullptr) g_source_destroy(source_);
      source_ = nullptr;
      nua_ = nullptr;
      root_ = nullptr;
      return;
    }
    nua_destroy(nua_);
    nua_ = nullptr;
  }
  if (source_ != nullptr) g_source_destroy(source_);
  source_ = nullptr;
  if (root_ != nullptr) su_root_destroy(root_);
  root_ = nullptr;
}

}  // namespace rtcgate::sip

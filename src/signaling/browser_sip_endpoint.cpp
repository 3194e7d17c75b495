// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/browser_sip_endpoint.h"

#include <openssl/rand.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/url.h>

#include <strings.h>

#include <algorithm>

#include "rtcgate/core/log.h"
#include "rtcgate/signaling/browser_dialogs.h"
#include "rtcgate/signaling/sip_message.h"
#include "rtcgate/signaling/sip_response.h"

namespace rtcgate::signaling {
namespace {

std::string randomKey() {
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return key;
}

// RFC 3261 10.3 step 6 default when neither the Contact nor the request gives an expiry.
constexpr uint32_t kDefaultExpires = 3600;

}  // namespace

BrowserSipEndpoint::BrowserSipEndpoint(EventLoop& loop, const config::Config& config, SipTransport& transport,
                                       Registrar& registrar, Metrics& metrics)
    : loop_(loop),
      transport_(transport),
      registrar_(registrar),
      auth_(config, randomKey()),
      minExpires_(config.security.registerMinExpiresS),
      maxExpires_(config.security.registerMaxExpiresS),
      dialogs_(std::make_unique<BrowserDialogs>(loop, transport, metrics)),
      malformed_(metrics.counter("rtcgate_wss_sip_malformed_total", "Malformed SIP messages from browsers")),
      authFailures_(metrics.counter("rtcgate_wss_auth_failures_total", "Failed agent authentications")),
      registerRate_(config.security.rateLimits.registersPerIp, config.security.rateLimits.registers),
      inviteRate_(config.security.rateLimits.invitesPerIp, config.security.rateLimits.invites),
      registersRateLimited_(metrics.counter("rtcgate_wss_registers_rate_limited_total",
                                            "Browser REGISTERs answered 503 by security.rate_limits.registers(_per_ip)")),
      invitesRateLimited_(metrics.counter("rtcgate_wss_invites_rate_limited_total",
                                          "Browser INVITEs answered 503 by security.rate_limits.invites(_per_ip)")) {
  dialogs_->setReconnectGrace(std::chrono::milliseconds(config.calls.browserReconnectGraceMs));
  auth_.countRejectsIn(metrics);
}

BrowserSipEndpoint::~BrowserSipEndpoint() = default;

void BrowserSipEndpoint::applyConfig(const config::Config& config) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  auth_.applyConfig(config);
  minExpires_ = config.security.registerMinExpiresS;
  maxExpires_ = config.security.registerMaxExpiresS;
  registerRate_.setRates(config.security.rateLimits.registersPerIp, config.security.rateLimits.registers);
  inviteRate_.setRates(config.security.rateLimits.invitesPerIp, config.security.rateLimits.invites);
  dialogs_->setReconnectGrace(std::chrono::milliseconds(config.calls.browserReconnectGraceMs));
}

std::string BrowserSipEndpoint::agentOf(ConnectionId connection) const {
  auto it = agents_.find(connection);
  return it != agents_.end() ? it->second : std::string();
}

void BrowserSipEndpoint::reply(ConnectionId connection, const SipMessage& request, int status,
                               std::string_view reason, const std::vector<std::string>& headers) {
  // Responses that end a transaction without a dialog still carry a To tag (RFC 3261 8.2.6.2).
  transport_.send(connection, buildResponse(request, status, reason, headers, status > 100 ? randomToken(10) : ""));
}

bool BrowserSipEndpoint::admitRate(ConnectionId connection, const std::string& remoteIp, const SipMessage& request,
                                   RateLimiter& limiter, std::atomic<uint64_t>& refused, const char* keyName) {
  const auto now = std::chrono::steady_clock::now();
  const auto verdict = limiter.admit(remoteIp, now);
  if (verdict == RateLimiter::Verdict::Allowed) return true;
  refused.fetch_add(1, std::memory_order_relaxed);
  const bool perIp = verdict == RateLimiter::Verdict::PerIpLimited;
  if (refusalLogLimit_.take(now))
    log::get(log::Component::Wss)
        ->warn("connection {} from {}: {} answered 503, security.rate_limits.{}{} exceeded (further refusals only "
               "counted, logged at most once a second)",
               connection, log::escaped(remoteIp, 64), request.method(), keyName, perIp ? "_per_ip" : "");
  // RFC 3261 21.5.4: 503 with Retry-After tells the client when to try again (RFC 3261 20.33), and is not
  // a failure of the credentials (JsSIP reports it as registrationFailed and retries on its own schedule).
  reply(connection, request, 503, "Service Unavailable",
        {"Retry-After: " + std::to_string(RateLimiter::kRetryAfterS)});
  return false;
}

BrowserSipEndpoint::Verdict BrowserSipEndpoint::onFrame(ConnectionId connection, const std::string& remoteIp,
                                                        std::string_view frame) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  auto* lg = log::get(log::Component::Wss);
  auto parsed = SipMessage::parse(frame);
  if (parsed.status == SipMessage::ParseStatus::Unusable) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    lg->debug("connection {}: unusable frame ({}), closing", connection, parsed.reason);
    return Verdict::Close;
  }
  if (parsed.status == SipMessage::ParseStatus::Ignore) {
    // SIP with nothing to answer: the frame was the whole message (RFC 7118), so the connection is still in sync.
    malformed_.fetch_add(1, std::memory_order_relaxed);
    lg->debug("connection {}: unanswerable message ({}), dropped", connection, parsed.reason);
    return Verdict::Ok;
  }
  SipMessage& msg = *parsed.message;
  log::CallScope scope(msg.callId());
  if (parsed.status == SipMessage::ParseStatus::BadRequest) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    if (msg.method() != "ACK") reply(connection, msg, parsed.code, parsed.reason);
    return Verdict::Ok;
  }
  if (msg.isResponse()) {
    dialogs_->onResponse(connection, msg);
    return Verdict::Ok;
  }
  const sip_t* sip = msg.sip();
  if (sip->sip_max_forwards != nullptr && sip->sip_max_forwards->mf_count == 0 && msg.method() != "ACK") {
    reply(connection, msg, 483, "Too Many Hops");
    return Verdict::Ok;
  }
  // RFC 3261 8.2.2.3: we support no option tags that a client could require of us, except timer (RFC 4028).
  if (sip->sip_require != nullptr && msg.method() != "ACK" && msg.method() != "CANCEL") {
    std::string unsupported;
    for (const char* const* p = sip->sip_require->k_items; p != nullptr && *p != nullptr; ++p) {
      if (::strcasecmp(*p, "timer") == 0) continue;
      if (!unsupported.empty()) unsupported += ", ";
      unsupported += *p;
    }
    if (!unsupported.empty()) {
      reply(connection, msg, 420, "Bad Extension", {"Unsupported: " + unsupported});
      return Verdict::Ok;
    }
  }
  switch (sip->sip_request->rq_method) {
    case sip_method_register:
      // Before any digest work: a flood costs a token lookup and a short answer.
      if (admitRate(connection, remoteIp, msg, registerRate_, registersRateLimited_, "registers"))
        onRegister(connection, remoteIp, msg);
      break;
    case sip_method_options:
      if (msg.toTag().empty()) {
        reply(connection, msg, 200, "OK",
              {std::string(kAllowHeader), "Accept: application/sdp", "Supported: timer, outbound, path"});
        break;
      }
      [[fallthrough]];
    case sip_method_invite:
      // New calls need an authenticated agent; re-INVITEs are authenticated by their dialog. The rate comes first:
      // an INVITE over it costs neither a digest nor a session.
      if (sip->sip_request->rq_method == sip_method_invite && msg.toTag().empty() &&
          (!admitRate(connection, remoteIp, msg, inviteRate_, invitesRateLimited_, "invites") ||
           !authorize(connection, remoteIp, msg)))
        break;
      [[fallthrough]];
    case sip_method_ack:
    case sip_method_cancel:
    case sip_method_bye:
    case sip_method_update:
    case sip_method_info:
    case sip_method_refer:
      // An in-dialog request on a connection no agent authenticated on yet: the agent's reconnected browser before
      // its REGISTER went through (calls.browser_reconnect_grace_ms). Challenged, which JsSIP answers with
      // credentials, rather than refused: a 481 would end its call.
      if (!msg.toTag().empty() && sip->sip_request->rq_method != sip_method_ack &&
          sip->sip_request->rq_method != sip_method_cancel && !authorize(connection, remoteIp, msg))
        break;
      dialogs_->onRequest(connection, agentOf(connection), std::move(parsed.message));
      break;
    case sip_method_unknown:
      // RFC 3261 8.2.1: 405 is for a method we know but do not allow; one we do not know at all is 501.
      reply(connection, msg, 501, "Not Implemented", {std::string(kAllowHeader)});
      break;
    default:
      reply(connection, msg, 405, "Method Not Allowed", {std::string(kAllowHeader)});
      break;
  }
  return Verdict::Ok;
}

bool BrowserSipEndpoint::authorize(ConnectionId connection, const std::string& remoteIp, const SipMessage& request) {
  if (!agentOf(connection).empty()) return true;
  auto outcome = auth_.authenticate(request, remoteIp);
  if (outcome.kind == AgentAuthenticator::Outcome::Kind::Authenticated) {
    agents_[connection] = outcome.user;
    return true;
  }
  if (outcome.failure) authFailures_.fetch_add(1, std::memory_order_relaxed);
  if (outcome.kind == AgentAuthenticator::Outcome::Kind::RateLimited) {
    reply(connection, request, 403, "Forbidden", {"Retry-After: 60"});
    return false;
  }
  std::vector<std::string> headers;
  for (auto& c : outcome.challenges) headers.push_back("WWW-Authenticate: " + c);
  reply(connection, request, 401, "Unauthorized", headers);
  return false;
}

void BrowserSipEndpoint::onRegister(ConnectionId connection, const std::string& remoteIp, SipMessage& request) {
  auto outcome = auth_.authenticate(request, remoteIp);
  if (outcome.kind == AgentAuthenticator::Outcome::Kind::RateLimited) {
    reply(connection, request, 403, "Forbidden", {"Retry-After: 60"});
    return;
  }
  if (outcome.kind == AgentAuthenticator::Outcome::Kind::Challenge) {
    if (outcome.failure) {
      authFailures_.fetch_add(1, std::memory_order_relaxed);
      log::get(log::Component::Wss)->info("connection {} from {}: REGISTER authentication failed", connection, remoteIp);
    }
    std::vector<std::string> headers;
    for (auto& c : outcome.challenges) headers.push_back("WWW-Authenticate: " + c);
    reply(connection, request, 401, "Unauthorized", headers);
    return;
  }
  sip_t* sip = request.sip();
  // The credentials must be for the address being registered (RFC 3261 10.3 step 3).
  const char* toUser = sip->sip_to->a_url->url_user;
  if (toUser == nullptr || outcome.user != toUser) {
    reply(connection, request, 403, "Forbidden");
    return;
  }
  agents_[connection] = outcome.user;

  std::optional<uint32_t> headerExpires;
  if (sip->sip_expires != nullptr) headerExpires = static_cast<uint32_t>(sip->sip_expires->ex_delta);

  if (sip->sip_contact != nullptr && sip->sip_contact->m_url->url_type == url_any) {
    // "Contact: *" removes every binding, and only with Expires: 0 (RFC 3261 10.3 step 6).
    if (sip->sip_contact->m_next != nullptr || !headerExpires || *headerExpires != 0) {
      reply(connection, request, 400, "Invalid Wildcard Contact");
      return;
    }
    registrar_.unbindAll(outcome.user);
    reply(connection, request, 200, "OK");
    return;
  }

  struct Planned {
    sip_contact_t* contact;
    uint32_t expires;
  };
  std::vector<Planned> planned;
  for (sip_contact_t* m = sip->sip_contact; m != nullptr; m = m->m_next) {
    uint32_t expires = headerExpires.value_or(kDefaultExpires);
    if (m->m_expires != nullptr) {
      char* end = nullptr;
      unsigned long v = std::strtoul(m->m_expires, &end, 10);
      expires = (end != nullptr && *end == '\0') ? static_cast<uint32_t>(std::min<unsigned long>(v, UINT32_MAX))
                                                 : kDefaultExpires;
    }
    if (expires != 0 && expires < minExpires_) {
      reply(connection, request, 423, "Interval Too Brief", {"Min-Expires: " + std::to_string(minExpires_)});
      return;
    }
    planned.push_back({m, std::min(expires, maxExpires_)});
  }

  if (draining_ && !planned.empty() && planned.front().expires != 0 && registrar_.lookup(outcome.user).empty()) {
    log::get(log::Component::Wss)->info("connection {}: REGISTER of agent {} refused (503): the gateway is draining",
                                        connection, outcome.user);
    reply(connection, request, 503, "Service Unavailable", {"Retry-After: 30"});
    return;
  }
  su_home_t* home = msg_home(request.msg());
  std::vector<std::string> headers;
  std::vector<Registration> bound;
  for (auto& p : planned) {
    char* uri = url_as_string(home, p.contact->m_url);
    std::string contactUri = uri != nullptr ? uri : "";
    if (p.expires == 0) {
      registrar_.unbind(outcome.user, contactUri);
      continue;
    }
    Registration r;
    r.user = outcome.user;
    r.dn = outcome.dn;
    r.byToken = outcome.byJwt;
    r.connection = connection;
    r.contactUri = contactUri;
    const char* instance = msg_params_find(p.contact->m_params, "+sip.instance=");
    r.instance = instance != nullptr ? instance : "";
    r.expiresS = p.expires;
    r.expiresAt = std::chrono::steady_clock::now() + std::chrono::seconds(p.expires);
    bound.push_back(r);
    registrar_.bind(std::move(r));
    // SIP.js drops a 2xx whose Contact for it lacks ;expires=, and both clients match the Contact by its
    // parameters (+sip.instance, reg-id) or URI: echo the Contact as sent, with our expiry.
    headers.push_back("Contact: " + withoutHeaderParam(SipMessage::value(reinterpret_cast<sip_header_t*>(p.contact)), "expires") +
                      ";expires=" + std::to_string(p.expires));
  }
  if (!planned.empty() && planned.front().expires != 0)
    headers.push_back("Expires: " + std::to_string(planned.front().expires));
  reply(connection, request, 200, "OK", headers);
  // The same JsSIP UA on a new connection (it reconnected): its calls continue here, once its REGISTER is answered.
  for (const auto& r : bound) dialogs_->agentRegistered(r);
}

void BrowserSipEndpoint::onConnectionClosed(ConnectionId connection) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  agents_.erase(connection);
  // Dialogs first: one kept for a reconnect keeps the agent's DN registered upstream (BrowserDialogs'
  // grace listener) before the binding's removal would unregister it.
  dialogs_->connectionClosed(connection);
  registrar_.connectionClosed(connection);
}

}  // namespace rtcgate::signaling

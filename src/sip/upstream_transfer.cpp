// SPDX-License-Identifier: Apache-2.0
// Transfers asked by Genesys SIP Server: an in-dialog REFER on an upstream call, rtcgate as transferee (RFC 3515,
// interop notes §1.7): 202, NOTIFY "100 Trying", a new INVITE to the Refer-To user (with its Replaces and a
// Referred-By), then NOTIFY with the new INVITE's final status, which ends the implicit subscription.
#include <algorithm>
#include <cctype>
#include <cstring>

#include "nua_glue.h"
#include "rtcgate/core/log.h"
#include "rtcgate/sip/sip_stack.h"

namespace rtcgate::sip {
namespace {

spdlog::logger* lg() { return log::get(log::Component::Sip); }

// Bounds on what a REFER may carry into a new INVITE of ours.
constexpr size_t kMaxTargetLength = 32;
constexpr size_t kMaxReplacesLength = 256;
constexpr size_t kMaxReferredByLength = 256;

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Dial characters: what an agent desktop or a routing strategy dials (DNs, routing points, external numbers).
bool dialString(std::string_view s) {
  if (s.empty() || s.size() > kMaxTargetLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '*' || c == '#' || c == '+';
  });
}

// URI-escaped text (a Refer-To user or header value) unescaped, or nothing when it is too long or would carry
// control characters into a header of ours.
std::optional<std::string> unescapedBounded(const char* s, size_t max) {
  if (s == nullptr) return std::string();
  const size_t n = std::strlen(s);
  if (n > 3 * max) return std::nullopt;
  std::string out(n + 1, '\0');
  url_unescape(out.data(), s);
  out.resize(std::strlen(out.c_str()));
  if (out.size() > max) return std::nullopt;
  if (std::any_of(out.begin(), out.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return std::nullopt;
  return out;
}

// The value of the URI header `name` (case-insensitive) in "a=1&b=2", still escaped; empty if absent.
std::string uriHeader(const char* headers, std::string_view name) {
  if (headers == nullptr) return {};
  std::string_view rest(headers);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto item = rest.substr(0, amp);
    auto eq = item.find('=');
    auto key = item.substr(0, eq);
    if (eq != std::string_view::npos && equalsIgnoringCase(key, name)) return std::string(item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

// "<sip:user@host>" of a URL, printed by sofia (no parameters of the header it came from), bounded.
std::string angleUrl(const url_t* url) {
  if (url == nullptr) return {};
  char buf[kMaxReferredByLength];
  auto n = url_e(buf, sizeof buf, url);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return {};
  std::string s(buf, static_cast<size_t>(n));
  if (s.find_first_of("\r\n<>") != std::string::npos) return {};
  return "<" + s + ">";
}

// A status phrase from the network, safe for a sipfrag line.
std::string safePhrase(const char* phrase) {
  std::string out;
  for (const char* p = phrase; p != nullptr && *p != '\0' && out.size() < 64; ++p)
    if (static_cast<unsigned char>(*p) >= 0x20 && *p != 0x7f) out += *p;
  return out;
}

}  // namespace

bool SipStack::isUpstreamHost(const std::string& host) const {
  auto same = [&host](const std::string& h) { return equalsIgnoringCase(h, host); };
  if (same(domain_)) return true;
  return std::any_of(config_->upstream.servers.begin(), config_->upstream.servers.end(),
                     [&same](const config::UpstreamServer& s) { return same(s.host); });
}

std::optional<TransferRequest> SipStack::readReferTo(const Event& e, std::string* why) const {
  const sip_refer_to_t* r = e.sip != nullptr ? e.sip->sip_refer_to : nullptr;
  if (r == nullptr) {
    *why = "no Refer-To";
    return std::nullopt;
  }
  const url_t* url = r->r_url;
  if (url->url_type != url_sip) {
    *why = "Refer-To is not a sip: URI";
    return std::nullopt;
  }
  // No open relay: the new INVITE goes to the upstream (as an agent's own call), so the REFER may only name it.
  std::string host = url->url_host != nullptr ? url->url_host : "";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!isUpstreamHost(host)) {
    *why = "Refer-To host " + log::escaped(host, 64) + " is not the upstream";
    return std::nullopt;
  }
  auto user = unescapedBounded(url->url_user, kMaxTargetLength);
  if (!user || !dialString(*user)) {
    *why = "Refer-To user " + log::escaped(url->url_user != nullptr ? url->url_user : "", 64) +
           " is not a dial string";
    return std::nullopt;
  }
  TransferRequest req;
  req.target = *user;
  auto replaces = unescapedBounded(uriHeader(url->url_headers, "Replaces").c_str(), kMaxReplacesLength);
  if (!replaces) {
    *why = "Replaces in Refer-To too long or malformed";
    return std::nullopt;
  }
  req.replaces = *replaces;
  const sip_referred_by_t* by = e.sip->sip_referred_by;
  const url_t* byUrl = by != nullptr ? by->b_url : nullptr;
  if (byUrl == nullptr && e.sip->sip_from != nullptr) byUrl = e.sip->sip_from->a_url;
  req.referredBy = angleUrl(byUrl);
  if (req.referredBy.empty()) {
    *why = "no usable Referred-By or From";
    return std::nullopt;
  }
  return req;
}

void SipStack::onIncomingRefer(const Event& e) {
  auto* call = dynamic_cast<UpstreamCall*>(e.owner);
  std::string sipCallId = e.sip != nullptr && e.sip->sip_call_id != nullptr ? e.sip->sip_call_id->i_id : "";
  log::CallScope scope(call != nullptr ? call->logId() : sipCallId);
  auto& refused = metrics_.counter("rtcgate_sip_refers_refused_total",
                                   "REFERs from the upstream refused (not in a call, bad Refer-To, foreign host)");
  if (!sourceAllowed(e)) {
    nua_respond(e.nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(e.nua), TAG_END());
    if (call == nullptr) nua_handle_destroy(e.nh);
    return;
  }
  if (call == nullptr) {  // not expected: nua answers 405 outside a dialog (kAllowOutsideDialog)
    refused.fetch_add(1, std::memory_order_relaxed);
    lg()->info("REFER outside a call: 403");
    nua_respond(e.nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(e.nua), TAG_END());
    nua_handle_destroy(e.nh);
    return;
  }
  std::string why;
  auto req = readReferTo(e, &why);
  if (req && call->state() != CallState::Confirmed && call->state() != CallState::Answered)
    why = "the call is not established", req.reset();
  if (req && call->observer_ == nullptr) why = "nobody to take the transfer", req.reset();
  if (!req) {
    refused.fetch_add(1, std::memory_order_relaxed);
    lg()->warn("REFER from Genesys refused (403): {}", why);
    nua_respond(e.nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(e.nua), TAG_END());
    return;
  }
  if (call->transfer_) {
    lg()->warn("REFER from Genesys while a transfer is in progress: 491");
    nua_respond(e.nh, SIP_491_REQUEST_PENDING, NUTAG_WITH_THIS(e.nua), TAG_END());
    return;
  }
  const sip_event_t* event = nullptr;
  tl_gets(e.tags, NUTAG_REFER_EVENT_REF(event), TAG_END());
  char eventBuf[64];
  auto n = event != nullptr
               ? sip_header_field_e(eventBuf, sizeof eventBuf, reinterpret_cast<const sip_header_t*>(event), 0)
               : 0;
  call->referEvent_ = n > 0 && static_cast<size_t>(n) < sizeof eventBuf ? std::string(eventBuf, static_cast<size_t>(n))
                                                                         : std::string("refer");
  metrics_.counter("rtcgate_sip_refers_accepted_total", "REFERs from the upstream accepted (202): transfers")
      .fetch_add(1, std::memory_order_relaxed);
  lg()->info("REFER from Genesys: transfer of DN {} to {} ({}), Referred-By {}", call->dn(), log::escaped(req->target),
             req->replaces.empty() ? "blind" : "with Replaces " + log::escaped(req->replaces),
             log::escaped(req->referredBy));
  nua_respond(e.nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(e.nua), TAG_END());
  call->transfer_ = std::move(req);
  call->notifyTransfer(100, "Trying");
  // The observer may end the call from here: keep it alive for the rest of this function.
  auto keep = call->shared_from_this();
  if (!call->observer_->onTransferRequested(*call->transfer_)) {
    lg()->warn("transfer not started by the session: NOTIFY 603");
    call->notifyTransfer(603, "Declined");
  }
}

void SipStack::offerReplacement(const std::shared_ptr<UpstreamCall>& call, const Event& e) {
  UpstreamCall* replaced = nullptr;
  if (nua_handle_t* nh = nua_handle_by_replaces(nua_, e.sip->sip_replaces); nh != nullptr) {
    replaced = dynamic_cast<UpstreamCall*>(nua_handle_magic(nh));
    nua_handle_unref(nh);
  }
  // Only one of this DN's established calls may be replaced, and only by the upstream (source checked before).
  if (replaced == nullptr || replaced == call.get() || replaced->dn() != call->dn() ||
      (replaced->state() != CallState::Confirmed && replaced->state() != CallState::Answered) ||
      replaced->observer_ == nullptr) {
    lg()->info("INVITE with Replaces naming no established call of DN {}: 481", call->dn());
    call->reject(481, "Call/Transaction Does Not Exist");
    return;
  }
  // From here on the new dialog logs as the call it joins.
  log::CallScope callScope(replaced->logId());
  call->setLogId(replaced->logId());
  lg()->info("INVITE with Replaces for DN {} (Call-ID {}, CallUUID {}): it replaces the Genesys dialog {}", call->dn(),
             log::escaped(call->callId()),
             log::escaped(call->genesysCallUuid().empty() ? "-" : call->genesysCallUuid()),
             log::escaped(replaced->callId()));
  auto keep = replaced->shared_from_this();
  if (!replaced->observer_->onReplacedBy(call)) {
    lg()->warn("INVITE with Replaces not taken by the session: 488");
    call->reject(488, "Not Acceptable Here");
  }
}

std::shared_ptr<UpstreamCall> SipStack::placeTransfer(UpstreamCall& referrer, const std::string& sdp,
                                                      UpstreamCallObserver* observer) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!referrer.transfer_) return nullptr;
  auto call = invite(referrer.dn(), referrer.transfer_->target, sdp, observer, &*referrer.transfer_);
  if (call) {
    call->referrer_ = referrer.weak_from_this();
    call->setLogId(referrer.logId());  // one call id from its first log line (the session may set its own)
  }
  return call;
}

void UpstreamCall::notifyTransfer(int status, std::string_view phrase) {
  if (!nh_ || referEvent_.empty() || state_ == CallState::Terminated) return;
  log::CallScope scope(logId());
  const bool final = status >= 200;
  std::string frag = "SIP/2.0 " + std::to_string(status) + " " + std::string(phrase) + "\r\n";
  lg()->info("NOTIFY Event: {} to Genesys: {} {}{}", referEvent_, status, phrase, final ? " (subscription ends)" : "");
  nua_notify(nh_.get(), SIPTAG_EVENT_STR(referEvent_.c_str()),
             NUTAG_SUBSTATE(final ? nua_substate_terminated : nua_substate_active),
             SIPTAG_CONTENT_TYPE_STR("message/sipfrag"), SIPTAG_PAYLOAD_STR(frag.c_str()), TAG_END());
  if (final) {
    transfer_.reset();
    referEvent_.clear();
  }
}

void UpstreamCall::reportToReferrer(int status, const char* phrase) {
  if (referrerNotified_) return;
  auto referrer = referrer_.lock();
  if (!referrer) return;
  referrerNotified_ = true;
  referrer->notifyTransfer(status, safePhrase(phrase));
}

}  // namespace rtcgate::sip

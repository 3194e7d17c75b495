// SPDX-License-Identifier: Apache-2.0
// Transfers asked by the agent (JsSIP session.refer): the browser's REFER is checked, rebuilt for the Genesys leg
// and sent on that leg's dialog; Genesys's answer and the NOTIFYs of its subscription go back to the browser as
// our own messages in the browser dialog. Nothing is forwarded verbatim: each leg keeps its own dialog state.
#include "rtcgate/core/log.h"
#include "rtcgate/session/session.h"
#include "rtcgate/sip/sipfrag.h"

namespace rtcgate::session {
namespace {

spdlog::logger* lg() { return log::get(log::Component::Session); }

// How long the browser keeps the refer subscription alive (Subscription-State expires); Genesys's NOTIFYs end it.
constexpr int kReferSubscriptionS = 60;

// A URI header value (RFC 3261 25.1 hvalue) escaped for a Refer-To: unreserved characters kept, the rest %XX.
std::string uriHeaderEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    const bool unreserved = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' ||
                            c == '(' || c == ')';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Genesys's failure for our REFER, as the browser gets it: the same class. A challenge (401/407) is Genesys's
// business with us, never the browser's.
std::pair<int, const char*> browserReferFailure(int status) {
  switch (status) {
    case 401:
    case 407:
    case 403: return {403, "Forbidden"};
    case 404: return {404, "Not Found"};
    case 405: return {405, "Method Not Allowed"};
    case 408: return {408, "Request Timeout"};
    case 481: return {481, "Call/Transaction Does Not Exist"};
    case 488: return {488, "Not Acceptable Here"};
    case 491: return {491, "Request Pending"};
    case 501: return {501, "Not Implemented"};
    case 503: return {503, "Service Unavailable"};
    default: break;
  }
  if (status >= 700) return {500, "Server Internal Error"};  // nua's own errors (900: the REFER was never sent)
  if (status >= 600) return {603, "Decline"};
  if (status >= 500) return {500, "Server Internal Error"};
  return {403, "Forbidden"};  // 3xx and other 4xx: refused
}

}  // namespace

bool Session::hasBrowserDialog(const std::string& callId, const std::string& tag1, const std::string& tag2) const {
  if (!dialog_ || browserDone_ || dialog_->callId() != callId) return false;
  const auto& a = dialog_->localTag();
  const auto& b = dialog_->remoteTag();
  return (a == tag1 && b == tag2) || (a == tag2 && b == tag1);
}

void Session::onBrowserRefer(const signaling::ReferRequest& refer) {
  if (!dialog_) return;
  const bool established = state_ == CallState::Connected && upstream_ && !upstreamDone_ &&
                           (upstream_->state() == sip::CallState::Confirmed ||
                            upstream_->state() == sip::CallState::Answered);
  if (!established) {
    lg()->warn("agent's REFER refused (403): the call is not established");
    dialog_->answerRefer(403, "Forbidden");
    return;
  }
  // One transfer at a time: the first one's subscription must end (or fail) before another is relayed.
  if (browserReferId_ || upstream_->referInProgress()) {
    lg()->warn("agent's REFER refused (491): a transfer of this call is still in progress");
    dialog_->answerRefer(491, "Request Pending");
    return;
  }
  std::string referTo;
  std::string_view phrase = "Forbidden";
  if (int status = referTarget(refer, &referTo, &phrase); status != 0) {
    dialog_->answerRefer(status, phrase);
    return;
  }
  const std::string referredBy = "<" + deps_.sip.userUri(dn_) + ">";
  if (!upstream_->refer(referTo, referredBy)) {
    dialog_->answerRefer(491, "Request Pending");
    return;
  }
  browserReferId_ = refer.id;
}

int Session::referTarget(const signaling::ReferRequest& refer, std::string* referTo, std::string_view* phrase) {
  if (!refer.sipUri) {
    lg()->warn("agent's REFER refused (416): Refer-To is not a SIP URI");
    *phrase = "Unsupported URI Scheme";
    return 416;
  }
  // The same destination policy as the agent's own calls; only the user part goes to Genesys, in its domain.
  const DestinationVerdict v = deps_.checkDestination ? deps_.checkDestination(refer.targetUser, refer.targetHost)
                                                      : checkDestination(*config_, refer.targetUser, refer.targetHost);
  if (v != DestinationVerdict::Allowed) {
    lg()->warn("agent's REFER to '{}@{}' refused (403): {}", log::escaped(refer.targetUser),
               log::escaped(refer.targetHost), refusalDescription(v));
    *phrase = refusalPhrase(v);
    return 403;
  }
  std::string uri = deps_.sip.userUri(refer.targetUser);
  if (refer.hasReplaces) {
    // Attended transfer: Replaces names the agent's other call by its browser dialog; Genesys knows it by its own.
    std::shared_ptr<Session> other = deps_.findByBrowserDialog
                                         ? deps_.findByBrowserDialog(refer.replacesCallId, refer.replacesToTag,
                                                                     refer.replacesFromTag)
                                         : nullptr;
    // Unknown, this very call, or another agent's call: all refused alike (nothing tells them apart).
    const bool sameAgent = other && other.get() != this && other->dn_ == dn_ && other->dialog_ &&
                           other->dialog_->agent() == dialog_->agent();
    std::string replaces = sameAgent && other->state_ == CallState::Connected && other->upstream_ &&
                                   !other->upstreamDone_
                               ? other->upstream_->replacesValue()
                               : std::string();
    if (replaces.empty()) {
      lg()->warn("agent's REFER refused (403): Replaces names no established call of this agent ({})",
                 log::escaped(refer.replacesCallId));
      return 403;
    }
    lg()->info("agent transfers the call to {} replacing call {} (attended)", log::escaped(refer.targetUser),
               other->id_);
    uri += "?Replaces=" + uriHeaderEscape(replaces);
  } else {
    lg()->info("agent transfers the call to {} (blind)", log::escaped(refer.targetUser));
  }
  *referTo = "<" + uri + ">";
  return 0;
}

void Session::onReferResponse(int status, std::string_view phrase) {
  log::CallScope scope(id_);
  if (!dialog_ || !browserReferId_) return;
  if (status < 300) {
    lg()->info("Genesys accepted the transfer ({}): 202 to the browser", status);
    dialog_->answerRefer(202, "Accepted");
    return;
  }
  auto [code, reason] = browserReferFailure(status);
  lg()->warn("Genesys refused the transfer: {} {}; {} to the browser", status, log::escaped(phrase), code);
  dialog_->answerRefer(code, reason);
  browserReferId_.reset();
}

void Session::onReferNotify(int code, std::string_view phrase, bool terminated) {
  log::CallScope scope(id_);
  if (!dialog_ || !browserReferId_) return;
  // Only the status line crosses, rebuilt by us; Genesys's headers of the far end's response stay behind.
  const std::string state =
      terminated ? "terminated;reason=noresource" : "active;expires=" + std::to_string(kReferSubscriptionS);
  const std::string body = code != 0 ? sip::sipfragBody(code, phrase) : std::string();
  const bool sent = dialog_->notifyRefer(*browserReferId_, state, body);
  lg()->info("transfer progress {}: NOTIFY to the browser {}", code, sent ? "sent" : "not sent (no dialog)");
  if (terminated) browserReferId_.reset();
}

}  // namespace rtcgate::session

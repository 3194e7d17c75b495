// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/upstream_call.h"

#include "nua_glue.h"
#include "rtcgate/core/log.h"

namespace rtcgate::sip {
namespace {
spdlog::logger* lg() { return log::get(log::Component::Sip); }
constexpr const char* kSdpType = "application/sdp";
constexpr const char* kCallUuidHeader = "X-Genesys-CallUUID";
constexpr const char* kBusyRetryAfter = "5";
}  // namespace

const char* toString(CallState s) {
  switch (s) {
    case CallState::Offered: return "offered";
    case CallState::Ringing: return "ringing";
    case CallState::Answered: return "answered";
    case CallState::Confirmed: return "confirmed";
    case CallState::Terminated: return "terminated";
  }
  return "?";
}

UpstreamCall::UpstreamCall(EventLoop& loop, nua_handle_s* nh, Params params)
    : loop_(loop), nh_(nh), params_(std::move(params)) {
  lateOffer_ = params_.direction == CallDirection::Inbound && params_.remoteSdp.empty();
}

UpstreamCall::~UpstreamCall() = default;

void UpstreamCall::detach(bool destroyHandle) {
  if (destroyHandle)
    nh_.reset();
  else
    (void)nh_.release();  // nua_destroy frees it
}

void UpstreamCall::ring() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!nh_ || params_.direction != CallDirection::Inbound || state_ != CallState::Offered) return;
  log::CallScope scope(logId());
  nua_respond(nh_.get(), SIP_180_RINGING, SIPTAG_ALLOW_EVENTS_STR(kAllowEvents), TAG_END());
  state_ = CallState::Ringing;
}

void UpstreamCall::answer(const std::string& sdp) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!nh_ || params_.direction != CallDirection::Inbound ||
      (state_ != CallState::Offered && state_ != CallState::Ringing))
    return;
  log::CallScope scope(logId());
  localSdp_ = sdp;
  nua_respond(nh_.get(), SIP_200_OK, SIPTAG_ALLOW_EVENTS_STR(kAllowEvents), SIPTAG_CONTENT_TYPE_STR(kSdpType),
              SIPTAG_PAYLOAD_STR(localSdp_.c_str()), TAG_END());
  state_ = CallState::Answered;
  lg()->info("call to DN {} answered{}", params_.dn, lateOffer_ ? " (late offer: our offer in 200)" : "");
}

void UpstreamCall::reject(int status, const char* phrase) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!nh_ || params_.direction != CallDirection::Inbound ||
      (state_ != CallState::Offered && state_ != CallState::Ringing) || status < 300 || status > 699)
    return;
  log::CallScope scope(logId());
  // A 503 here is a full gateway (security.max_calls) or a drain: RFC 3261 21.5.4 lets it say when to come back.
  // Short, because slots free as calls end and Genesys should not keep the DN out of service for long.
  nua_respond(nh_.get(), status, phrase, TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(kBusyRetryAfter)), TAG_END());
}

void UpstreamCall::hangup() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!nh_) return;
  log::CallScope scope(logId());
  switch (state_) {
    case CallState::Offered:
    case CallState::Ringing:
      if (params_.direction == CallDirection::Inbound)
        reject(SIP_480_TEMPORARILY_UNAVAILABLE);
      else
        nua_cancel(nh_.get(), TAG_END());
      break;
    case CallState::Answered:
    case CallState::Confirmed:
      nua_bye(nh_.get(), TAG_END());
      break;
    case CallState::Terminated:
      break;
  }
}

bool UpstreamCall::reinvite(const std::string& sdp) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!nh_ || reinvitePending_ || (state_ != CallState::Confirmed && state_ != CallState::Answered)) return false;
  log::CallScope scope(logId());
  localSdp_ = sdp;
  reinvitePending_ = true;
  nua_invite(nh_.get(), SIPTAG_ALLOW_EVENTS_STR(kAllowEvents), SIPTAG_CONTENT_TYPE_STR(kSdpType),
             SIPTAG_PAYLOAD_STR(localSdp_.c_str()), TAG_END());
  return true;
}

void UpstreamCall::onInviteReply(int status, const char* phrase, const sip_s* sip) {
  if (reinvitePending_) {
    // The answer to our re-INVITE (nua sends the ACK itself).
    if (status < 200) return;
    log::CallScope scope(logId());
    reinvitePending_ = false;
    lg()->info("re-INVITE to Genesys answered {} {}", status, phrase != nullptr ? phrase : "");
    std::string_view body = status < 300 ? bodyOf(sip) : std::string_view{};
    if (!body.empty()) params_.remoteSdp = std::string(body);
    if (observer_ != nullptr) observer_->onReinviteAnswer(status, body);
    return;
  }
  if (params_.direction != CallDirection::Outbound) return;
  log::CallScope scope(logId());
  if (state_ == CallState::Confirmed || state_ == CallState::Terminated) {
    // A session-timer refresh nua sent by itself (RFC 4028): the SDP is unchanged, nothing to tell the session.
    if (status >= 200) lg()->debug("session refresh re-INVITE answered {} {}", status, phrase != nullptr ? phrase : "");
    return;
  }
  if (sip != nullptr && params_.genesysCallUuid.empty()) params_.genesysCallUuid = unknownHeader(sip, kCallUuidHeader);
  if (params_.callId.empty() && sip != nullptr && sip->sip_call_id != nullptr) params_.callId = sip->sip_call_id->i_id;
  // nua's own status for the request ended below (904): the call's outcome is already set.
  if (status >= 900 && finalStatus_ != 0) return;
  if (status == 401 || status == 407) {
    if (!authTried_ && !authPassword_.empty()) {
      std::string cred = digestCredentials(sip, authUser_, authPassword_);
      if (!cred.empty()) {
        authTried_ = true;
        nua_authenticate(nh_.get(), NUTAG_AUTH(cred.c_str()), TAG_END());
        return;
      }
    }
    // Challenged again (credentials refused) or nothing to answer with. nua keeps a challenged request waiting
    // for credentials forever: the browser got no final answer, the call was never released and held shutdown
    // up. nua_authenticate without credentials ends the request (904) and so the call.
    finalStatus_ = 403;
    lg()->warn("call from DN {}: upstream challenged ({}) {}: failed as 403", params_.dn, status,
               authTried_ ? "the authenticated retry" : "and no dn_password is set");
    reportToReferrer(403, "Forbidden");
    nua_authenticate(nh_.get(), TAG_END());
    return;
  }
  if (status > 100 && status < 200) {
    if (state_ == CallState::Offered) state_ = CallState::Ringing;
    if (observer_ != nullptr) observer_->onProgress(status, bodyOf(sip));
  } else if (status >= 200 && status < 300) {
    chooseRefreshMethod(sip);
    params_.remoteSdp = std::string(bodyOf(sip));
    state_ = CallState::Confirmed;  // nua sends the ACK itself
    lg()->info("call from DN {} answered ({})", params_.dn, status);
    reportToReferrer(status, phrase);
    if (observer_ != nullptr) observer_->onAnswered(params_.remoteSdp);
  } else if (status >= 300) {
    finalStatus_ = status;
    lg()->info("call from DN {} failed: {} {}", params_.dn, status, phrase != nullptr ? phrase : "");
    reportToReferrer(status, phrase);
  }
}

void UpstreamCall::chooseRefreshMethod(const sip_s* sip) {
  // RFC 4028: when rtcgate is the refresher nua refreshes at half the interval. By UPDATE without SDP (nothing to
  // renegotiate) only if Genesys allows UPDATE; otherwise by re-sending our INVITE, SDP unchanged, on our own calls.
  // On Genesys's calls nua would have to send an offerless re-INVITE (no INVITE of ours to repeat), whose answer
  // would belong in an ACK nua cannot fill: there, without UPDATE, leave the refreshing to Genesys when it lets us
  // choose (refresher=uac in our 2xx).
  const bool update = sip != nullptr && sip->sip_allow != nullptr &&
                      sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE") != 0;
  if (update || params_.direction == CallDirection::Outbound)
    nua_set_hparams(nh_.get(), NUTAG_UPDATE_REFRESH(update ? 1 : 0), TAG_END());
  else
    nua_set_hparams(nh_.get(), NUTAG_UPDATE_REFRESH(0), NUTAG_SESSION_REFRESHER(nua_remote_refresher), TAG_END());
}

void UpstreamCall::onCallState(int callState, int status, const char* phrase, const sip_s*) {
  if (callState != nua_callstate_terminated || state_ == CallState::Terminated) return;
  terminate(finalStatus_ != 0 ? finalStatus_ : status, phrase != nullptr ? phrase : "");
}

void UpstreamCall::onReinvite(const sip_s* sip) {
  log::CallScope scope(logId());
  // Each leg keeps its own offer/answer state: the session layer answers from the Genesys leg's state and the
  // browser leg is not touched. An offerless re-INVITE (retrieve) gets a fresh offer and its answer is in the ACK.
  std::string_view offer = bodyOf(sip);
  if (!offer.empty()) {
    std::string answer = observer_ != nullptr ? observer_->onReoffer(offer) : std::string();
    if (answer.empty()) {
      lg()->warn("re-INVITE offer refused (488)");
      nua_respond(nh_.get(), SIP_488_NOT_ACCEPTABLE, TAG_END());
      return;
    }
    params_.remoteSdp = std::string(offer);
    localSdp_ = std::move(answer);
  } else {
    if (observer_ != nullptr)
      if (auto ours = observer_->onOfferRequested(); !ours.empty()) localSdp_ = std::move(ours);
    if (localSdp_.empty()) {
      nua_respond(nh_.get(), SIP_488_NOT_ACCEPTABLE, TAG_END());
      return;
    }
    awaitingAckAnswer_ = true;
  }
  nua_respond(nh_.get(), SIP_200_OK, SIPTAG_ALLOW_EVENTS_STR(kAllowEvents), SIPTAG_CONTENT_TYPE_STR(kSdpType),
              SIPTAG_PAYLOAD_STR(localSdp_.c_str()), TAG_END());
}

void UpstreamCall::onAck(const sip_s* sip) {
  if (awaitingAckAnswer_) {
    log::CallScope scope(logId());
    awaitingAckAnswer_ = false;
    std::string_view answer = bodyOf(sip);
    if (answer.empty()) {
      lg()->warn("ACK of our offer in a re-INVITE's 200 carries no answer");
      return;
    }
    params_.remoteSdp = std::string(answer);
    if (observer_ != nullptr) observer_->onReinviteAnswer(200, answer);
    return;
  }
  if (params_.direction != CallDirection::Inbound || state_ != CallState::Answered) return;
  log::CallScope scope(logId());
  std::string_view body = bodyOf(sip);
  if (lateOffer_ && !body.empty()) params_.remoteSdp = std::string(body);
  state_ = CallState::Confirmed;
  if (observer_ != nullptr) observer_->onConfirmed(body);
}

void UpstreamCall::terminate(int status, std::string_view reason) {
  log::CallScope scope(logId());
  state_ = CallState::Terminated;
  finalStatus_ = status;
  lg()->info("call {} DN {} ended: {} {}", params_.direction == CallDirection::Inbound ? "to" : "from", params_.dn,
             status, reason);
  if (observer_ != nullptr) observer_->onTerminated(status, reason);
}

bool UpstreamCall::onNotify(std::string_view event) {
  // Only the BroadWorks remote-control packages we advertise in Allow-Events, on a live INVITE dialog.
  if (state_ == CallState::Terminated || (event != "talk" && event != "hold")) return false;
  if (observer_ != nullptr) loop_.post([self = weak_from_this(), ev = std::string(event)] {
      if (auto s = self.lock(); s && s->observer_ != nullptr && s->state_ != CallState::Terminated)
        s->observer_->onRemoteControl(ev);
    });
  return true;
}

}  // namespace rtcgate::sip

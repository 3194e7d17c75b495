// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/sip/handle_owner.h"

namespace rtcgate {
class EventLoop;
}

namespace rtcgate::sip {

enum class CallDirection { Inbound, Outbound };
class UpstreamCall;

// A transfer asked by Genesys on an established call (in-dialog REFER, rtcgate as transferee, RFC 3515), validated
// by the SIP layer before anything is sent: the target is a user on the upstream, nothing else.
struct TransferRequest {
  std::string target;      // the Refer-To user part (dial characters only)
  std::string replaces;    // the Replaces header embedded in Refer-To, unescaped; empty for a blind transfer
  std::string referredBy;  // "<sip:...>" of the referrer (Referred-By of the REFER, else its From)
};
enum class CallState { Offered, Ringing, Answered, Confirmed, Terminated };
const char* toString(CallState s);

// What the session layer hears about one upstream call. Thread: the control loop.
class UpstreamCallObserver {
public:
  virtual ~UpstreamCallObserver() = default;
  // Outbound: a 18x, with its SDP when it carries one (early media).
  virtual void onProgress(int /*status*/, std::string_view /*sdp*/) {}
  // Outbound: the 2xx and its SDP answer.
  virtual void onAnswered(std::string_view /*sdp*/) {}
  // Inbound: the ACK of our 2xx; for a late-offer INVITE it carries the upstream's answer.
  virtual void onConfirmed(std::string_view /*ackSdp*/) {}
  // A re-INVITE with an offer in an established call (hold, retrieve, media moved to a conference bridge).
  // Returns our answer SDP; empty refuses the offer (488, the previous SDP stays in force).
  virtual std::string onReoffer(std::string_view /*offer*/) { return {}; }
  // An offerless re-INVITE (Genesys retrieve): our offer for the 200, built from the leg's current state; the answer
  // follows in the ACK (onReinviteAnswer). Empty: our previous SDP is offered again.
  virtual std::string onOfferRequested() { return {}; }
  // The answer to our offer in an established call: the 2xx to our re-INVITE (status 200-299, or the failure status
  // with an empty sdp), or the ACK of an offerless re-INVITE (status 200).
  virtual void onReinviteAnswer(int /*status*/, std::string_view /*sdp*/) {}
  // The call is over: the final status of a failed INVITE (404, 486, 487...), or 200 after a BYE.
  virtual void onTerminated(int /*status*/, std::string_view /*reason*/) {}
  // Remote control from the agent desktop (BroadWorks "talk"/"hold" event packages, sent by SIP Server as an
  // in-dialog NOTIFY without body, already answered 200): "talk" answers a ringing call (TAnswerCall) or retrieves
  // a held one, "hold" holds it (THoldCall; the media change follows in a re-INVITE).
  virtual void onRemoteControl(std::string_view /*event*/) {}
  // Our REFER (transfer asked by the agent): its final response (408 when Genesys never answered).
  virtual void onReferResponse(int /*status*/, std::string_view /*phrase*/) {}
  // A NOTIFY of our REFER's subscription: the status line of its sipfrag (code 0 when it carried none usable), and
  // whether the subscription is over (Subscription-State: terminated, or no NOTIFY came in time: code 408).
  virtual void onReferNotify(int /*code*/, std::string_view /*phrase*/, bool /*terminated*/) {}
  // Genesys REFERred this established call (already answered 202, NOTIFY "100 Trying" sent). The observer places
  // the new INVITE with SipStack::placeTransfer and returns true; false refuses (NOTIFY 603). The outcome reaches
  // Genesys as the final NOTIFY without further help from the observer.
  virtual bool onTransferRequested(const TransferRequest& /*request*/) { return false; }
  // Genesys's new INVITE `call` carries Replaces naming this established call (RFC 3891, e.g. the completion of a
  // consultation): the observer takes `call` as its Genesys leg (answers it) and ends this one; false refuses (488).
  virtual bool onReplacedBy(std::shared_ptr<UpstreamCall> /*call*/) { return false; }
};

// One SIP dialog with the upstream (Genesys SIP Server), inbound to a DN or outbound from one.
// Thread: the control loop. Methods on a terminated call, or after the SipStack is gone, do nothing.
class UpstreamCall final : public HandleOwner, public std::enable_shared_from_this<UpstreamCall> {
public:
  struct Params {
    CallDirection direction = CallDirection::Inbound;
    std::string dn;
    std::string callId;
    std::string genesysCallUuid;
    std::string remoteSdp;  // inbound: the INVITE's offer (empty: late offer)
    // inbound: the INVITE's Call-Info values carrying answer-after (auto-answer request), for the browser's INVITE
    std::string autoAnswerCallInfo;
    // inbound: who calls, from the INVITE's From, for the browser's INVITE (the agent app shows it). Only a user
    // part of SIP user characters and a display name without quotes, backslashes or controls; else empty.
    std::string callerUser;
    std::string callerName;
  };
  UpstreamCall(EventLoop& loop, nua_handle_s* nh, Params params);
  ~UpstreamCall() override;
  UpstreamCall(const UpstreamCall&) = delete;
  UpstreamCall& operator=(const UpstreamCall&) = delete;

  CallDirection direction() const { return params_.direction; }
  const std::string& dn() const { return params_.dn; }
  const std::string& callId() const { return params_.callId; }
  // X-Genesys-CallUUID of the call (from the INVITE inbound, from the first response carrying it outbound).
  const std::string& genesysCallUuid() const { return params_.genesysCallUuid; }
  // The upstream's SDP: its offer (inbound), its answer (outbound, or inbound late offer after the ACK).
  const std::string& remoteSdp() const { return params_.remoteSdp; }
  // Call-Info value(s) with answer-after from the inbound INVITE ("<sip:...>;answer-after=0"); empty if none.
  const std::string& autoAnswerCallInfo() const { return params_.autoAnswerCallInfo; }
  const std::string& callerUser() const { return params_.callerUser; }
  const std::string& callerName() const { return params_.callerName; }
  // Inbound INVITE without SDP: answer() then carries our offer and the ACK the upstream's answer.
  bool lateOffer() const { return lateOffer_; }
  CallState state() const { return state_; }
  int finalStatus() const { return finalStatus_; }

  void setObserver(UpstreamCallObserver* observer) { observer_ = observer; }
  // The session's call id for this leg's log lines (before the Genesys Call-ID is known, and after).
  void setLogId(std::string id) { logId_ = std::move(id); }
  const std::string& logId() const { return logId_.empty() ? params_.callId : logId_; }
  // Inbound: 180 Ringing (with Allow-Events: talk, hold).
  void ring();
  // Inbound: 200 OK with our SDP (the answer, or our offer for a late-offer INVITE).
  void answer(const std::string& sdp);
  // Inbound, before answer(): a final error response (486, 480, 603...).
  void reject(int status, const char* phrase);
  // Any state: CANCEL (outbound early), 480 (inbound early), BYE (answered).
  void hangup();
  // Established call: a re-INVITE with our new offer `sdp` (hold, unhold). The result comes to onReinviteAnswer.
  // False (nothing sent) when the call is not established or a re-INVITE of ours is still pending.
  bool reinvite(const std::string& sdp);
  bool reinvitePending() const { return reinvitePending_; }
  // Established call: REFER (RFC 3515) asking Genesys to transfer this call to `referTo` (a whole Refer-To value,
  // "<sip:...>"), on behalf of `referredBy` (a Referred-By value). The response comes to onReferResponse, the
  // subscription's NOTIFYs to onReferNotify. False (nothing sent) when the call is not established or a REFER of
  // ours is still in progress (unanswered, or its subscription not yet terminated).
  bool refer(const std::string& referTo, const std::string& referredBy);
  bool referInProgress() const { return referState_ != ReferState::None; }
  // This dialog's ids as a Replaces value ("call-id;from-tag=ours;to-tag=theirs", RFC 3891, as the transferor
  // names them), for the Refer-To of an attended transfer; empty when the dialog is not established.
  std::string replacesValue() const;

  // A REFER from Genesys on this call awaits the outcome of its new INVITE (the final NOTIFY is not sent yet).
  bool transferPending() const { return transfer_.has_value(); }
  // On a call placed by SipStack::placeTransfer: the call whose REFER it answers (null once that one is gone).
  std::shared_ptr<UpstreamCall> referrer() const { return referrer_.lock(); }

  // Called by SipStack: the handle goes away (call over), or is abandoned to nua_destroy (stack shut down).
  void detach(bool destroyHandle = true);

private:
  void onInviteReply(int status, const char* phrase, const sip_s* sip) override;
  void onCallState(int callState, int status, const char* phrase, const sip_s* sip) override;
  void onReinvite(const sip_s* sip) override;
  void onAck(const sip_s* sip) override;
  bool onNotify(std::string_view event) override;
  void onReferReply(int status, const char* phrase, const sip_s* sip) override;
  bool onReferNotify(int status, const sip_s* sip) override;
  void terminate(int status, std::string_view reason);
  // RFC 4028: how nua refreshes this session when rtcgate is the refresher, from the peer's Allow (see the .cpp).
  void chooseRefreshMethod(const sip_s* sip);
  // RFC 3515 §2.4.5: NOTIFY Event: refer with a message/sipfrag status line; a final status ends the subscription.
  void notifyTransfer(int status, std::string_view phrase);
  // A call placed for a REFER: its final response goes to the referrer's subscription (upstream_transfer.cpp).
  void reportToReferrer(int status, const char* phrase);
  friend class SipStack;

  EventLoop& loop_;
  std::unique_ptr<nua_handle_s, NuaHandleDeleter> nh_;
  Params params_;
  bool lateOffer_ = false;
  CallState state_ = CallState::Offered;
  int finalStatus_ = 0;
  std::string localSdp_;
  UpstreamCallObserver* observer_ = nullptr;
  bool reinvitePending_ = false;    // our re-INVITE awaits its final response
  bool awaitingAckAnswer_ = false;  // we offered in a 2xx to an offerless re-INVITE: the answer is in the ACK
  enum class ReferState { None, Sent, Subscribed };
  ReferState referState_ = ReferState::None;  // our REFER: awaiting its final response, then its NOTIFYs
  Timer referWait_;  // ends a subscription whose next NOTIFY does not come (upstream_refer.cpp)
  void waitForReferNotify(std::chrono::seconds wait);
  void referWaitExpired();
  bool authTried_ = false;
  std::string authUser_;
  std::string authPassword_;  // the DN's digest password (outbound calls); never logged
  std::string logId_;
  std::optional<TransferRequest> transfer_;  // a REFER of Genesys on this call, until its final NOTIFY
  std::string referEvent_;                   // the REFER subscription's Event ("refer" or "refer;id=N")
  std::weak_ptr<UpstreamCall> referrer_;     // set on a call placed for a REFER
  bool referrerNotified_ = false;
};

// Implemented by the session layer: receives upstream calls to DNs whose agent is present.
class UpstreamCallHandler {
public:
  virtual ~UpstreamCallHandler() = default;
  // The handler keeps the call (shared_ptr), sets its observer and rings/answers/rejects it.
  virtual void onIncomingCall(std::shared_ptr<UpstreamCall> call) = 0;
};

}  // namespace rtcgate::sip

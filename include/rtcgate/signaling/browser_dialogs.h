// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/signaling/registrar.h"
#include "rtcgate/signaling/sip_transport.h"

namespace rtcgate::signaling {

class SipMessage;
class BrowserDialogs;

// An in-dialog REFER from the browser (JsSIP session.refer(target, {replaces})), already matched to its dialog and
// checked to come from that dialog's agent and connection. Answer it with BrowserDialog::answerRefer().
struct ReferRequest {
  uint32_t id = 0;         // the REFER's CSeq number: the id of its subscription ("Event: refer;id=", RFC 3515)
  bool sipUri = false;     // Refer-To is a sip: or sips: URI
  std::string targetUser;  // its user part as received (still %-escaped); only this is passed on
  std::string targetHost;  // its host, for the destination policy (security.destinations.own_domain_only)
  // The Replaces of an attended transfer (Refer-To "?Replaces=callid%3Bto-tag%3D..%3Bfrom-tag%3D.."), unescaped.
  bool hasReplaces = false;
  std::string replacesCallId, replacesToTag, replacesFromTag;
};

// What the session layer hears from one browser dialog. Every callback is optional.
struct DialogEvents {
  // Outgoing INVITE: each response (1xx with or without SDP, the 2xx, or the final failure; 408 on timeout).
  // After a 2xx to an INVITE without SDP (the browser's offer is in it) the ACK waits for acknowledge().
  std::function<void(int status, const std::string& reason, const std::string& sdp)> onResponse;
  // Incoming INVITE: the ACK for our 2xx arrived (sdp set when the browser answers an offer made in our 2xx).
  std::function<void(const std::string& sdp)> onAck;
  // A re-INVITE (update=false) or UPDATE (update=true) with an SDP offer: answer with answerReoffer(). Without
  // this callback the offer is answered with our current SDP.
  std::function<void(const std::string& sdp, bool update)> onReoffer;
  // INFO (e.g. application/dtmf-relay from JsSIP); already answered 200.
  std::function<void(const std::string& contentType, const std::string& body)> onInfo;
  // REFER inside the confirmed dialog. Without this callback REFER gets 405.
  std::function<void(const ReferRequest& refer)> onRefer;
  // The dialog waits for its browser to reconnect (calls.browser_reconnect_grace_ms) and the agent registered a
  // different browser (another JsSIP UA: the page was reloaded, the old call and media are gone with it).
  std::function<void(const Registration& registration)> onAgentNewBrowser;
  // The dialog is over (BYE, CANCEL, failure response, no ACK, connection lost). Called once; the dialog is dead.
  std::function<void(const std::string& why)> onTerminated;
};

// One INVITE dialog with a browser over its WebSocket connection, in either direction. Created by BrowserDialogs;
// the session layer holds it by shared_ptr, and must drop it before the BrowserDialogs (the WssServer) goes away.
// Thread: control.
class BrowserDialog : public std::enable_shared_from_this<BrowserDialog> {
public:
  enum class Direction { FromBrowser, ToBrowser };
  enum class State { Calling, Early, Confirmed, Terminated };

  Direction direction() const { return direction_; }
  State state() const { return state_; }
  const std::string& callId() const { return callId_; }
  const std::string& localTag() const { return localTag_; }
  const std::string& remoteTag() const { return remoteTag_; }
  const std::string& agent() const { return agent_; }
  ConnectionId connection() const { return connection_; }
  // FromBrowser: the INVITE's offer (empty for an offerless INVITE) and the dialed user (Request-URI user).
  const std::string& remoteOffer() const { return remoteOffer_; }
  const std::string& target() const { return target_; }
  const std::string& targetHost() const { return targetHost_; }  // the Request-URI host (destination policy)
  // The browser's connection closed with the call up and the reconnect grace runs.
  bool waitingForReconnect() const { return detached_ && !terminated_; }

  void setEvents(DialogEvents events) { events_ = std::move(events); }

  // FromBrowser, before the final answer: send 18x, 2xx (retransmitted until ACK, RFC 3261 13.3.1.4) or 3xx-6xx.
  void respond(int status, std::string_view reason, std::string sdp = {});
  // Answer the pending re-INVITE / UPDATE offer (2xx with SDP, or e.g. 488).
  void answerReoffer(int status, std::string_view reason, std::string sdp = {});
  // End the dialog from our side: BYE when confirmed, CANCEL for our unanswered INVITE, 480 for theirs.
  void hangup(std::string_view reason = "Normal");
  // ToBrowser, our INVITE had no SDP: ACK the browser's 2xx with our answer to the offer in it (RFC 3261 13.2.2.4;
  // every retransmission of that 2xx gets the same ACK). An empty `sdp` ACKs without an answer (the caller then
  // ends the dialog). Does nothing once the ACK went out.
  void acknowledge(std::string sdp);
  // Send a request inside the confirmed dialog (e.g. INFO application/dtmf-relay). False when not possible.
  // INFO may also go on the early dialog of our INVITE (after a 18x with a To-tag): JsSIP accepts it while ringing.
  // While the browser's connection is gone (reconnect grace) a few requests wait for it; more are dropped (false).
  bool sendRequest(std::string_view method, std::string_view contentType = {}, std::string_view body = {});
  // A re-INVITE of ours with an SDP offer inside the confirmed dialog (an ICE restart after rtcgate re-created its
  // TURN allocation). `done` gets the final response (2xx with the answer, which is ACKed here; a failure, also
  // ACKed; 408 when none came within Timer B). The dialog stays up whatever the answer (RFC 3261 14.1). False (and
  // no `done`) when it cannot be sent: not confirmed, connection gone, or an offer already pending either way.
  bool reinvite(std::string sdp, std::function<void(int status, const std::string& sdp)> done);
  // Answer the pending REFER (202, or a failure). Nothing when none is pending.
  void answerRefer(int status, std::string_view reason);
  bool referPending() const { return refer_ != nullptr; }
  // NOTIFY of the subscription a REFER created (RFC 3515): Event: refer;id=<id>, the given Subscription-State
  // value, and a message/sipfrag body (none when empty). False when the dialog cannot carry it.
  bool notifyRefer(uint32_t id, std::string_view subscriptionState, std::string_view sipfrag);

private:
  friend class BrowserDialogs;
  BrowserDialog(BrowserDialogs& owner, Direction direction, ConnectionId connection, std::string agent);
  // extraHeaders: whole header lines, each ending in CRLF.
  std::string buildRequest(std::string_view method, uint32_t cseq, std::string_view branch,
                           std::string_view contentType, std::string_view body, bool ack = false,
                           std::string_view extraHeaders = {}) const;
  void sendFinalAndTrack(std::string response);
  // linger: the dialog is over for the session, but stays known until its parked BYE reaches the reconnected
  // browser or the reconnect grace ends.
  void terminate(const std::string& why, bool linger = false);
  bool retransmit();
  // Reconnect grace (browser_reconnect.cpp): the connection closed with the call up, the agent's browser came back
  // on `connection`, a request built while it was gone.
  void detach(std::chrono::milliseconds grace);
  void rebind(ConnectionId connection, std::string_view how);
  bool sendOrPark(std::string request, std::string_view method);
  void graceExpired();
  void holdAgent(bool hold);
  void dropParked(std::string_view why);
  void onReinviteResponse(ConnectionId connection, const SipMessage& response);

  BrowserDialogs& owner_;
  Direction direction_;
  State state_ = State::Calling;
  ConnectionId connection_;
  std::string agent_;
  std::string callId_;
  std::string localTag_, remoteTag_;
  std::string localUri_, remoteUri_;  // From/To header values without tags (name-addr)
  std::string remoteTarget_;          // Request-URI for our requests (the browser's Contact)
  std::string target_;
  std::string targetHost_;
  std::string remoteOffer_;
  std::string localSdp_;
  std::vector<std::string> inviteHeaders_;  // ToBrowser: extra header lines of our initial INVITE
  uint32_t localCseq_ = 0;
  uint32_t remoteCseq_ = 0;
  std::string inviteBranch_;  // ToBrowser: our INVITE's branch, for CANCEL and ACK of non-2xx
  bool offerInResponse_ = false;  // ToBrowser: our INVITE had no SDP, the browser offers in its 2xx
  uint32_t reinviteCseq_ = 0;  // our pending re-INVITE (0: none); its branch for the ACK of a failure
  std::string reinviteBranch_;
  std::function<void(int status, const std::string& sdp)> reinviteDone_;
  std::string reinviteAck_;  // the ACK of its 2xx, re-sent for retransmissions
  Timer reinviteTimer_;
  uint32_t ackCseq_ = 0;          // ToBrowser: CSeq of the 2xx whose ACK acknowledge() sends (0: none waiting)
  std::string ack_;               // ToBrowser: the ACK sent for our INVITE's 2xx, re-sent for its retransmissions
  std::unique_ptr<SipMessage> invite_;       // FromBrowser: the INVITE being answered
  std::unique_ptr<SipMessage> reoffer_;      // the pending re-INVITE / UPDATE
  std::unique_ptr<SipMessage> refer_;        // the REFER awaiting our answer
  std::string sessionExpiresHeader_;         // echoed on 2xx when the browser asked for session timers
  std::string pending2xx_;                   // 2xx being retransmitted until ACK
  uint32_t pending2xxCseq_ = 0;              // CSeq of the INVITE that 2xx answers (its ACK carries it)
  std::chrono::milliseconds retransmitInterval_{500};
  std::chrono::steady_clock::time_point retransmitDeadline_;
  Timer retransmitTimer_;
  Timer timeoutTimer_;  // ToBrowser: Timer B (no final response)
  bool finalSent_ = false;
  bool terminated_ = false;
  // Reconnect grace: no connection to the browser; requests for it wait in parked_ until it comes back.
  bool detached_ = false;
  bool lingering_ = false;
  bool holdsAgent_ = false;  // counted in BrowserDialogs::detachedByAgent_
  std::chrono::steady_clock::time_point detachedAt_;
  std::vector<std::string> parked_;
  Timer graceTimer_;
  DialogEvents events_;
};

// The dialog layer of the browser leg: matches requests and responses to dialogs (RFC 3261 12, 17), answers
// what needs no session decision (CANCEL, BYE, INFO, in-dialog OPTIONS, 481, 491) and creates outgoing INVITEs.
// Thread: control.
class BrowserDialogs {
public:
  // A new INVITE from an authenticated agent. The handler must eventually call dialog->respond().
  using IncomingHandler = std::function<void(std::shared_ptr<BrowserDialog> dialog)>;

  BrowserDialogs(EventLoop& loop, SipTransport& transport, Metrics& metrics);
  ~BrowserDialogs();

  void setIncomingHandler(IncomingHandler handler) { incoming_ = std::move(handler); }

  // Send an INVITE to a registered browser Contact over the connection it registered on.
  // `extraHeaders`: whole header lines without CRLF (e.g. "Call-Info: <sip:...>;answer-after=0"), INVITE only.
  // `fromName`: the From display name (the caller, as the agent app shows it); quotes, backslashes and control
  // characters are dropped.
  std::shared_ptr<BrowserDialog> invite(const Registration& target, const std::string& fromUser,
                                        const std::string& sdp, DialogEvents events,
                                        std::vector<std::string> extraHeaders = {}, const std::string& fromName = {});

  void onRequest(ConnectionId connection, const std::string& agent, std::unique_ptr<SipMessage> request);
  void onResponse(ConnectionId connection, const SipMessage& response);
  // Confirmed dialogs on the connection wait `reconnectGrace` for the agent's browser to come back (0: they end).
  void connectionClosed(ConnectionId connection);
  // The agent registered a binding: its dialogs with that Contact (the same JsSIP UA, which reconnected) now use
  // its connection and requests parked for them are sent; its dialogs waiting for another UA hear onAgentNewBrowser.
  void agentRegistered(const Registration& registration);

  void setReconnectGrace(std::chrono::milliseconds grace) { reconnectGrace_ = grace; }
  // Told when an agent gets its first dialog waiting for a reconnect (true) and when its last one stops waiting
  // (false): the agent's DN stays registered upstream meanwhile.
  void setGraceListener(std::function<void(const std::string& agent, bool waiting)> listener) {
    graceListener_ = std::move(listener);
  }

  size_t size() const { return dialogs_.size(); }
  // RFC 3261 T1 (2xx retransmission base) and 64*T1 (ACK wait, Timer B); shorter values are for tests.
  void setTimers(std::chrono::milliseconds t1, std::chrono::milliseconds transactionTimeout) {
    t1_ = t1;
    timerB_ = transactionTimeout;
  }

private:
  friend class BrowserDialog;
  std::shared_ptr<BrowserDialog> find(const std::string& callId, const std::string& localTag);
  void forget(const BrowserDialog& dialog);
  // An in-dialog REFER (browser_refer.cpp).
  void onRefer(ConnectionId connection, const std::string& agent, const std::shared_ptr<BrowserDialog>& dialog,
               std::unique_ptr<SipMessage> request);
  // An in-dialog request on another connection than the dialog's: accepted only from the same agent while the
  // dialog waits for its browser to reconnect (the dialog moves there); anything else is refused (403), so no
  // connection can take over another agent's call.
  bool acceptFromConnection(BrowserDialog& dialog, ConnectionId connection, const std::string& agent,
                            const std::string& method);
  void agentWaiting(const std::string& agent, bool waiting);
  void reply(ConnectionId connection, const SipMessage& request, int status, std::string_view reason,
             const std::vector<std::string>& headers = {});

  EventLoop& loop_;
  SipTransport& transport_;
  IncomingHandler incoming_;
  // Keyed by Call-ID + our tag (our tag is chosen before the dialog exists, so it identifies it from the start).
  std::map<std::pair<std::string, std::string>, std::shared_ptr<BrowserDialog>> dialogs_;
  std::atomic<uint64_t>& unknownDialog_;
  std::chrono::milliseconds reconnectGrace_{0};
  std::function<void(const std::string& agent, bool waiting)> graceListener_;
  std::map<std::string, int> detachedByAgent_;
  std::atomic<uint64_t>& detachedTotal_;
  std::atomic<uint64_t>& resumedTotal_;
  std::atomic<uint64_t>& graceExpiredTotal_;
  std::atomic<uint64_t>& parkedDropped_;
  std::atomic<uint64_t>& foreignConnection_;
  std::chrono::milliseconds t1_{500};
  std::chrono::milliseconds timerB_{32000};
};

}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/config/config_store.h"
#include "rtcgate/media/browser_leg.h"
#include "rtcgate/media/rtp/rtp_port_pool.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/token_bucket.h"
#include "rtcgate/core/worker_pool.h"
#include "rtcgate/session/call_snapshot.h"
#include "rtcgate/session/call_state_machine.h"
#include "rtcgate/session/destination_policy.h"
#include "rtcgate/session/sdp_builder.h"
#include "rtcgate/signaling/browser_dialogs.h"
#include "rtcgate/sip/sip_stack.h"

namespace rtcgate::session {

// Content-Type of the INFO that carries Genesys remote control (NOTIFY Event: talk / hold) to the browser app;
// the body is the event name and CRLF ("talk\r\n").
inline constexpr const char* kRemoteControlContentType = "application/x-rtcgate-remote-control";

class MediaSession;
class Session;

// What every Session needs from the daemon. Thread: control (the media context is read by workers).
struct SessionDeps {
  EventLoop& control;
  WorkerPool& workers;
  media::RtpPortPool& ports;
  sip::SipStack& sip;
  signaling::BrowserDialogs& dialogs;
  media::MediaContext mediaContext;  // config, DTLS certificate, metrics
  // The call whose browser dialog has this Call-ID and these two tags (in either order), for attended transfers
  // (REFER with Replaces). Set by the SessionManager; null when it finds none.
  std::function<std::shared_ptr<Session>(const std::string& callId, const std::string& tag1,
                                         const std::string& tag2)>
      findByBrowserDialog = nullptr;
  // The destination policy in force now (a reload applies to the next REFER of a call already up), counted when it
  // refuses. Set by the SessionManager; null: the call's own snapshot, uncounted.
  std::function<DestinationVerdict(std::string_view user, std::string_view host)> checkDestination = nullptr;
};

// One call: the browser dialog + browser media leg and the Genesys dialog + RTP leg, joined by the call state
// machine. Never forwards SDP: each leg's SDP is built from that leg's own state. Thread: control; its media half
// lives on one media worker for the whole call (MediaSession) and is reached only by post().
class Session final : public std::enable_shared_from_this<Session>, public sip::UpstreamCallObserver {
public:
  enum class Direction { FromAgent, ToAgent };
  Session(SessionDeps& deps, config::ConfigPtr config, Direction direction, std::function<void(Session&)> closed);
  ~Session() override;

  // Agent calls out: the browser's INVITE to `target`, from the agent whose DN is `dn`.
  void startFromAgent(std::shared_ptr<signaling::BrowserDialog> dialog, const std::string& dn);
  // Genesys calls the agent's DN: ring the agent's browser at `registration`.
  void startToAgent(std::shared_ptr<sip::UpstreamCall> call, const signaling::Registration& registration);

  const std::string& id() const { return id_; }
  // The agent's DN (set by startFromAgent / startToAgent).
  const std::string& dn() const { return dn_; }
  CallState state() const { return state_; }
  // Counted against security.max_pending_media_sessions: not answered yet, or answered while the browser's ICE/DTLS
  // has not completed. A call on its way out (Terminating) no longer counts: it holds nothing for long.
  bool pendingMedia() const {
    return state_ == CallState::Idle || state_ == CallState::Routing || state_ == CallState::Early ||
           (state_ == CallState::Connected && !browserMediaUp_);
  }
  // Ends the call from the gateway's side (shutdown, admin hangup): BYE/CANCEL both legs.
  void terminate(const std::string& why);
  // The admin API's view of the call: control-side state, then the media worker's counters copied there; `done`
  // runs on the control loop (asynchronously), also when the worker is gone (mediaSampled false).
  void snapshot(std::function<void(CallSnapshot)> done) const;

  // sip::UpstreamCallObserver
  void onProgress(int status, std::string_view sdp) override;
  void onAnswered(std::string_view sdp) override;
  void onConfirmed(std::string_view ackSdp) override;
  void onTerminated(int status, std::string_view reason) override;
  void onRemoteControl(std::string_view event) override;
  std::string onReoffer(std::string_view offer) override;
  std::string onOfferRequested() override;
  void onReinviteAnswer(int status, std::string_view sdp) override;
  void onReferResponse(int status, std::string_view phrase) override;
  void onReferNotify(int code, std::string_view phrase, bool terminated) override;

  // The browser dialog has this Call-ID and these tags, in either order (JsSIP names them by its INVITE's From and
  // To, not as local and remote).
  bool hasBrowserDialog(const std::string& callId, const std::string& tag1, const std::string& tag2) const;
  bool onTransferRequested(const sip::TransferRequest& request) override;
  bool onReplacedBy(std::shared_ptr<sip::UpstreamCall> call) override;

private:
  static std::string newCallId();
  void alias(const std::string& sipCallId);
  void noteUpstreamIds();
  void apply(CallEvent event, uint16_t code = 0);
  // rtcgate_calls_ended_total, once, when `event` ends the call (call_metrics.h).
  void countEnd(CallEvent event);
  void fail(uint16_t code, const std::string& why);
  void openMedia(media::LegRole browserRole);
  // The RTP leg is open: FromAgent, the INVITE to Genesys goes now, while the browser leg still gathers.
  void onRtpReady(const std::string& rtpAddress, uint16_t rtpPort);
  void onMediaReady(const sdp::TransportParams& local, const std::string& rtpAddress, uint16_t rtpPort);
  // ToAgent: our INVITE to the agent's browser, with our offer (or none: browserOffers_).
  void inviteBrowser(const std::string& sdp);
  // ToAgent, INVITE without SDP and upstream.offerless_invite_to_browser (session_browser_offer.cpp): the browser
  // offered in its 200; the media leg opens as answerer, our answer goes in the ACK, then as answerLateOffer.
  void onBrowserOfferIn2xx(const std::string& sdp);
  void answerBrowserOfferInAck();
  signaling::DialogEvents browserEvents();
  void onBrowserEnded(const std::string& why);
  void onBrowserClosedMedia();
  void onBrowserResponse(int status, const std::string& reason, const std::string& sdp);
  // ToAgent, INVITE without SDP: the browser answered; our 200 to Genesys carries our offer.
  void answerLateOffer(std::pair<codec::CodecId, uint8_t> browser);
  bool chooseForGenesysAnswer(const GenesysMedia& genesys, std::string* browserSdp);
  void startBridge();
  // Browser re-offers (hold/unhold, ICE restart, refresh): answered from the browser leg's own state.
  void onBrowserReoffer(const std::string& sdp);
  void onBrowserReofferLocal(const std::optional<sdp::TransportParams>& local, const std::string& error);
  // Genesys-leg SDP (offer or answer) applied to the RTP leg and bridge: address/port, codec, direction.
  void applyGenesysMedia(const GenesysMedia& g, std::pair<codec::CodecId, uint8_t> upstream);
  // Whether Genesys's SDP names a destination rtcgate may send to (media_destination.h; a hold marker is allowed:
  // it names none). False is logged with `what` and counted.
  bool genesysMediaAllowed(const GenesysMedia& g, std::string_view what);
  // What each side is sent, and whether silence from Genesys is a failure, from both legs' directions.
  void updateMediaDirections();
  // The agent's hold carried to Genesys as a re-INVITE of our own (sendonly / sendrecv), one at a time.
  void requestUpstreamDirection();
  std::vector<std::pair<codec::CodecId, uint8_t>> upstreamOfferCodecs() const;
  std::vector<codec::CodecId> offeredUpstreamIds() const;
  // Our next Genesys-leg SDP; its o= version grows only when its content changed (RFC 3264 §8).
  std::string nextGenesysSdp(const std::vector<std::pair<codec::CodecId, uint8_t>>& codecs,
                             std::optional<uint8_t> telephoneEventPt, sdp::Direction direction,
                             std::string_view telephoneEvents = kTelephoneEventsOffered);
  // A transfer asked by the agent (session_refer.cpp): REFER relayed to Genesys, its NOTIFYs back to the browser.
  void onBrowserRefer(const signaling::ReferRequest& refer);
  // Refer-To for Genesys, with the Replaces of the agent's other call in an attended transfer; the failure status
  // for the browser (0 on success) and its reason phrase.
  int referTarget(const signaling::ReferRequest& refer, std::string* referTo, std::string_view* phrase);
  // Transfer by Genesys (REFER, rtcgate as transferee; session_transfer.cpp): the new Genesys dialog replaces the
  // old one under the same browser leg once it answers; the browser leg is not touched.
  struct TransferLeg final : sip::UpstreamCallObserver {
    explicit TransferLeg(Session& s) : session(s) {}
    void onAnswered(std::string_view sdp) override { session.onTransferAnswered(sdp); }
    void onTerminated(int status, std::string_view reason) override { session.onTransferEnded(status, reason); }
    Session& session;
  };
  void onTransferAnswered(std::string_view sdp);
  void onTransferEnded(int status, std::string_view reason);
  void endReplacedUpstream(const char* why);
  // The splice itself: `call` becomes the Genesys leg with media `g` / codec `up`; the previous dialog is kept in
  // replacedUpstream_ (ended by Genesys, or by us after a grace period).
  void spliceUpstream(std::shared_ptr<sip::UpstreamCall> call, const GenesysMedia& g,
                      std::pair<codec::CodecId, uint8_t> up);
  // The agent's browser was replaced while the call waited for it to reconnect (page reload): a new browser leg
  // and a fresh INVITE to the new browser (auto-answer), bridged to the unchanged Genesys leg (session_resume.cpp).
  void resumeOnNewBrowser(const signaling::Registration& registration);
  void onResumeOfferReady(const sdp::TransportParams& local);
  void onResumeResponse(int status, const std::string& sdp);
  // rtcgate re-created its lost TURN allocation: an ICE restart offered to the browser in a re-INVITE, Genesys
  // untouched (session_relay_restart.cpp).
  void onRelayRestartOffer(const sdp::TransportParams& local);
  void onRelayRestartResponse(int status, const std::string& sdp);
  template <typename Fn>
  void onMedia(Fn fn);
  // onMedia for code outside session.cpp (the template is defined there).
  void postToMedia(std::function<void(MediaSession&)> fn);
  void releaseMedia();
  void closeIfDone();

  SessionDeps& deps_;
  config::ConfigPtr config_;
  Direction direction_;
  std::function<void(Session&)> closed_;
  std::string id_;
  std::vector<std::string> aliases_;  // SIP Call-IDs of both legs, logged as id_ while the call lives
  bool callUuidLogged_ = false;
  CallState state_ = CallState::Idle;
  uint16_t rejectCode_ = 0;
  std::chrono::steady_clock::time_point invitedAt_;  // the caller's INVITE accepted (setup time starts)
  bool answered_ = false;            // our 200 went to the caller
  bool endCounted_ = false;
  bool endedByGateway_ = false;      // terminate(): shutdown or an operator's hangup
  std::string dn_;
  std::string target_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  std::shared_ptr<signaling::BrowserDialog> dialog_;
  std::shared_ptr<sip::UpstreamCall> upstream_;
  std::optional<signaling::Registration> registration_;

  size_t worker_ = 0;
  // The MediaSession is created, used and destroyed on the worker; the control side holds only this slot and
  // reaches its content through posted tasks (run in order).
  std::shared_ptr<std::unique_ptr<MediaSession>> media_;
  Timer terminatingTimer_;
  Timer browserByeGraceTimer_;  // armed by the browser's DTLS close_notify, until its BYE arrives
  std::string genesysAnswerSdp_;  // ToAgent: sent in our 200 (our offer when Genesys's INVITE had no SDP)
  std::optional<sdp::TransportParams> localTransport_;
  std::string rtpAddress_;
  uint16_t rtpPort_ = 0;

  std::optional<BrowserMedia> browserSdp_;   // the browser's offer (FromAgent) or answer (ToAgent)
  std::optional<GenesysMedia> genesysSdp_;   // Genesys's offer (ToAgent) or answer (FromAgent)
  std::string browserAnswerSdp_;             // FromAgent: sent in 183 and again in 200
  codec::BridgeCodecs codecs_;
  bool bridged_ = false;
  bool browserMediaUp_ = false;  // the browser leg's ICE + DTLS completed once (pendingMedia())
  bool pendingAnswer_ = false;  // FromAgent: Genesys answered before our browser-side transport was ready
  // FromAgent: Genesys's 183 with SDP came before our browser-side transport was ready (the INVITE to Genesys does
  // not wait for gathering); relayed as early media once it is.
  std::string pendingEarlySdp_;
  bool browserOffers_ = false;  // ToAgent: our INVITE to the browser had no SDP (its offer comes in its 200)
  bool pendingRemoteTalk_ = false;  // ToAgent: NOTIFY talk came before the browser's early dialog
  uint64_t sdpSessionId_;
  uint64_t genesysSdpVersion_ = 1;
  sdp::Direction genesysLocalDirection_ = sdp::Direction::SendRecv;  // in our last SDP to Genesys
  std::string lastGenesysSdp_;
  uint64_t browserSdpVersion_ = 1;
  std::optional<BrowserMedia> pendingBrowserReoffer_;  // waiting for the media worker's transport for the answer
  std::pair<codec::CodecId, uint8_t> pendingBrowserCodec_{};
  bool agentHold_ = false;           // the browser's last offer was sendonly/inactive
  bool agentHoldSignalled_ = false;  // what our last re-INVITE told Genesys
  std::optional<bool> agentHoldRefused_;  // Genesys refused this hold state (not glare): not offered again
  Timer upstreamRetryTimer_;              // after glare (491) on our re-INVITE
  bool genesysSends_ = true;         // Genesys's SDP: it sends media to us
  bool genesysReceives_ = true;      // Genesys's SDP: it wants media from us
  std::optional<uint32_t> browserReferId_;  // the agent's REFER being relayed: its subscription id toward the browser
  bool browserDone_ = false;
  bool upstreamDone_ = false;
  std::unique_ptr<TransferLeg> transferLeg_;             // observes transferCall_ until it answers or fails
  std::shared_ptr<sip::UpstreamCall> transferCall_;      // our INVITE for Genesys's REFER, until it answers
  std::shared_ptr<sip::UpstreamCall> replacedUpstream_;  // the Genesys dialog a transfer replaced, until it ends
  Timer replacedByeTimer_;                               // BYE for the replaced dialog if Genesys does not send one
  bool upstreamEndedDuringTransfer_ = false;             // the old dialog ended while transferCall_ was pending
  bool resuming_ = false;          // a fresh INVITE to the agent's new browser is under way
  std::string resumedFromCallId_;  // the browser Call-ID of the dialog it replaces
  // Genesys digits relayed to the browser as INFO: a person dials at most a few per second (ITU-T Q.24 minimum
  // 40 ms tone + 40 ms pause gives 12.5/s); anything beyond a burst of 20 at 13/s is dropped and counted.
  static constexpr double kDtmfToBrowserPerSecond = 13;
  static constexpr double kDtmfToBrowserBurst = 20;
  TokenBucket dtmfToBrowserLimit_{kDtmfToBrowserPerSecond, kDtmfToBrowserBurst};
  std::atomic<uint64_t>* dtmfToBrowserDropped_;
  std::atomic<uint64_t>* upstreamMediaRefused_;
  bool dtmfDropLogged_ = false;
};

}  // namespace rtcgate::session

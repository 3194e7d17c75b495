// SPDX-License-Identifier: Apache-2.0
// A call whose agent reloaded the page: the old browser (JsSIP UA, RTCSession, media) is gone, the call waits in
// its reconnect grace, and the agent's new page registers. rtcgate offers the call to the new page with a fresh
// INVITE (Call-Info answer-after=0, X-Rtcgate-Resumed-Call naming the old browser dialog) on a new browser leg, and
// bridges its answer to the Genesys leg as it is: no re-INVITE to Genesys (the bridge transcodes if the codec
// changed).
#include "rtcgate/core/log.h"
#include "rtcgate/session/media_session.h"
#include "rtcgate/session/session.h"

namespace rtcgate::session {
namespace {
spdlog::logger* lg() { return log::get(log::Component::Session); }
}  // namespace

void Session::resumeOnNewBrowser(const signaling::Registration& registration) {
  if (state_ != CallState::Connected || resuming_ || !media_ || !bridged_ || !dialog_ || browserDone_) return;
  resuming_ = true;
  registration_ = registration;
  browserByeGraceTimer_.cancel();  // the old page's close_notify: its leg is being replaced
  resumedFromCallId_ = dialog_->callId();
  lg()->info("agent {} registered a new browser (page reloaded): offering the call to it on a new browser leg",
             registration.user);
  // The old dialog is dead with its page: ended without ending the call (its BYE waits for a browser that will
  // not come and is dropped when the grace ends).
  auto old = std::move(dialog_);
  old->setEvents({});
  old->hangup("the agent's browser was replaced");
  postToMedia([](MediaSession& m) { m.restartBrowserLeg(); });
}

void Session::onResumeOfferReady(const sdp::TransportParams& local) {
  if (!resuming_ || state_ != CallState::Connected) return;
  localTransport_ = local;
  auto sdp = browserOffer(codecIds(config_->codecs.browser), local, sdpSessionId_, ++browserSdpVersion_);
  std::weak_ptr<Session> weak = weak_from_this();
  auto ev = browserEvents();
  ev.onResponse = [weak](int status, const std::string&, const std::string& body) {
    if (auto self = weak.lock()) {
      log::CallScope callScope(self->id_);
      self->onResumeResponse(status, body);
    }
  };
  std::vector<std::string> headers{"Call-Info: <sip:rtcgate.invalid>;answer-after=0",
                                   "X-Rtcgate-Resumed-Call: " + resumedFromCallId_};
  // The other party as the From user: Genesys's side of the call. The dialed number came from the browser and goes
  // into a header only when it is a plain dial string.
  std::string from = direction_ == Direction::ToAgent && upstream_ ? upstream_->dn() : target_;
  if (from.empty() || from.size() > 64 ||
      from.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+*#._-") != std::string::npos)
    from = dn_;
  dialog_ = deps_.dialogs.invite(*registration_, from, sdp, std::move(ev), std::move(headers));
  if (!dialog_) return;
  alias(dialog_->callId());
  lg()->info("browser leg resumed by a fresh INVITE: Call-ID {}", log::escaped(dialog_->callId()));
}

void Session::onResumeResponse(int status, const std::string& sdp) {
  // A failure ends the new dialog, and onTerminated (browserEvents) ends the call as any lost browser leg.
  if (status < 200 || status >= 300 || !resuming_) return;
  resuming_ = false;
  std::string err;
  auto answer = readBrowserSdp(sdp, &err);
  if (!answer || answer->codecs.audio.empty()) {
    lg()->warn("the new browser's answer is unusable: {}", err.empty() ? "no codec" : err);
    rejectCode_ = 488;
    apply(CallEvent::MediaFailed);
    return;
  }
  browserSdp_ = answer;
  auto browser = answer->codecs.audio.front();
  codecs_.browserCodec = browser.first;
  codecs_.browserPt = browser.second;
  codecs_.browserDtmfPt = pickTelephoneEvent(answer->codecs, codec::rtpClockRate(browser.first));
  // Whatever hold the old page had is gone with it: the new one sends and receives (and Genesys hears it again).
  agentHold_ = false;
  if (agentHoldSignalled_) requestUpstreamDirection();
  auto transport = answer->transport;
  auto codecs = codecs_;
  postToMedia([transport, codecs](MediaSession& m) {
    std::string e;
    if (!m.setBrowserRemote(transport, &e)) lg()->warn("new browser transport refused: {}", e);
    m.startBridge(codecs);
  });
  updateMediaDirections();
  deps_.mediaContext.metrics
      ->counter("rtcgate_calls_resumed_on_new_browser_total",
                "Calls offered again to the agent's reloaded page (fresh INVITE) and answered there")
      .fetch_add(1, std::memory_order_relaxed);
  lg()->info("call resumed on the agent's new browser ({}/{}); the Genesys leg is unchanged",
             codec::codecName(browser.first), browser.second);
}

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
// Session, third-party call control with the browser as offerer (upstream.offerless_invite_to_browser): Genesys's
// INVITE had no SDP, so neither had ours to the browser. JsSIP offers in its 200; rtcgate answers in the ACK like
// any answerer of a browser offer (ICE controlled, DTLS a=setup:active per RFC 5763), and its 200 to Genesys then
// carries rtcgate's own RTP/AVP offer, Genesys's answer coming in its ACK (Session::answerLateOffer onward).
#include "rtcgate/core/log.h"
#include "rtcgate/session/media_session.h"
#include "rtcgate/session/session.h"

namespace rtcgate::session {
namespace {

spdlog::logger* lg() { return log::get(log::Component::Session); }

}  // namespace

void Session::onBrowserOfferIn2xx(const std::string& sdp) {
  if (state_ != CallState::Routing && state_ != CallState::Early) {
    // Genesys's CANCEL crossed the browser's 200: the state machine ends that dialog (ACK without an answer, BYE).
    apply(CallEvent::CalleeAnswered);
    return;
  }
  std::string err;
  lg()->debug("browser offer SDP (in its 200):\n{}", sdp);
  browserSdp_ = readBrowserSdp(sdp, &err);
  std::optional<std::pair<codec::CodecId, uint8_t>> browser;
  if (browserSdp_) browser = pickCodec(browserSdp_->codecs, codecIds(config_->codecs.browser));
  if (!browser) {
    // The dialog is up: the state machine's CancelCallee ACKs the 200 (without an answer) and sends BYE.
    lg()->warn("browser offer in its 200 unusable: {}",
               !browserSdp_ ? (err.empty() ? "no SDP" : err) : "no codec of codecs.browser");
    rejectCode_ = 488;
    apply(CallEvent::MediaFailed);
    return;
  }
  codecs_.browserCodec = browser->first;
  codecs_.browserPt = browser->second;
  lg()->info("browser offered in its 200: {}/{}; answering in the ACK", codec::codecName(browser->first),
             browser->second);
  openMedia(media::LegRole::Answerer);  // onMediaReady → answerBrowserOfferInAck
}

void Session::answerBrowserOfferInAck() {
  if (!dialog_ || browserDone_ || !browserSdp_ || !localTransport_) return;
  auto answer = browserAnswer(*browserSdp_, codecs_.browserCodec, codecs_.browserPt, *localTransport_,
                              sdpSessionId_, browserSdpVersion_);
  lg()->debug("answer to the browser's offer, in the ACK:\n{}", answer);
  dialog_->acknowledge(std::move(answer));
  // From here on as for any offerless INVITE: our 200 to Genesys offers, its ACK answers.
  answerLateOffer({codecs_.browserCodec, codecs_.browserPt});
}

}  // namespace rtcgate::session

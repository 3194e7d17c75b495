// SPDX-License-Identifier: Apache-2.0
// rtcgate lost its own TURN allocation under the browser leg's selected pair (TURN server restarted, allocation
// expired or not refreshed) and re-created it on new sockets (BrowserLeg::onRelayLost). The browser must learn the
// new relay candidate: rtcgate offers an ICE restart in a re-INVITE on the browser dialog (new ice-ufrag/ice-pwd,
// the same fingerprint and a=setup:actpass, so the DTLS association and SRTP keys continue: RFC 8842 §5, RFC 5763
// §5), with the codec in use. Genesys sees nothing: no re-INVITE upstream, the RTP leg is unchanged.
#include "rtcgate/core/log.h"
#include "rtcgate/session/media_session.h"
#include "rtcgate/session/sdp_builder.h"
#include "rtcgate/session/session.h"

namespace rtcgate::session {
namespace {
spdlog::logger* lg() { return log::get(log::Component::Session); }
}  // namespace

void Session::onRelayRestartOffer(const sdp::TransportParams& local) {
  auto refuse = [this](const std::string& why) {
    postToMedia([why](MediaSession& m) { m.relayRestartAnswered(std::nullopt, why); });
  };
  if (!dialog_ || browserDone_ || state_ != CallState::Connected || !browserSdp_) {
    refuse("no confirmed browser dialog");
    return;
  }
  localTransport_ = local;
  // The media in use (the browser's payload types and mid), from our side: the mirror of the browser's direction.
  auto offer = browserAnswer(*browserSdp_, codecs_.browserCodec, codecs_.browserPt, local, sdpSessionId_,
                             ++browserSdpVersion_, mirrorDirection(browserSdp_->transport.direction));
  lg()->debug("ICE restart offer to the browser:\n{}", offer);
  std::weak_ptr<Session> weak = weak_from_this();
  const bool sent = dialog_->reinvite(std::move(offer), [weak](int status, const std::string& body) {
    if (auto self = weak.lock()) {
      log::CallScope callScope(self->id_);
      self->onRelayRestartResponse(status, body);
    }
  });
  if (!sent) {
    refuse("the browser dialog cannot take a re-INVITE now (another offer pending, or its connection is gone)");
    return;
  }
  lg()->info("re-INVITE to the browser: ICE restart after re-creating the TURN allocation (Genesys leg unchanged)");
}

void Session::onRelayRestartResponse(int status, const std::string& body) {
  if (status < 200 || status >= 300) {
    lg()->warn("the browser answered {} to the ICE restart re-INVITE", status);
    postToMedia([status](MediaSession& m) {
      m.relayRestartAnswered(std::nullopt, "the browser answered " + std::to_string(status));
    });
    return;
  }
  std::string err;
  auto answer = readBrowserSdp(body, &err);
  if (!answer) {
    lg()->warn("the browser's answer to the ICE restart is unusable: {}", err);
    postToMedia([err](MediaSession& m) { m.relayRestartAnswered(std::nullopt, "unusable answer: " + err); });
    return;
  }
  auto transport = answer->transport;
  browserSdp_ = std::move(answer);
  lg()->info("the browser answered the ICE restart (ice-ufrag {})", log::escaped(transport.iceUfrag));
  postToMedia([transport](MediaSession& m) { m.relayRestartAnswered(transport, {}); });
}

}  // namespace rtcgate::session

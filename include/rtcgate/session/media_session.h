// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "rtcgate/codec/media_bridge.h"
#include "rtcgate/media/browser_leg.h"
#include "rtcgate/media/rtp/rtp_leg.h"
#include "rtcgate/media/rtp/rtp_port_pool.h"
#include "rtcgate/session/call_snapshot.h"

namespace rtcgate::session {

// The media half of one call on its media worker: the browser leg (ICE, DTLS-SRTP), the plain RTP leg toward
// Genesys and the bridge between them. Thread: the worker loop for everything, construction and destruction
// included. The owning Session (control thread) reaches it only through EventLoop::post, and its callbacks run
// on the worker (the Session posts them back to itself).
class MediaSession {
public:
  struct Setup {
    std::string callId;
    media::LegRole browserRole = media::LegRole::Offerer;
    media::MediaContext context;
    media::RtpPortSlice* ports = nullptr;
    media::RtpLegConfig rtp;
    config::Opus opus;
  };
  struct Events {
    // The RTP leg is open, before browser-side gathering: the Genesys SDP needs only this address (issue 12).
    std::function<void(const std::string& rtpAddress, uint16_t rtpPort)> rtpReady;
    std::function<void(const sdp::TransportParams& local, const std::string& rtpAddress, uint16_t rtpPort)> ready;
    std::function<void()> connected;
    std::function<void(const std::string& reason)> failed;
    std::function<void()> browserClosedMedia;  // DTLS close_notify from the browser (see BrowserLeg)
    std::function<void(char digit, uint16_t durationMs)> dtmfFromUpstream;
    // The answer to a browser re-offer (applyBrowserReoffer): our transport for the answer (new ICE credentials
    // after an ICE restart, else the current ones, same DTLS role), or nullopt and why the offer was refused.
    std::function<void(std::optional<sdp::TransportParams> local, const std::string& error)> reofferLocal;
    // restartBrowserLeg(): the new leg's transport for our offer to the agent's new browser.
    std::function<void(const sdp::TransportParams& local)> browserLegRestarted;
    // The browser leg re-created its lost TURN allocation: our ICE restart offer for a re-INVITE to the browser;
    // relayRestartAnswered follows with the browser's answer or the failure.
    std::function<void(const sdp::TransportParams& offer)> relayRestartOffer;
  };

  MediaSession(EventLoop& worker, Setup setup, Events events);
  ~MediaSession();
  MediaSession(const MediaSession&) = delete;
  MediaSession& operator=(const MediaSession&) = delete;

  // Opens the RTP port pair and starts ICE gathering (`rtpReady` follows once the browser's offer, if any, is
  // accepted); `ready` follows. An answering leg gets the browser's
  // transport (from its offer) here, before gathering starts. False with a reason (no RTP port, offer refused).
  bool open(const std::optional<sdp::TransportParams>& browserOffer, std::string* error);
  bool setBrowserRemote(const sdp::TransportParams& remote, std::string* error);
  // A browser re-offer (hold, ICE restart, refresh) on the established leg; reofferLocal follows, at once or once
  // the restarted ICE agent has new credentials.
  void applyBrowserReoffer(const sdp::TransportParams& remote);
  // The agent's browser was replaced (page reload): a new browser leg (new ICE agent, DTLS, offerer) takes the old
  // one's place under the running bridge and the Genesys leg; browserLegRestarted follows, then setBrowserRemote.
  void restartBrowserLeg();
  // The browser's answer to the relayRestartOffer re-INVITE, or nullopt and why there is none (the leg then tries
  // again or fails: BrowserLeg::kMaxRelayAttempts).
  void relayRestartAnswered(const std::optional<sdp::TransportParams>& answer, const std::string& why);
  bool setUpstreamRemote(const std::string& address, uint16_t port, const std::string& rtcpAddress = {},
                         uint16_t rtcpPort = 0);
  // Genesys's SDP names no destination (c=0.0.0.0 hold, rejected stream): nothing is sent to Genesys.
  void clearUpstreamRemote();
  // Starts the bridge, or reconfigures the running one (codec change: SSRC, sequence and timestamps continue).
  void startBridge(const codec::BridgeCodecs& codecs);
  bool sendDtmfUpstream(char digit, uint16_t durationMs);
  // Hold, either side: what the bridge sends toward each leg.
  void setSending(bool toBrowser, bool toUpstream);
  // Genesys holds: silence toward the browser when Genesys sends nothing (MediaBridge::setHoldFill). Remembered
  // until the bridge exists.
  void setHoldFill(bool on);
  // False while Genesys's SDP says it sends nothing (hold): the RTP inactivity timeout is suspended.
  void setUpstreamExpectingMedia(bool expecting);
  // Releases sockets and the ICE agent; the object may be destroyed right after (on this loop).
  void close();
  std::string summary() const;
  // Each leg's loss, jitter and MOS estimate into the per-call quality histograms (call_metrics.h), at the call's end.
  void recordQuality(Metrics& metrics) const;
  // The bridge's counters (empty before startBridge); tests and the admin API read them on this loop.
  std::optional<codec::MediaBridge::Stats> bridgeStats() const;
  // Both legs' counters, ICE pair, DTLS profile and codecs into `out` (admin API; call_snapshot.cpp).
  void fillSnapshot(CallSnapshot& out) const;

private:
  void maybeReady();
  std::unique_ptr<media::BrowserLeg> makeBrowserLeg(media::LegRole role);

  EventLoop& loop_;
  Setup setup_;
  Events events_;
  std::unique_ptr<media::RtpLeg> rtp_;
  std::unique_ptr<media::BrowserLeg> browser_;
  std::unique_ptr<codec::MediaBridge> bridge_;
  std::optional<sdp::TransportParams> local_;
  bool remoteSet_ = false;
  std::string browserUfrag_, browserPwd_;  // the browser's current ICE credentials (a change is an ICE restart)
  bool reofferPending_ = false;            // an ICE restart: the next local description answers the re-offer
  bool restartPending_ = false;            // restartBrowserLeg: the next local description is for the new offer
  bool readySent_ = false;
  bool holdFill_ = false;
  bool closed_ = false;
};

}  // namespace rtcgate::session

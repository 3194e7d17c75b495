// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "rtcgate/codec/media_bridge.h"
#include "rtcgate/media/browser_leg.h"
#include "rtcgate/media/rtp/rtp_leg.h"
#include "rtcgate/media/rtp/rtp_port_pool.h"

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
    std::function<void(const sdp::TransportParams& local, const std::string& rtpAddress, uint16_t rtpPort)> ready;
    std::function<void()> connected;
    std::function<void(const std::string& reason)> failed;
    std::function<void()> browserClosedMedia;  // DTLS close_notify from the browser (see BrowserLeg)
    std::function<void(char digit, uint16_t durationMs)> dtmfFromUpstream;
  };

  MediaSession(EventLoop& worker, Setup setup, Events events);
  ~MediaSession();
  MediaSession(const MediaSession&) = delete;
  MediaSession& operator=(const MediaSession&) = delete;

  // Opens the RTP port pair and starts ICE gathering; `ready` follows. An answering leg gets the browser's
  // transport (from its offer) here, before gathering starts. False with a reason (no RTP port, offer refused).
  bool open(const std::optional<sdp::TransportParams>& browserOffer, std::string* error);
  bool setBrowserRemote(const sdp::TransportParams& remote, std::string* error);
  bool setUpstreamRemote(const std::string& address, uint16_t port);
  void startBridge(const codec::BridgeCodecs& codecs);
  bool sendDtmfUpstream(char digit, uint16_t durationMs);
  void setSendingUpstream(bool send);
  // Releases sockets and the ICE agent; the object may be destroyed right after (on this loop).
  void close();
  std::string summary() const;
  // The bridge's counters (empty before startBridge); tests and the admin API read them on this loop.
  std::optional<codec::MediaBridge::Stats> bridgeStats() const;

private:
  void maybeReady();

  EventLoop& loop_;
  Setup setup_;
  Events events_;
  std::unique_ptr<media::RtpLeg> rtp_;
  std::unique_ptr<media::BrowserLeg> browser_;
  std::unique_ptr<codec::MediaBridge> bridge_;
  std::optional<sdp::TransportParams> local_;
  bool remoteSet_ = false;
  bool readySent_ = false;
  bool closed_ = false;
};

}  // namespace rtcgate::session

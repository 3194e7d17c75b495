// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/media_session.h"

#include <fmt/format.h>

#include <random>

#include "rtcgate/core/log.h"
#include "rtcgate/session/call_metrics.h"

namespace rtcgate::session {

MediaSession::MediaSession(EventLoop& worker, Setup setup, Events events)
    : loop_(worker), setup_(std::move(setup)), events_(std::move(events)) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
}

MediaSession::~MediaSession() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  close();
}

bool MediaSession::open(const std::optional<sdp::TransportParams>& browserOffer, std::string* error) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(setup_.callId);
  rtp_ = std::make_unique<media::RtpLeg>(loop_, *setup_.ports, setup_.rtp, *setup_.context.metrics);
  if (!rtp_->open()) {
    if (error) *error = "no free RTP port pair in media.rtp_port_min..max";
    rtp_.reset();
    return false;
  }
  browser_ = makeBrowserLeg(setup_.browserRole);
  rtp_->setOnPacket([this](const media::RtpHeader& h, std::span<const uint8_t> payload) {
    if (bridge_) bridge_->fromUpstream(h, payload);
  });
  rtp_->setOnTimeout([this] {
    if (events_.failed) events_.failed("no RTP from Genesys for media.rtp_timeout_ms");
  });
  // The answering leg takes the offer's credentials and candidates before it starts (ICE role and checks
  // follow from them).
  if (browserOffer && !setBrowserRemote(*browserOffer, error)) return false;
  browser_->start();
  // Only now, with the browser's offer accepted by its leg: a refused offer must never reach Genesys.
  if (events_.rtpReady) events_.rtpReady(rtp_->localAddress(), rtp_->localPort());
  return true;
}

std::unique_ptr<media::BrowserLeg> MediaSession::makeBrowserLeg(media::LegRole role) {
  media::BrowserLeg::Callbacks cb;
  cb.localDescription = [this](const sdp::TransportParams& local) {
    local_ = local;
    if (restartPending_) {
      restartPending_ = false;
      if (events_.browserLegRestarted) events_.browserLegRestarted(local);
      return;
    }
    if (reofferPending_) {
      reofferPending_ = false;
      if (events_.reofferLocal) events_.reofferLocal(local, {});
    }
    maybeReady();
  };
  cb.connected = [this] {
    if (events_.connected) events_.connected();
  };
  cb.failed = [this](const std::string& reason) {
    if (events_.failed) events_.failed(reason);
  };
  cb.relayRestartOffer = [this](const sdp::TransportParams& offer) {
    local_ = offer;
    if (events_.relayRestartOffer) events_.relayRestartOffer(offer);
  };
  cb.closedByPeer = [this] {
    if (events_.browserClosedMedia) events_.browserClosedMedia();
  };
  cb.rtp = [this](const media::RtpHeader& h, const uint8_t* packet, size_t) {
    if (bridge_) bridge_->fromBrowser(h, std::span<const uint8_t>(packet + h.headerSize, h.payloadSize));
  };
  return std::make_unique<media::BrowserLeg>(loop_, setup_.callId, role, setup_.context, cb);
}

void MediaSession::restartBrowserLeg() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(setup_.callId);
  if (!browser_ || closed_) return;
  // The old leg's callbacks stop with close(); the bridge sends to browser_, which is the new leg from here on
  // (nothing reaches the browser before its DTLS completes).
  auto* old = browser_.release();
  old->close([old] { delete old; });
  local_.reset();
  remoteSet_ = false;
  browserUfrag_.clear();
  browserPwd_.clear();
  reofferPending_ = false;
  restartPending_ = true;
  browser_ = makeBrowserLeg(media::LegRole::Offerer);
  if (bridge_) browser_->setClockRate(bridge_->codecs().browserPt, codec::rtpClockRate(bridge_->codecs().browserCodec));
  log::get(log::Component::Session)->info("new browser leg for the agent's new browser (ICE, DTLS as offerer)");
  browser_->start();
}

void MediaSession::relayRestartAnswered(const std::optional<sdp::TransportParams>& answer, const std::string& why) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(setup_.callId);
  if (!browser_ || closed_) return;
  std::string error = why;
  if (answer && setBrowserRemote(*answer, &error)) return;
  browser_->relayRestartFailed(error);
}

void MediaSession::maybeReady() {
  // An answering leg reports its description only after the browser's offer is known; an offering leg at once.
  if (readySent_ || !local_ || !rtp_) return;
  readySent_ = true;
  if (events_.ready) events_.ready(*local_, rtp_->localAddress(), rtp_->localPort());
}

bool MediaSession::setBrowserRemote(const sdp::TransportParams& remote, std::string* error) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!browser_) return false;
  remoteSet_ = browser_->setRemoteDescription(remote, error);
  if (remoteSet_) {
    browserUfrag_ = remote.iceUfrag;
    browserPwd_ = remote.icePwd;
  }
  return remoteSet_;
}

void MediaSession::applyBrowserReoffer(const sdp::TransportParams& remote) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(setup_.callId);
  std::string error = "no browser leg";
  const bool restart = remote.iceUfrag != browserUfrag_ || remote.icePwd != browserPwd_;
  if (!browser_ || !setBrowserRemote(remote, &error)) {
    if (events_.reofferLocal) events_.reofferLocal(std::nullopt, error);
    return;
  }
  if (restart) {
    // BrowserLeg restarted its ICE agent and reports the new local description (posted): that is the answer.
    log::get(log::Component::Session)->info("browser ICE restart: answering with new ICE credentials");
    reofferPending_ = true;
    return;
  }
  if (events_.reofferLocal) events_.reofferLocal(browser_->localTransport(false), {});
}

bool MediaSession::setUpstreamRemote(const std::string& address, uint16_t port, const std::string& rtcpAddress,
                                     uint16_t rtcpPort) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  return rtp_ && rtp_->setRemote(address, port, rtcpAddress, rtcpPort);
}

void MediaSession::clearUpstreamRemote() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (rtp_) rtp_->clearRemote();
}

void MediaSession::startBridge(const codec::BridgeCodecs& codecs) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(setup_.callId);
  if (!browser_ || !rtp_) return;
  if (bridge_) {
    if (codecs.browserCodec == bridge_->codecs().browserCodec && codecs.browserPt == bridge_->codecs().browserPt &&
        codecs.upstreamCodec == bridge_->codecs().upstreamCodec && codecs.upstreamPt == bridge_->codecs().upstreamPt &&
        codecs.browserDtmfPt == bridge_->codecs().browserDtmfPt && codecs.upstreamDtmfPt == bridge_->codecs().upstreamDtmfPt)
      return;
    bridge_->reconfigure(codecs);
    browser_->setClockRate(codecs.browserPt, codec::rtpClockRate(codecs.browserCodec));
    log::get(log::Component::Session)
        ->info("media bridge reconfigured: browser {}/{} <-> Genesys {}/{} ({})", codec::codecName(codecs.browserCodec),
               codecs.browserPt, codec::codecName(codecs.upstreamCodec), codecs.upstreamPt,
               codecs.passthrough() ? "passthrough" : "transcoding");
    return;
  }
  codec::MediaBridge::Sinks sinks;
  // The bridge's packet buffer has room for the SRTP trailer: the browser leg protects it in place.
  static_assert(codec::MediaBridge::kTrailerRoom >= media::SrtpSession::kMaxOverhead);
  sinks.toBrowser = [this](uint8_t* packet, size_t len, size_t capacity) {
    browser_->sendRtpInPlace(packet, len, capacity);
  };
  sinks.toUpstream = [this](const media::RtpHeader& h, std::span<const uint8_t> payload) {
    rtp_->send(h.payloadType, h.timestamp, h.marker, payload);
  };
  sinks.dtmfFromUpstream = [this](char digit, uint16_t durationMs) {
    if (events_.dtmfFromUpstream) events_.dtmfFromUpstream(digit, durationMs);
  };
  std::random_device rd;
  bridge_ = std::make_unique<codec::MediaBridge>(loop_, codecs, setup_.opus, rd(), rd(),
                                                 std::move(sinks));
  bridge_->setMetrics(setup_.context.metrics);
  browser_->setClockRate(codecs.browserPt, codec::rtpClockRate(codecs.browserCodec));
  if (holdFill_) bridge_->setHoldFill(true);
  log::get(log::Component::Session)
      ->info("media bridge: browser {}/{} <-> Genesys {}/{} ({}); telephone-event PT browser {} Genesys {}",
             codec::codecName(codecs.browserCodec), codecs.browserPt, codec::codecName(codecs.upstreamCodec),
             codecs.upstreamPt, codecs.passthrough() ? "passthrough" : "transcoding",
             codecs.browserDtmfPt ? std::to_string(*codecs.browserDtmfPt) : std::string("none"),
             codecs.upstreamDtmfPt ? std::to_string(*codecs.upstreamDtmfPt) : std::string("none"));
}

bool MediaSession::sendDtmfUpstream(char digit, uint16_t durationMs) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  return bridge_ && bridge_->sendDtmfUpstream(digit, durationMs);
}

void MediaSession::setSending(bool toBrowser, bool toUpstream) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (bridge_) bridge_->setSending(toBrowser, toUpstream);
}

void MediaSession::setHoldFill(bool on) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  holdFill_ = on;
  if (bridge_) bridge_->setHoldFill(on);
}

void MediaSession::setUpstreamExpectingMedia(bool expecting) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (rtp_) rtp_->setExpectingMedia(expecting);
}

std::string MediaSession::summary() const {
  // One line per call at its end: what each leg received and sent, and where any difference went.
  std::string s;
  if (browser_) {
    auto b = browser_->stats();
    s += fmt::format("browser: {} {} {}→{} dtls={} srtp={} rx={} tx={} lost={} jitter_ms={:.1f} auth_fail={} "
                     "replay={} before_dtls={}",
                     media::toString(b.state), b.iceLocalType, b.iceLocalAddress, b.iceRemoteAddress, b.dtlsRole,
                     b.srtpProfile, b.rtpPacketsReceived, b.rtpPacketsSent, b.packetsLost, b.jitterMs,
                     b.srtpAuthFailures, b.srtpReplayFailures, b.droppedBeforeDtls);
  }
  if (rtp_) {
    auto r = rtp_->stats();
    s += fmt::format("; genesys: rx={} tx={} lost={} jitter_ms={:.1f} foreign={} malformed={}", r.packetsReceived,
                     r.packetsSent, r.packetsLost, r.jitter / 8.0, r.droppedForeign, r.malformed);
  }
  if (bridge_) {
    const auto st = bridge_->stats();
    auto dir = [](const codec::MediaBridge::Direction& d) {
      return fmt::format("in={} out={} concealed={} gap={} late={} restarts={} on_hold={} during_dtmf={} "
                         "unknown_pt={} malformed={} too_large={} codec_errors={} hold_fill={} added_delay_us_avg={:.0f} "
                         "added_delay_us_max={}",
                         d.packetsIn, d.packetsOut, d.concealed, d.gapFrames, d.late, d.restarts, d.onHold,
                         d.duringDtmf, d.unknownPayloadType, d.malformed, d.tooLarge, d.codecErrors, d.holdFill,
                         d.addedDelayUsAvg(), d.addedDelayUsMax);
    };
    s += fmt::format("; bridge({}): to_genesys[{}] to_browser[{}] dtmf_to_genesys={}",
                     bridge_->codecs().passthrough() ? "passthrough" : "transcoding", dir(st.toUpstream),
                     dir(st.toBrowser), st.dtmfEventsToUpstream);
  }
  return s;
}

void MediaSession::recordQuality(Metrics& metrics) const {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  std::optional<media::LegStats> b;
  std::optional<media::RtpLegStats> r;
  if (browser_) b = browser_->stats();
  if (rtp_) r = rtp_->stats();
  observeCallQuality(metrics, b ? &*b : nullptr, r ? &*r : nullptr);
}

std::optional<codec::MediaBridge::Stats> MediaSession::bridgeStats() const {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!bridge_) return std::nullopt;
  return bridge_->stats();
}

void MediaSession::close() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (closed_) return;
  closed_ = true;
  bridge_.reset();
  rtp_.reset();
  if (browser_) {
    // libnice releases its sockets asynchronously; the leg object must live until it has.
    auto* leg = browser_.release();
    leg->close([leg] { delete leg; });
  }
}

}  // namespace rtcgate::session

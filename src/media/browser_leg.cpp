// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/browser_leg.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>

#include "ice/ice_agent.h"
#include "leg_setup_metrics.h"
#include "rtcgate/core/log.h"
#include "rtcgate/media/rtp/packet_demux.h"
#include "rtcgate/media/rtp/rtp_packet.h"

namespace rtcgate::media {

namespace {

auto logger() { return log::get(log::Component::Ice); }

constexpr size_t kMaxPacket = 1500;  // larger RTP from the session layer is a bug, not something to fragment
constexpr size_t kBufferSize = kMaxPacket + SrtpSession::kMaxOverhead;

// Legs are built and destroyed on their workers; the gauge is read on the control thread.
std::atomic<uint64_t> liveLegs{0};

}  // namespace

const char* toString(LegState s) {
  switch (s) {
    case LegState::New: return "new";
    case LegState::Gathering: return "gathering";
    case LegState::Connecting: return "connecting";
    case LegState::Connected: return "connected";
    case LegState::Failed: return "failed";
    case LegState::PeerClosed: return "peer-closed";
    case LegState::Closed: return "closed";
  }
  return "?";
}

BrowserLeg::BrowserLeg(EventLoop& loop, std::string callId, LegRole role, MediaContext context, Callbacks callbacks)
    : loop_(loop),
      callId_(std::move(callId)),
      role_(role),
      ctx_(std::move(context)),
      callbacks_(std::move(callbacks)),
      alive_(std::make_shared<bool>(true)),
      sendBuffer_(kBufferSize),
      recvBuffer_(kBufferSize) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(callId_);
  if (!ctx_.config || !ctx_.certificate || ctx_.metrics == nullptr)
    throw std::invalid_argument("BrowserLeg needs config, certificate and metrics");
  SrtpSession::initLibrary();
  auto& m = *ctx_.metrics;
  authFailures_ = &m.counter("rtcgate_srtp_auth_failures_total", "SRTP/SRTCP packets from browsers that failed authentication or were too short to carry a tag (dropped)");
  replayFailures_ = &m.counter("rtcgate_srtp_replay_failures_total", "SRTP/SRTCP packets from browsers dropped as replays");
  remoteCandidatesRefused_ = &m.counter(
      "rtcgate_ice_remote_candidates_refused_total",
      "browser ICE candidates never checked: unspecified, multicast, broadcast, link-local or loopback address");
  droppedBeforeDtls_ = &m.counter("rtcgate_media_dropped_before_dtls_total", "media packets dropped because DTLS had not completed");
  demuxUnknown_ = &m.counter("rtcgate_media_demux_unknown_total",
                             "datagrams on a browser leg's ICE port that are no DTLS, RTP or RTCP by RFC 7983 and no "
                             "STUN libnice took (0/1-byte, first byte outside the ranges): dropped");
  legsFailed_ = &m.counter("rtcgate_browser_legs_failed_total", "browser media legs failed (ICE, DTLS, consent)");
  legsClosedByPeer_ = &m.counter("rtcgate_browser_legs_closed_by_peer_total",
                                 "browser media legs the browser closed with DTLS close_notify (normal hangup)");

  setupMetrics_ = std::make_unique<LegSetupMetrics>(m);
  rtcpMalformed_ = &m.counter("rtcgate_browser_rtcp_malformed_total",
                              "authenticated SRTCP packets from browsers that are no valid compound RTCP (ignored)");
  outbound_.ssrc = g_random_int();  // the RR's until we send RTP; then the SSRC of that RTP (the SR must match it)
  rtpRateLimited_ = &m.counter("rtcgate_browser_rtp_rate_limited_total",
                               "authenticated SRTP packets from browsers dropped over media.packet_rate (per stream)");

  turnLost_ = &m.counter("rtcgate_turn_allocations_lost_total",
                         "browser legs whose media path through rtcgate's own TURN relay died (no consent answer and "
                         "no media for 10 s: TURN server restarted, allocation expired or not refreshed)");
  turnRecreated_ = &m.counter("rtcgate_turn_allocations_recreated_total",
                              "lost TURN allocations re-created, with ICE connected again after the restart");
  turnRecoveryFailed_ = &m.counter("rtcgate_turn_recovery_failed_total",
                                   "browser legs failed because a lost TURN allocation could not be re-created in "
                                   "3 attempts");
  iceRestartsTurnLost_ = &m.counter("rtcgate_ice_restarts_turn_lost_total",
                                    "ICE restarts rtcgate offered to a browser (re-INVITE with new ICE credentials "
                                    "and candidates) after re-creating a lost TURN allocation");

  const auto& cfg = *ctx_.config;
  rtpRate_ = TokenBucket(cfg.media.packetRate.perSecond, std::max<uint32_t>(cfg.media.packetRate.burst, 1));
  IceAgent::Settings is;
  is.controlling = role_ == LegRole::Offerer;  // RFC 8445 §6.1.1: the offerer (full ICE both sides) controls
  is.ice = &cfg.ice;
  is.portMin = cfg.media.icePortMin;
  is.portMax = cfg.media.icePortMax;
  is.metrics = ctx_.metrics;
  auto addresses = ctx_.localAddressesOverride.empty() ? listLocalAddresses() : ctx_.localAddressesOverride;
  for (auto& a : addresses) {
    auto d = decideCandidate(cfg.ice.candidates, a);
    if (!d.allowed) {
      logger()->debug("not offering {} ({}): {}", a.address, log::escaped(a.interface), d.reason);
      continue;
    }
    is.localAddresses.push_back(a);
    if (d.advertised != a.address) is.advertised.emplace_back(a.address, d.advertised);
  }
  IceAgent::Callbacks ic;
  ic.gathered = [this] { onGathered(); };
  ic.connected = [this] { onIceConnected(); };
  ic.failed = [this](const std::string& reason) {
    fail(reason, setupMetrics_ ? &setupMetrics_->iceFailure(reason) : nullptr);
  };
  ic.receive = [this](const uint8_t* d, size_t n) { onReceive(d, n); };
  if (callbacks_.relayRestartOffer) ic.relayLost = [this](const std::string& reason) { onRelayLost(reason); };
  ice_ = std::make_unique<IceAgent>(loop_, std::move(is), std::move(ic));

  std::vector<SrtpProfile> profiles;
  for (auto& name : cfg.media.srtpProfiles)
    if (auto p = srtpProfileFromName(name)) profiles.push_back(*p);
  DtlsTransport::Callbacks dc;
  dc.send = [this](const uint8_t* d, size_t n) { ice_->send(d, n); };
  dc.connected = [this](const DtlsSrtpKeys& keys) { onDtlsConnected(keys); };
  dc.failed = [this](const std::string& reason) {
    fail(reason, setupMetrics_ ? &setupMetrics_->dtlsFailure(reason) : nullptr);
  };
  dc.closedByPeer = [this] { onDtlsClosedByPeer(); };
  dtls_ = std::make_unique<DtlsTransport>(loop_, ctx_.certificate, std::move(profiles),
                                          std::chrono::milliseconds(cfg.media.dtlsHandshakeTimeoutMs), std::move(dc));
  nextLocalIsOffer_ = role_ == LegRole::Offerer;
  awaitingAnswer_ = role_ == LegRole::Offerer;
  liveLegs.fetch_add(1, std::memory_order_relaxed);  // last: a constructor that throws runs no destructor
}

BrowserLeg::~BrowserLeg() {
  if (state_ != LegState::Closed) close(nullptr);
  liveLegs.fetch_sub(1, std::memory_order_relaxed);
}

uint64_t BrowserLeg::liveCount() { return liveLegs.load(std::memory_order_relaxed); }

template <typename Fn>
void BrowserLeg::emit(Fn fn) {
  // Posted, so the owner may destroy the leg from the callback; skipped once the leg is closed or gone.
  loop_.post([weak = std::weak_ptr<bool>(alive_), id = callId_, fn = std::move(fn)]() mutable {
    if (weak.expired()) return;
    log::CallScope scope(id);
    fn();
  });
}

void BrowserLeg::start() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(callId_);
  if (state_ != LegState::New) return;
  state_ = LegState::Gathering;
  startedAt_ = std::chrono::steady_clock::now();
  localPending_ = true;
  ice_->gather();
}

void BrowserLeg::onGathered() { maybeReportLocal(); }

void BrowserLeg::maybeReportLocal() {
  if (!localPending_ || !ice_->gatheredOnce() || state_ == LegState::Failed || state_ == LegState::PeerClosed ||
      state_ == LegState::Closed)
    return;
  // An answer needs the offer first: the DTLS role we answer with depends on the offer's a=setup.
  if (!nextLocalIsOffer_ && !remoteSet_) return;
  localPending_ = false;
  auto local = localTransport(nextLocalIsOffer_);
  if (relayOfferPending_) {
    relayOfferPending_ = false;
    const bool relay = std::any_of(local.candidates.begin(), local.candidates.end(),
                                   [](const sdp::IceCandidate& c) { return c.type == "relay"; });
    if (!relay) {
      onRelayLost("no TURN server gave a new relay candidate");
      return;
    }
    iceRestartsTurnLost_->fetch_add(1, std::memory_order_relaxed);
    logger()->info("new TURN allocation {}: offering an ICE restart to the browser (attempt {} of {})",
                   [&] {
                     for (auto& c : local.candidates)
                       if (c.type == "relay") return fmt::format("{}:{}", c.address, c.port);
                     return std::string();
                   }(),
                   relayAttempts_, kMaxRelayAttempts);
    emit([this, local = std::move(local)] {
      if (callbacks_.relayRestartOffer) callbacks_.relayRestartOffer(local);
    });
    return;
  }
  if (local.candidates.empty()) logger()->warn("no ICE candidate gathered by the deadline");
  emit([this, local = std::move(local)] {
    if (callbacks_.localDescription) callbacks_.localDescription(local);
  });
}

sdp::TransportParams BrowserLeg::localTransport(bool forOffer) const {
  sdp::TransportParams t;
  t.mid = mid_;
  t.iceUfrag = ice_->localUfrag();
  t.icePwd = ice_->localPwd();
  t.candidates = ice_->localCandidates();
  // Trickle-free: everything gathered by the deadline is in the SDP.
  t.endOfCandidates = true;
  t.fingerprints.push_back(ctx_.certificate->fingerprint());
  // RFC 5763 §5: offers say actpass (also in re-offers, so the browser keeps its role, P3); answers commit to the
  // role chosen at the first answer.
  if (forOffer)
    t.setup = sdp::Setup::ActPass;
  else
    t.setup = dtlsRole_ == DtlsRole::Server ? sdp::Setup::Passive : sdp::Setup::Active;
  t.rtcpMux = true;
  return t;
}

bool BrowserLeg::setRemoteDescription(const sdp::TransportParams& remote, std::string* error) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(callId_);
  auto refuse = [&](const std::string& why) {
    if (error) *error = why;
    logger()->warn("remote description refused: {}", why);
    return false;
  };
  if (state_ == LegState::Failed || state_ == LegState::PeerClosed || state_ == LegState::Closed)
    return refuse("leg is no longer usable");
  if (remote.fingerprints.empty()) return refuse("no a=fingerprint (DTLS-SRTP is mandatory)");
  if (!remote.rtcpMux) return refuse("no a=rtcp-mux (required)");
  if (remote.iceUfrag.empty() || remote.icePwd.empty()) return refuse("no a=ice-ufrag/a=ice-pwd");

  bool isAnswer = awaitingAnswer_;
  std::optional<DtlsRole> role;
  auto setup = remote.setup;
  if (isAnswer) {
    if (setup == sdp::Setup::ActPass) return refuse("a=setup:actpass in an answer");
    // RFC 4145 §4: an absent setup means active.
    role = (setup == sdp::Setup::Passive) ? DtlsRole::Client : DtlsRole::Server;
  } else {
    if (!setup || setup == sdp::Setup::Active) role = DtlsRole::Server;
    else if (setup == sdp::Setup::Passive) role = DtlsRole::Client;
    else if (setup == sdp::Setup::ActPass) role = dtlsRole_.value_or(DtlsRole::Client);  // RFC 5763: answer active
    else return refuse("a=setup:holdconn is not supported");
  }
  if (dtlsRole_ && role != dtlsRole_) return refuse("DTLS role change during the call (keep the established a=setup)");
  if (dtls_->state() == DtlsState::Connected && remote.fingerprints != lastFingerprints_)
    return refuse("peer certificate changed; a new DTLS association is not supported");

  bool restart = !remoteUfrag_.empty() && (remote.iceUfrag != remoteUfrag_ || remote.icePwd != remotePwd_);
  if (restart && !isAnswer) {
    // The browser restarted ICE: we must answer with new credentials too (RFC 8839 §4.4.1.1.1).
    ice_->restart();
    localPending_ = true;
  }
  std::string iceError;
  size_t refusedCandidates = 0;
  if (!ice_->setRemote(remote.iceUfrag, remote.icePwd, remote.candidates, &iceError, &refusedCandidates))
    return refuse(iceError);
  if (refusedCandidates > 0) {
    remoteCandidatesRefused_->fetch_add(refusedCandidates, std::memory_order_relaxed);
    logger()->info("{} remote candidates not checked (unspecified, multicast, broadcast, link-local or loopback "
                   "address)", refusedCandidates);
  }
  if (remote.ignoredCandidates > 0)
    logger()->debug("ignored {} remote candidates (mDNS or unusable)", remote.ignoredCandidates);

  remoteUfrag_ = remote.iceUfrag;
  remotePwd_ = remote.icePwd;
  lastFingerprints_ = remote.fingerprints;
  dtls_->setRemoteFingerprints(remote.fingerprints);
  dtlsRole_ = role;
  if (!remote.mid.empty()) mid_ = remote.mid;
  if (!remoteSet_) remoteAt_ = std::chrono::steady_clock::now();
  remoteSet_ = true;
  awaitingAnswer_ = false;
  if (!isAnswer) nextLocalIsOffer_ = false;
  maybeReportLocal();
  maybeStartDtls();
  return true;
}

std::vector<std::string> BrowserLeg::remoteCandidates() const {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  return ice_ ? ice_->remoteCandidates() : std::vector<std::string>{};
}

void BrowserLeg::restartIce() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(callId_);
  if (state_ == LegState::Failed || state_ == LegState::PeerClosed || state_ == LegState::Closed) return;
  ice_->restart();
  awaitingAnswer_ = true;
  nextLocalIsOffer_ = true;
  localPending_ = true;
  maybeReportLocal();
}

void BrowserLeg::relayRestartFailed(const std::string& why) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(callId_);
  if (relayRecovering_) onRelayLost("the ICE restart offer was not answered: " + why);
}

// Runs inside libnice's signal emission or an IceAgent timer: only state and a timer here (regather later).
void BrowserLeg::onRelayLost(const std::string& reason) {
  log::CallScope scope(callId_);
  if (state_ == LegState::Failed || state_ == LegState::PeerClosed || state_ == LegState::Closed) return;
  if (!relayRecovering_) {
    relayRecovering_ = true;
    relayAttempts_ = 0;
    relayLostAt_ = std::chrono::steady_clock::now();
    turnLost_->fetch_add(1, std::memory_order_relaxed);
    logger()->warn("TURN allocation lost ({}): re-creating it and restarting ICE with the browser", reason);
  } else {
    logger()->info("TURN re-creation attempt {} failed: {}", relayAttempts_, reason);
  }
  if (relayAttempts_ >= kMaxRelayAttempts) {
    turnRecoveryFailed_->fetch_add(1, std::memory_order_relaxed);
    fail(fmt::format("TURN allocation lost and not re-created in {} attempts ({})", kMaxRelayAttempts, reason));
    return;
  }
  ++relayAttempts_;
  // Backoff 0, 1, 2 s: a TURN server restarting needs a moment; the browser hears nothing in between.
  const auto backoff = relayAttempts_ == 1 ? std::chrono::milliseconds(0)
                                           : std::chrono::milliseconds(1000 << (relayAttempts_ - 2));
  relayRetry_ = Timer(loop_, backoff, [this] {
    recreateRelay();
    return false;
  });
}

void BrowserLeg::recreateRelay() {
  log::CallScope scope(callId_);
  if (state_ == LegState::Failed || state_ == LegState::PeerClosed || state_ == LegState::Closed) return;
  // RFC 8445 §9 / RFC 8839 §4.4.1.1.1: new credentials are an ICE restart; the DTLS association and its SRTP
  // keys continue (RFC 8842 §5: same fingerprint, actpass in the re-offer, the browser keeps its role).
  // The offerer of the restart controls (RFC 8445 §6.1.1, roles chosen again at an ICE restart per RFC 8839
  // §4.4.1.1.1): Chromium answering a restart offer takes the controlled role, and two controlled agents would
  // first have to resolve the conflict.
  ice_->regather(true);
  awaitingAnswer_ = true;
  nextLocalIsOffer_ = true;
  localPending_ = true;
  relayOfferPending_ = true;
  maybeReportLocal();
}

void BrowserLeg::onIceConnected() {
  if (auto p = ice_->selectedPair())
    logger()->info("ICE connected: {} {} <-> {} {}", p->localType, p->localAddress, p->remoteType, p->remoteAddress);
  if (relayRecovering_) {
    relayRecovering_ = false;
    turnRecreated_->fetch_add(1, std::memory_order_relaxed);
    logger()->info("TURN allocation re-created: media path up again {} ms after the loss was noticed (attempt {})",
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                         relayLostAt_).count(),
                   relayAttempts_);
  }
  if (state_ == LegState::Gathering || state_ == LegState::New) state_ = LegState::Connecting;
  if (!iceTimed_ && remoteSet_ && startedAt_ != std::chrono::steady_clock::time_point{}) {
    iceTimed_ = true;  // the first connection only: a restart's reconnect is not setup time
    setupMetrics_->iceConnected(std::chrono::steady_clock::now() - std::max(startedAt_, remoteAt_));
  }
  maybeStartDtls();
}

void BrowserLeg::maybeStartDtls() {
  // Both roles start once ICE has a selected pair, so media.dtls_handshake_timeout_ms measures the handshake
  // alone; the active side then sends its ClientHello, the passive one only answers (RFC 5763 §5, P4).
  if (!dtlsRole_ || dtls_->state() != DtlsState::New || !ice_->isConnected()) return;
  dtlsStartedAt_ = std::chrono::steady_clock::now();
  dtls_->start(*dtlsRole_);
}

void BrowserLeg::onReceive(const uint8_t* data, size_t len) {
  if (state_ == LegState::Failed || state_ == LegState::PeerClosed || state_ == LegState::Closed || len > kMaxPacket)
    return;
  // RFC 7983 §7 (STUN never reaches us: libnice consumes it); a 0-byte datagram has no first byte to look at, and
  // classifyPacket calls anything shorter than 2 bytes unknown.
  const auto kind = classifyPacket({data, len});
  if (kind == PacketKind::Dtls) {
    // DTLS only over a selected ICE pair (libnice delivers nothing from unverified sources).
    if (!ice_->isConnected() || dtls_->state() == DtlsState::New) {
      droppedBeforeDtls_->fetch_add(1, std::memory_order_relaxed);
      ++counters_.droppedBeforeDtls;
      return;
    }
    log::CallScope scope(callId_);
    dtls_->handlePacket(data, len);
    return;
  }
  if (kind == PacketKind::Stun || kind == PacketKind::Unknown) {
    // RFC 7983 §7: no DTLS, RTP or RTCP. What libnice hands us in the STUN range is what its parser refused
    // (a datagram shorter than a STUN header, a bad length), so it is counted with the rest.
    demuxUnknown_->fetch_add(1, std::memory_order_relaxed);
    ++counters_.demuxUnknown;
    return;
  }
  if (kind == PacketKind::Rtp || kind == PacketKind::Rtcp) {
    if (!srtp_) {
      droppedBeforeDtls_->fetch_add(1, std::memory_order_relaxed);
      ++counters_.droppedBeforeDtls;
      return;
    }
    std::memcpy(recvBuffer_.data(), data, len);
    handleSrtp(recvBuffer_.data(), len);
  }
}

void BrowserLeg::handleSrtp(uint8_t* data, size_t len) {
  // RFC 5761 §4: with rtcp-mux, payload types 64..95 (with the marker bit: 192..223) are RTCP.
  bool rtcp = data[1] >= 192 && data[1] <= 223;
  // The smallest SRTCP (8-byte RR + 4-byte index) is 12 bytes plus its tag; shorter cannot be authentic.
  auto status = len < 12 ? SrtpStatus::TooShort : rtcp ? srtp_->unprotectRtcp(data, len) : srtp_->unprotectRtp(data, len);
  if (status != SrtpStatus::Ok) {
    if (status == SrtpStatus::ReplayFail) {
      replayFailures_->fetch_add(1, std::memory_order_relaxed);
      ++counters_.srtpReplayFailures;
    } else {
      // A wrong tag (AuthFail), or a packet too short to hold one (libsrtp: bad_param; reliability-security.md §5
      // item 33): either way not authentic, and counted as such.
      authFailures_->fetch_add(1, std::memory_order_relaxed);
      ++counters_.srtpAuthFailures;
    }
    return;
  }
  ice_->notePeerActivity();
  if (rtcp) {
    ++counters_.rtcpPacketsReceived;
    onRtcp(data, len);
    if (callbacks_.rtcp) callbacks_.rtcp(data, len);
    return;
  }
  // ASVS 17.2.5 (reliability-security.md 3.10): the excess of a flooding peer is dropped before the bridge decodes
  // or forwards it. Counted after authentication, so that packets forged with the browser's address cannot spend
  // the stream's tokens; RTCP is not capped (its rate is bounded by RFC 3550 6.2 and it goes nowhere).
  if (ctx_.config->media.packetRate.perSecond > 0 && !rtpRate_.take(std::chrono::steady_clock::now())) {
    rtpRateLimited_->fetch_add(1, std::memory_order_relaxed);
    ++counters_.rtpRateLimited;
    return;
  }
  ++counters_.rtpPacketsReceived;
  counters_.rtpBytesReceived += len;
  // The one parse of this packet's header on its way to the RTP leg.
  RtpHeader h;
  if (parseRtp({data, len}, h) != RtpStatus::Ok) {
    ++counters_.rtpMalformed;
    return;
  }
  updateInbound(h);
  if (callbacks_.rtp) callbacks_.rtp(h, data, len);
}

void BrowserLeg::updateInbound(const RtpHeader& h) {
  if (!inbound_ || inbound_->ssrc != h.ssrc) inbound_ = Inbound{h.ssrc, 0, {}};
  // Jitter needs the arrival time in the payload type's timestamp units (RFC 3550 A.8).
  auto rate = clockRates_.find(h.payloadType);
  if (rate == clockRates_.end() || rate->second == 0) {
    inbound_->stats.updateSequence(h.sequence);
    return;
  }
  inbound_->clockRate = rate->second;
  inbound_->stats.update(h.sequence, h.timestamp, arrivalTimestamp(rate->second));
}

void BrowserLeg::onRtcp(const uint8_t* data, size_t len) {
  RtcpSummary s;
  if (parseRtcp({data, len}, s, outbound_.ssrc) != RtpStatus::Ok) {
    rtcpMalformed_->fetch_add(1, std::memory_order_relaxed);
    ++counters_.rtcpMalformed;
    return;
  }
  rtcp_.onReport(s, outbound_.ssrc);
}

void BrowserLeg::armRtcp(bool first) {
  // RFC 3550 6.2 interval (5 s minimum, randomised); a new one-shot timer per report, replaced from its own
  // callback (safe: the GSource keeps the callback until its dispatch returns).
  rtcpTimer_ = Timer(loop_, RtcpReporter::nextInterval(ctx_.rtcpInterval, first), [this] {
    sendReport();
    armRtcp(false);
    return false;
  });
}

void BrowserLeg::sendReport() {
  if (state_ != LegState::Connected) return;
  std::array<uint8_t, 256> out{};
  std::optional<uint32_t> remote;
  if (inbound_) remote = inbound_->ssrc;
  const size_t n = rtcp_.writeReport(outbound_, inbound_ ? &inbound_->stats : nullptr, remote, "rtcgate", out);
  if (n > 0) (void)sendRtcp(out.data(), n);
}

SendStatus BrowserLeg::sendRtp(const uint8_t* data, size_t len) { return sendProtected(data, len, false); }
SendStatus BrowserLeg::sendRtcp(const uint8_t* data, size_t len) { return sendProtected(data, len, true); }

SendStatus BrowserLeg::sendRtpInPlace(uint8_t* packet, size_t len, size_t capacity) {
  if (capacity < len + SrtpSession::kMaxOverhead) return sendProtected(packet, len, false);
  return protectAndSend(packet, len, capacity, false);
}

SendStatus BrowserLeg::sendProtected(const uint8_t* data, size_t len, bool rtcp) {
  if (len > kMaxPacket) return SendStatus::BadSize;
  std::memcpy(sendBuffer_.data(), data, len);
  return protectAndSend(sendBuffer_.data(), len, sendBuffer_.size(), rtcp);
}

SendStatus BrowserLeg::protectAndSend(uint8_t* buf, size_t len, size_t capacity, bool rtcp) {
  // No media before DTLS completed: there are no keys, and plain RTP toward a browser is never an option.
  if (!srtp_ || state_ != LegState::Connected) return SendStatus::NotReady;
  if (len > kMaxPacket || len < (rtcp ? 8u : 12u)) return SendStatus::BadSize;
  if (!rtcp) {
    // Before protection, while the header is plain: what our SR describes (RFC 3550 6.4.1).
    outbound_.ssrc = load32(buf + 8);
    outbound_.lastTimestamp = load32(buf + 4);
  }
  size_t n = len;
  auto status = rtcp ? srtp_->protectRtcp(buf, n, capacity) : srtp_->protectRtp(buf, n, capacity);
  if (status != SrtpStatus::Ok) return SendStatus::ProtectFailed;
  if (!ice_->send(buf, n)) return SendStatus::SendFailed;
  if (rtcp) {
    ++counters_.rtcpPacketsSent;
  } else {
    ++counters_.rtpPacketsSent;
    counters_.rtpBytesSent += len;
    ++outbound_.packets;
    outbound_.octets += len - 12;  // payload octets as the SR counts them (no CSRC or extension from the bridge)
  }
  return SendStatus::Ok;
}

void BrowserLeg::setClockRate(int payloadType, uint32_t hz) { clockRates_[payloadType] = hz; }

void BrowserLeg::onDtlsConnected(const DtlsSrtpKeys& keys) {
  try {
    srtp_ = std::make_unique<SrtpSession>(keys.profile, keys.localKeySalt, keys.remoteKeySalt);
  } catch (const std::exception& e) {
    const std::string why = std::string("SRTP setup failed: ") + e.what();
    fail(why, &setupMetrics_->dtlsFailure(why));
    return;
  }
  setupMetrics_->dtlsConnected(std::chrono::steady_clock::now() - dtlsStartedAt_);
  state_ = LegState::Connected;
  armRtcp(true);
  emit([this] {
    if (callbacks_.connected) callbacks_.connected();
  });
}

void BrowserLeg::onDtlsClosedByPeer() {
  if (state_ == LegState::Failed || state_ == LegState::PeerClosed || state_ == LegState::Closed) return;
  // Runs synchronously inside DtlsTransport::handlePacket: only state here, the owner hears of it posted.
  state_ = LegState::PeerClosed;  // nothing more is sent (sendProtected answers NotReady) nor accepted (onReceive)
  legsClosedByPeer_->fetch_add(1, std::memory_order_relaxed);
  logger()->info("browser closed its media (DTLS close_notify)");
  emit([this] {
    if (callbacks_.closedByPeer) callbacks_.closedByPeer();
  });
}

void BrowserLeg::fail(const std::string& reason) { fail(reason, nullptr); }

void BrowserLeg::fail(const std::string& reason, std::atomic<uint64_t>* byReason) {
  // After the browser's close_notify, ICE consent and the like run out by design: that is no failure.
  if (state_ == LegState::Failed || state_ == LegState::PeerClosed || state_ == LegState::Closed) return;
  state_ = LegState::Failed;
  failureReason_ = reason;
  legsFailed_->fetch_add(1, std::memory_order_relaxed);
  if (byReason != nullptr) byReason->fetch_add(1, std::memory_order_relaxed);
  logger()->warn("browser leg failed: {}", reason);
  emit([this, reason] {
    if (callbacks_.failed) callbacks_.failed(reason);
  });
}

LegStats BrowserLeg::stats() const {
  LegStats s = counters_;
  s.state = state_;
  s.failureReason = failureReason_;
  if (ice_) {
    if (auto p = ice_->selectedPair()) {
      s.iceLocalType = p->localType;
      s.iceLocalAddress = p->localAddress;
      s.iceRemoteType = p->remoteType;
      s.iceRemoteAddress = p->remoteAddress;
    }
  }
  if (dtls_) {
    s.dtlsState = dtls_->state();
    if (auto r = dtls_->role()) s.dtlsRole = *r == DtlsRole::Client ? "client" : "server";
    if (auto p = dtls_->profile()) s.srtpProfile = srtpProfileName(*p);
  }
  if (inbound_) {
    s.packetsLost = inbound_->stats.lost();
    if (inbound_->clockRate > 0) s.jitterMs = inbound_->stats.jitter() * 1000.0 / inbound_->clockRate;
  }
  s.rttMs = rtcp_.rttMs();
  return s;
}

void BrowserLeg::close(std::function<void()> closed) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  log::CallScope scope(callId_);
  if (state_ == LegState::Closed) return;
  alive_.reset();  // no posted callback runs after this
  state_ = LegState::Closed;
  relayRetry_.cancel();
  rtcpTimer_.cancel();
  if (dtls_) dtls_->close();  // close_notify (RFC 5246 §7.2.1) while the pair still exists
  srtp_.reset();
  if (ice_) ice_->closeAsync(std::move(closed));
}

}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/session.h"

#include <algorithm>
#include <random>
#include <utility>

#include "rtcgate/codec/dtmf.h"
#include "rtcgate/core/log.h"
#include "rtcgate/session/call_metrics.h"
#include "rtcgate/session/media_destination.h"
#include "rtcgate/session/media_session.h"

namespace rtcgate::session {
namespace {

spdlog::logger* lg() { return log::get(log::Component::Session); }

// How long a call may stay in Terminating waiting for both legs to confirm their teardown.
constexpr std::chrono::milliseconds kTerminatingLimit{8000};

// Chrome sends DTLS close_notify when its RTCPeerConnection closes, which at a normal hangup can be just before
// the BYE (issue 9: 9 of 61 calls). The call waits this long for that BYE (or CANCEL) before ending the call itself;
// the BYE normally follows within milliseconds, so a few seconds cover slow pages and a WebSocket reconnect.
constexpr std::chrono::milliseconds kBrowserByeGrace{5000};

// RFC 3261 §14.1: after a 491 to our re-INVITE, try again after a random 2.1-4 s (we do not own the Call-ID on
// every call) or 0-2 s; one fixed value in that range keeps it simple.
constexpr std::chrono::milliseconds kReinviteGlareRetry{2500};

const char* reasonFor(uint16_t code) {
  switch (code) {
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 480: return "Temporarily Unavailable";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 500: return "Server Internal Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 603: return "Decline";
    default: return "Call Failed";
  }
}

}  // namespace

Session::Session(SessionDeps& deps, config::ConfigPtr config, Direction direction, std::function<void(Session&)> closed)
    : deps_(deps),
      config_(std::move(config)),
      direction_(direction),
      closed_(std::move(closed)),
      dtmfToBrowserDropped_(&deps.mediaContext.metrics->counter(
          "rtcgate_dtmf_to_browser_dropped_total",
          "RFC 4733 digits from Genesys not relayed to the browser: above the per-call rate cap")),
      upstreamMediaRefused_(&deps.mediaContext.metrics->counter(
          "rtcgate_upstream_media_refused_total",
          "Genesys SDPs refused for their media destination (multicast, link-local, own address, outside "
          "upstream.media_allowed_cidrs...): the INVITE or re-INVITE got 488, the answer ended the call")) {
  std::random_device rd;
  sdpSessionId_ = (static_cast<uint64_t>(rd()) << 20) ^ rd();
}

Session::~Session() {
  RTCGATE_ASSERT_ON_LOOP(deps_.control);
  if (transferCall_) transferCall_->setObserver(nullptr);  // it observes through transferLeg_, going away now
  releaseMedia();
  for (const auto& sipCallId : aliases_) log::unaliasCallId(sipCallId);
}

std::string Session::newCallId() {
  // The call's own id on every log line of both legs: short, unique per process, and never network-supplied
  // (the SIP Call-IDs are logged once against it, escaped). Control thread only.
  static std::mt19937_64 rng{std::random_device{}()};
  static uint64_t counter = 0;
  return fmt::format("c{:06x}{:04x}", rng() & 0xffffff, ++counter & 0xffff);
}

void Session::alias(const std::string& sipCallId) {
  if (sipCallId.empty() || std::find(aliases_.begin(), aliases_.end(), sipCallId) != aliases_.end()) return;
  aliases_.push_back(sipCallId);
  log::aliasCallId(sipCallId, id_);
}

template <typename Fn>
void Session::onMedia(Fn fn) {
  if (!media_) return;
  deps_.workers.loop(worker_).post([slot = media_, fn = std::move(fn)] {
    if (*slot) fn(**slot);
  });
}

void Session::postToMedia(std::function<void(MediaSession&)> fn) { onMedia(std::move(fn)); }

void Session::startFromAgent(std::shared_ptr<signaling::BrowserDialog> dialog, const std::string& dn) {
  dialog_ = std::move(dialog);
  dn_ = dn;
  target_ = dialog_->target();
  id_ = newCallId();
  log::CallScope scope(id_);
  alias(dialog_->callId());
  dialog_->setEvents(browserEvents());
  invitedAt_ = std::chrono::steady_clock::now();
  lg()->info("new call from agent DN {} to {}: browser Call-ID {}", dn_, log::escaped(target_),
             log::escaped(dialog_->callId()));
  apply(CallEvent::CallerInvite);
}

void Session::startToAgent(std::shared_ptr<sip::UpstreamCall> call, const signaling::Registration& registration) {
  upstream_ = std::move(call);
  registration_ = registration;
  dn_ = upstream_->dn();
  id_ = newCallId();
  log::CallScope scope(id_);
  alias(upstream_->callId());
  upstream_->setLogId(id_);
  upstream_->setObserver(this);
  invitedAt_ = std::chrono::steady_clock::now();
  callUuidLogged_ = true;  // in the line below
  lg()->info("new call from Genesys to DN {} (agent {}): Genesys Call-ID {}, X-Genesys-CallUUID {}", dn_,
             registration.user, log::escaped(upstream_->callId()),
             upstream_->genesysCallUuid().empty() ? "-" : log::escaped(upstream_->genesysCallUuid()));
  apply(CallEvent::CallerInvite);
}

void Session::fail(uint16_t code, const std::string& why) {
  lg()->warn("call refused with {}: {}", code, why);
  rejectCode_ = code;
  // The browser's dialog is already up when it offered in its 200: ACK and BYE it.
  if (browserOffers_ && dialog_ && !browserDone_) dialog_->hangup();
  apply(CallEvent::Rejected);
}

void Session::apply(CallEvent event, uint16_t code) {
  auto t = decide(state_, event);
  if (t.ignored) return;
  lg()->debug("{} + {} -> {}", stateName(state_), eventName(event), stateName(t.next));
  if (code != 0) rejectCode_ = code;
  state_ = t.next;
  if (state_ == CallState::Terminating || state_ == CallState::Closed) countEnd(event);
  const bool fromAgent = direction_ == Direction::FromAgent;
  for (auto action : t.actions) {
    switch (action) {
      case CallAction::StartCallee: {
        if (fromAgent) {
          std::string err;
          lg()->debug("browser offer SDP:\n{}", dialog_->remoteOffer());
          browserSdp_ = readBrowserSdp(dialog_->remoteOffer(), &err);
          if (!browserSdp_) return fail(488, "browser offer unusable: " + (err.empty() ? "no SDP" : err));
          if (!pickCodec(browserSdp_->codecs, codecIds(config_->codecs.browser)))
            return fail(488, "no codec of codecs.browser in the browser's offer");
          openMedia(media::LegRole::Answerer);
        } else {
          if (upstream_->lateOffer()) {
            // Third-party call control (RFC 3725, desktop MakeCall): the browser gets our offer as for any call,
            // our 200 to Genesys carries our offer and Genesys's answer comes in the ACK (or a later re-INVITE).
            lg()->info("INVITE without SDP (third-party call control): our offer goes in the 200");
            upstream_->ring();
            if (config_->upstream.offerlessInviteToBrowser) {
              // upstream.offerless_invite_to_browser: the browser offers in its 200 (onBrowserOfferIn2xx).
              lg()->info("inviting the browser without SDP too: it offers in its 200, we answer in the ACK");
              browserOffers_ = true;
              inviteBrowser({});
              break;
            }
            openMedia(media::LegRole::Offerer);
            break;
          }
          genesysSdp_ = readGenesysSdp(upstream_->remoteSdp());
          if (!genesysSdp_) return fail(488, "Genesys offer has no RTP/AVP audio");
          if (!genesysMediaAllowed(*genesysSdp_, "Genesys offer"))
            return fail(488, "Genesys offer names a media destination rtcgate does not send to");
          if (!pickCodec(genesysSdp_->codecs, codecIds(config_->codecs.upstream)))
            return fail(488, "no codec of codecs.upstream in the Genesys offer");
          upstream_->ring();
          openMedia(media::LegRole::Offerer);
        }
        break;
      }
      case CallAction::RejectCaller: {
        uint16_t c = rejectCode_ != 0 ? rejectCode_ : 487;
        if (fromAgent) {
          if (dialog_ && !browserDone_) dialog_->respond(c, reasonFor(c));
        } else if (upstream_ && !upstreamDone_) {
          upstream_->reject(c, reasonFor(c));
        }
        break;
      }
      case CallAction::RelayProvisional:
      case CallAction::RelayEarlyMedia:
        if (fromAgent) {
          if (action == CallAction::RelayEarlyMedia && !browserAnswerSdp_.empty())
            dialog_->respond(183, "Session Progress", browserAnswerSdp_);
          else
            dialog_->respond(180, "Ringing");
        }
        // Toward Genesys the 180 went out when the browser was invited; early media from a browser is not relayed.
        break;
      case CallAction::AnswerCaller:
        if (!answered_)
          observeCallSetup(*deps_.mediaContext.metrics, fromAgent ? "outbound" : "inbound",
                           std::chrono::steady_clock::now() - invitedAt_);
        answered_ = true;
        lg()->debug("answer SDP to the caller:\n{}", fromAgent ? browserAnswerSdp_ : genesysAnswerSdp_);
        if (fromAgent)
          dialog_->respond(200, "OK", browserAnswerSdp_);
        else
          upstream_->answer(genesysAnswerSdp_);
        break;
      case CallAction::CancelCallee:
      case CallAction::ByeCallee:
        if (fromAgent) {
          if (upstream_ && !upstreamDone_) upstream_->hangup();
        } else if (dialog_ && !browserDone_) {
          dialog_->hangup();
        }
        break;
      case CallAction::ByeCaller:
        if (fromAgent) {
          if (dialog_ && !browserDone_) dialog_->hangup();
        } else if (upstream_ && !upstreamDone_) {
          upstream_->hangup();
        }
        break;
      case CallAction::ReleaseMedia: releaseMedia(); break;
    }
  }
  if (state_ == CallState::Terminating && !terminatingTimer_.active()) {
    terminatingTimer_ = Timer(deps_.control, kTerminatingLimit, [this] {
      log::CallScope callScope(id_);
      lg()->warn("a leg did not confirm its teardown in {} ms; closing the call", kTerminatingLimit.count());
      browserDone_ = upstreamDone_ = true;
      closeIfDone();
      return false;
    });
  }
  closeIfDone();
}

void Session::countEnd(CallEvent event) {
  if (endCounted_) return;
  endCounted_ = true;
  std::string_view outcome;
  if (endedByGateway_) {
    outcome = "gateway_ended";
  } else if (answered_) {
    switch (event) {
      case CallEvent::MediaFailed: outcome = "media_failed"; break;
      case CallEvent::CallerTransportLost:
      case CallEvent::CalleeTransportLost: outcome = "transport_lost"; break;
      default: outcome = "completed"; break;  // BYE from either side, or the browser's DTLS close_notify
    }
  } else {
    switch (event) {
      case CallEvent::CallerCancel:
      case CallEvent::CallerTransportLost: outcome = "cancelled"; break;
      case CallEvent::MediaFailed: outcome = "media_failed"; break;
      default: outcome = "rejected"; break;
    }
  }
  // What RejectCaller sends for an unanswered call; 200 once answered.
  const uint16_t cause = answered_ ? 200 : rejectCode_ != 0 ? rejectCode_ : 487;
  countCallEnded(*deps_.mediaContext.metrics, outcome, cause);
}

void Session::openMedia(media::LegRole role) {
  worker_ = deps_.workers.pick();
  deps_.workers.acquire(worker_);
  media_ = std::make_shared<std::unique_ptr<MediaSession>>();
  MediaSession::Setup setup;
  setup.callId = id_;
  setup.browserRole = role;
  setup.context = deps_.mediaContext;
  setup.context.config = config_;
  setup.ports = &deps_.ports.slice(static_cast<unsigned>(worker_));
  setup.rtp.localAddress = config_->media.rtpAddress;
  setup.rtp.inactivityTimeout = std::chrono::milliseconds(config_->media.rtpTimeoutMs);
  setup.rtp.packetRate = config_->media.packetRate;
  setup.opus = config_->codecs.opus;

  std::weak_ptr<Session> weak = weak_from_this();
  EventLoop& control = deps_.control;
  auto toControl = [weak, &control](auto fn) {
    control.post([weak, fn = std::move(fn)] {
      if (auto self = weak.lock()) {
        log::CallScope scope(self->id_);
        fn(*self);
      }
    });
  };
  MediaSession::Events events;
  events.rtpReady = [toControl](const std::string& addr, uint16_t port) {
    toControl([addr, port](Session& s) { s.onRtpReady(addr, port); });
  };
  events.ready = [toControl](const sdp::TransportParams& local, const std::string& addr, uint16_t port) {
    toControl([local, addr, port](Session& s) { s.onMediaReady(local, addr, port); });
  };
  events.connected = [toControl] {
    toControl([](Session& s) {
      s.browserMediaUp_ = true;
      lg()->info("browser media connected (ICE + DTLS)");
    });
  };
  events.failed = [toControl](const std::string& reason) {
    toControl([reason](Session& s) {
      lg()->warn("media failed: {}", reason);
      s.rejectCode_ = 488;
      s.apply(CallEvent::MediaFailed);
    });
  };
  events.reofferLocal = [toControl](std::optional<sdp::TransportParams> local, const std::string& error) {
    toControl([local = std::move(local), error](Session& s) { s.onBrowserReofferLocal(local, error); });
  };
  events.browserClosedMedia = [toControl] { toControl([](Session& s) { s.onBrowserClosedMedia(); }); };
  events.relayRestartOffer = [toControl](const sdp::TransportParams& local) {
    toControl([local](Session& s) { s.onRelayRestartOffer(local); });
  };
  events.browserLegRestarted = [toControl](const sdp::TransportParams& local) {
    toControl([local](Session& s) { s.onResumeOfferReady(local); });
  };
  events.dtmfFromUpstream = [toControl](char digit, uint16_t durationMs) {
    toControl([digit, durationMs](Session& s) {
      // RFC 4733 digits from Genesys reach JsSIP as INFO (its newDTMF event), with their duration. Each becomes a
      // SIP request over the agent's WebSocket, so their rate is capped: a flood of events on the media port (anyone
      // who can send UDP there) must not become a flood of INFO.
      if (!s.dialog_) return;
      if (!s.dtmfToBrowserLimit_.take(TokenBucket::Clock::now())) {
        s.dtmfToBrowserDropped_->fetch_add(1, std::memory_order_relaxed);
        if (!std::exchange(s.dtmfDropLogged_, true))
          lg()->warn("RFC 4733 digits from Genesys above {}/s (burst {}): the excess is not relayed to the browser",
                     kDtmfToBrowserPerSecond, kDtmfToBrowserBurst);
        return;
      }
      s.dialog_->sendRequest("INFO", "application/dtmf-relay", codec::formatDtmfRelay(digit, durationMs));
    });
  };
  std::optional<sdp::TransportParams> remote;
  if (role == media::LegRole::Answerer) remote = browserSdp_->transport;
  deps_.workers.loop(worker_).post([slot = media_, setup = std::move(setup), events = std::move(events), remote,
                                    &loop = deps_.workers.loop(worker_), toControl]() mutable {
    *slot = std::make_unique<MediaSession>(loop, std::move(setup), std::move(events));
    std::string err;
    bool ok = (*slot)->open(remote, &err);
    if (!ok) toControl([err](Session& s) { s.fail(err.find("RTP port") != std::string::npos ? 503 : 488, err); });
  });
}

void Session::onRtpReady(const std::string& rtpAddress, uint16_t rtpPort) {
  if (state_ != CallState::Routing && state_ != CallState::Early) return;
  rtpAddress_ = rtpAddress;
  rtpPort_ = rtpPort;
  if (direction_ != Direction::FromAgent || upstream_) return;
  // The Genesys offer carries only the RTP leg's address: it goes out while the browser leg gathers, so gathering
  // (up to ice.gather_deadline_ms with an unanswering STUN/TURN server) overlaps Genesys's routing and ringing
  // instead of adding to post-dial delay. Offer Genesys what it speaks: codecs.upstream in order, telephone-event.
  std::vector<std::pair<codec::CodecId, uint8_t>> offer;
  for (auto id : codecIds(config_->codecs.upstream))
    offer.emplace_back(id, id == codec::CodecId::Pcmu ? 0 : 8);
  auto sdp = genesysSdp(rtpAddress_, rtpPort_, offer, kGenesysTelephoneEventPt, sdpSessionId_, 1);
  lastGenesysSdp_ = sdp;
  upstream_ = deps_.sip.placeCall(dn_, target_, sdp, this);
  if (!upstream_) return fail(480, "no upstream server or DN " + dn_ + " is not configured");
  upstream_->setLogId(id_);
  noteUpstreamIds();
}

void Session::onMediaReady(const sdp::TransportParams& local, const std::string& rtpAddress, uint16_t rtpPort) {
  if (state_ != CallState::Routing && state_ != CallState::Early) return;
  localTransport_ = local;
  rtpAddress_ = rtpAddress;
  rtpPort_ = rtpPort;
  if (direction_ == Direction::FromAgent) {
    // Genesys may have answered while the browser leg gathered (onAnswered kept it for now).
    if (upstream_ && pendingAnswer_) return onAnswered(upstream_->remoteSdp());
    if (upstream_ && !pendingEarlySdp_.empty()) onProgress(183, std::exchange(pendingEarlySdp_, {}));
    return;
  }
  if (browserOffers_) return answerBrowserOfferInAck();
  inviteBrowser(browserOffer(codecIds(config_->codecs.browser), local, sdpSessionId_, 1));
}

void Session::inviteBrowser(const std::string& sdp) {
  std::weak_ptr<Session> weak = weak_from_this();
  auto ev = browserEvents();
  ev.onResponse = [weak](int status, const std::string& reason, const std::string& body) {
    if (auto self = weak.lock()) {
      log::CallScope callScope(self->id_);
      self->onBrowserResponse(status, reason, body);
    }
  };
  // The caller as Genesys names it (its From, sanitized by the SIP layer), else the DN.
  const auto& from = upstream_->callerUser().empty() ? upstream_->dn() : upstream_->callerUser();
  // Auto-answer asked by Genesys (Call-Info ...;answer-after=N) reaches the browser app on its INVITE.
  std::vector<std::string> headers;
  if (!upstream_->autoAnswerCallInfo().empty()) headers.push_back("Call-Info: " + upstream_->autoAnswerCallInfo());
  dialog_ = deps_.dialogs.invite(*registration_, from, sdp, std::move(ev), std::move(headers), upstream_->callerName());
  if (!dialog_) return fail(480, "the agent's browser connection is gone");
  alias(dialog_->callId());
  lg()->info("browser leg: Call-ID {}", log::escaped(dialog_->callId()));
}

signaling::DialogEvents Session::browserEvents() {
  std::weak_ptr<Session> weak = weak_from_this();
  signaling::DialogEvents ev;
  ev.onTerminated = [weak](const std::string& why) {
    if (auto self = weak.lock()) {
      log::CallScope callScope(self->id_);
      self->onBrowserEnded(why);
    }
  };
  ev.onInfo = [weak](const std::string& type, const std::string& body) {
    auto self = weak.lock();
    if (!self) return;
    if (auto d = codec::parseInfoDtmf(type, body))
      self->onMedia([d = *d](MediaSession& m) { m.sendDtmfUpstream(d.digit, d.durationMs); });
  };
  ev.onRefer = [weak](const signaling::ReferRequest& refer) {
    if (auto self = weak.lock()) {
      log::CallScope callScope(self->id_);
      self->onBrowserRefer(refer);
    }
  };
  ev.onAgentNewBrowser = [weak](const signaling::Registration& r) {
    if (auto self = weak.lock()) {
      log::CallScope callScope(self->id_);
      self->resumeOnNewBrowser(r);
    }
  };
  ev.onReoffer = [weak](const std::string& sdp, bool) {
    auto self = weak.lock();
    if (!self) return;
    log::CallScope callScope(self->id_);
    // Hold/unhold, ICE restart or a refresh with SDP (re-INVITE or UPDATE), on calls in both directions.
    self->onBrowserReoffer(sdp);
  };
  return ev;
}

void Session::onBrowserEnded(const std::string& why) {
  browserDone_ = true;
  lg()->info("browser leg ended: {}", why);
  if (direction_ == Direction::FromAgent)
    apply(state_ == CallState::Connected ? CallEvent::CallerBye : CallEvent::CallerCancel);
  else if (state_ == CallState::Connected)
    apply(CallEvent::CalleeBye);
  else
    apply(CallEvent::CalleeFailed, rejectCode_ != 0 ? rejectCode_ : 480);
  closeIfDone();
}

void Session::onBrowserClosedMedia() {
  if (state_ != CallState::Routing && state_ != CallState::Early && state_ != CallState::Connected) return;
  // Not a media failure and no reason to hang up yet: the browser's BYE normally follows (and must then get its
  // 200, which it would not if we had ended the dialog first). Nothing is sent toward the browser meanwhile.
  lg()->info("browser closed its media (DTLS close_notify); waiting up to {} ms for its BYE", kBrowserByeGrace.count());
  std::weak_ptr<Session> weak = weak_from_this();
  browserByeGraceTimer_ = Timer(deps_.control, kBrowserByeGrace, [weak, &control = deps_.control] {
    // Posted: the teardown cancels this timer, which must not happen inside its own callback.
    control.post([weak] {
      auto self = weak.lock();
      if (!self) return;
      log::CallScope callScope(self->id_);
      auto st = self->state_;
      if (st != CallState::Routing && st != CallState::Early && st != CallState::Connected) return;
      if (self->dialog_ && self->dialog_->waitingForReconnect()) {
        // Its connection went too: a page being reloaded closes its media first. The reconnect grace decides.
        lg()->info("no BYE from the browser after it closed its media, but its connection is gone too: the call "
                   "waits for the agent's browser to reconnect");
        return;
      }
      lg()->info("no BYE from the browser {} ms after it closed its media: ending the call (normal hangup)",
                 kBrowserByeGrace.count());
      self->deps_.mediaContext.metrics
          ->counter("rtcgate_calls_ended_browser_media_closed_total",
                    "Calls ended because the browser closed its media (DTLS close_notify) and sent no BYE in time")
          .fetch_add(1, std::memory_order_relaxed);
      self->apply(CallEvent::BrowserMediaClosed);
    });
    return false;
  });
}

bool Session::chooseForGenesysAnswer(const GenesysMedia& genesys, std::string* browserSdp) {
  // FromAgent: Genesys answered with its codec; pick the browser's (passthrough when allowed) and build our answer.
  auto up = pickCodec(genesys.codecs, {codec::CodecId::Pcmu, codec::CodecId::Pcma});
  if (!up) return false;
  auto browser = pickBrowserCodec(browserSdp_->codecs, up->first, config_->codecs.passthrough,
                                  codecIds(config_->codecs.browser));
  if (!browser) return false;
  codecs_.upstreamCodec = up->first;
  codecs_.upstreamPt = up->second;
  codecs_.browserCodec = browser->first;
  codecs_.browserPt = browser->second;
  codecs_.upstreamDtmfPt = pickTelephoneEvent(genesys.codecs, 8000);
  codecs_.browserDtmfPt = pickTelephoneEvent(browserSdp_->codecs, codec::rtpClockRate(browser->first));
  *browserSdp = browserAnswer(*browserSdp_, browser->first, browser->second, *localTransport_, sdpSessionId_, 1);
  return true;
}

void Session::startBridge() {
  if (bridged_ || !genesysSdp_) return;
  bridged_ = true;
  auto g = *genesysSdp_;
  auto codecs = codecs_;
  const bool hold = g.nullAddress() || g.port == 0;
  onMedia([g, hold, codecs](MediaSession& m) {
    // RFC 3264 §8.4: c=0.0.0.0 names no destination: the RTP leg has none (sends nothing) until a new SDP.
    if (!hold) m.setUpstreamRemote(g.address, g.port, g.rtcpAddress, g.rtcpPort);
    m.startBridge(codecs);
  });
  if (hold) {
    lg()->info("Genesys media {}:{}: on hold from the start, nothing sent until its next offer", g.address, g.port);
    genesysSends_ = genesysReceives_ = false;
    updateMediaDirections();
  }
}

void Session::noteUpstreamIds() {
  // An outbound INVITE's Call-ID and Genesys's CallUUID become known with its first response: logged once each.
  if (!upstream_) return;
  if (!upstream_->callId().empty() && std::find(aliases_.begin(), aliases_.end(), upstream_->callId()) == aliases_.end()) {
    alias(upstream_->callId());
    lg()->info("Genesys leg: Call-ID {}", log::escaped(upstream_->callId()));
  }
  if (!callUuidLogged_ && !upstream_->genesysCallUuid().empty()) {
    callUuidLogged_ = true;
    if (direction_ == Direction::FromAgent)
      lg()->info("Genesys leg: X-Genesys-CallUUID {}", log::escaped(upstream_->genesysCallUuid()));
  }
}

void Session::onProgress(int status, std::string_view sdp) {
  log::CallScope scope(id_);
  noteUpstreamIds();
  if (!sdp.empty() && browserAnswerSdp_.empty() && !localTransport_) pendingEarlySdp_ = std::string(sdp);
  if (!sdp.empty() && browserAnswerSdp_.empty() && localTransport_) {
    genesysSdp_ = readGenesysSdp(std::string(sdp));
    if (genesysSdp_ && !genesysMediaAllowed(*genesysSdp_, "Genesys early media (183)")) {
      rejectCode_ = 488;
      apply(CallEvent::MediaFailed);
      return;
    }
    if (genesysSdp_ && chooseForGenesysAnswer(*genesysSdp_, &browserAnswerSdp_)) {
      startBridge();
      apply(CallEvent::CalleeEarlyMedia);
      return;
    }
  }
  if (status == 180 || status == 183) apply(CallEvent::CalleeProvisional);
}

void Session::onAnswered(std::string_view sdp) {
  log::CallScope scope(id_);
  noteUpstreamIds();
  if (!localTransport_) {
    pendingAnswer_ = true;
    return;
  }
  if (browserAnswerSdp_.empty()) {
    genesysSdp_ = readGenesysSdp(std::string(sdp));
    if (genesysSdp_ && !genesysMediaAllowed(*genesysSdp_, "Genesys answer (200)")) {
      // nua has ACKed the 200; the MediaFailed path sends the BYE and fails the browser's INVITE with 488.
      rejectCode_ = 488;
      apply(CallEvent::MediaFailed);
      return;
    }
    if (!genesysSdp_ || !chooseForGenesysAnswer(*genesysSdp_, &browserAnswerSdp_)) {
      lg()->warn("Genesys answer unusable; ending the call");
      rejectCode_ = 488;
      apply(CallEvent::MediaFailed);
      return;
    }
  }
  startBridge();
  apply(CallEvent::CalleeAnswered);
}

std::string Session::nextGenesysSdp(const std::vector<std::pair<codec::CodecId, uint8_t>>& codecs,
                                    std::optional<uint8_t> telephoneEventPt, sdp::Direction direction,
                                    std::string_view telephoneEvents) {
  auto sdp = genesysSdp(rtpAddress_, rtpPort_, codecs, telephoneEventPt, sdpSessionId_, genesysSdpVersion_, direction,
                        telephoneEvents);
  if (!lastGenesysSdp_.empty() && sdp != lastGenesysSdp_)
    sdp = genesysSdp(rtpAddress_, rtpPort_, codecs, telephoneEventPt, sdpSessionId_, ++genesysSdpVersion_, direction,
                     telephoneEvents);
  lastGenesysSdp_ = sdp;
  genesysLocalDirection_ = direction;
  return sdp;
}

std::vector<std::pair<codec::CodecId, uint8_t>> Session::upstreamOfferCodecs() const {
  // Our offers in an established call: the codec in use first (with its payload type), then the rest of
  // codecs.upstream, so Genesys may keep or switch.
  std::vector<std::pair<codec::CodecId, uint8_t>> out{{codecs_.upstreamCodec, codecs_.upstreamPt}};
  for (auto id : codecIds(config_->codecs.upstream))
    if (id != codecs_.upstreamCodec && id != codec::CodecId::Opus)
      out.emplace_back(id, id == codec::CodecId::Pcmu ? 0 : 8);
  return out;
}

std::vector<codec::CodecId> Session::offeredUpstreamIds() const {
  std::vector<codec::CodecId> ids;
  for (const auto& [id, pt] : upstreamOfferCodecs()) ids.push_back(id);
  return ids;
}

void Session::applyGenesysMedia(const GenesysMedia& g, std::pair<codec::CodecId, uint8_t> upstream) {
  if (!bridged_) {
    // Late offer: Genesys's first usable answer (ACK, or its re-INVITE after an ACK without SDP) starts the bridge.
    codecs_.upstreamCodec = upstream.first;
    codecs_.upstreamPt = upstream.second;
    codecs_.upstreamDtmfPt = pickTelephoneEvent(g.codecs, 8000);
    const bool blackHole = g.nullAddress() || g.port == 0;
    genesysSends_ = !blackHole && (g.direction == sdp::Direction::SendRecv || g.direction == sdp::Direction::SendOnly);
    genesysReceives_ = !blackHole && (g.direction == sdp::Direction::SendRecv || g.direction == sdp::Direction::RecvOnly);
    genesysSdp_ = g;
    if (blackHole) {
      lg()->info("Genesys media {}:{} (no destination yet): waiting for its re-INVITE", g.address, g.port);
      return;
    }
    lg()->info("Genesys media at {}:{}, {}: starting the bridge", g.address, g.port, codec::codecName(upstream.first));
    startBridge();
    return;
  }
  const bool hold = g.nullAddress() || g.port == 0;
  const bool wasHold = !genesysSdp_ || genesysSdp_->nullAddress() || genesysSdp_->port == 0;
  const bool moved = !hold && (wasHold || g.address != genesysSdp_->address || g.port != genesysSdp_->port ||
                               g.rtcpAddress != genesysSdp_->rtcpAddress || g.rtcpPort != genesysSdp_->rtcpPort);
  if (moved) {
    lg()->info("Genesys media now at {}:{}: re-latching", g.address, g.port);
    onMedia([g](MediaSession& m) { m.setUpstreamRemote(g.address, g.port, g.rtcpAddress, g.rtcpPort); });
  } else if (hold && !wasHold) {
    // RFC 3264 §8.4 (c=0.0.0.0) or a rejected stream (port 0): no destination, so no RTP and no RTCP either.
    lg()->info("Genesys media {}:{}: no destination, nothing sent until its next offer", g.address, g.port);
    onMedia([](MediaSession& m) { m.clearUpstreamRemote(); });
  }
  auto dtmf = pickTelephoneEvent(g.codecs, 8000);
  if (upstream.first != codecs_.upstreamCodec || upstream.second != codecs_.upstreamPt ||
      dtmf != codecs_.upstreamDtmfPt) {
    lg()->info("Genesys leg codec {}/{} -> {}/{}", codec::codecName(codecs_.upstreamCodec), codecs_.upstreamPt,
               codec::codecName(upstream.first), upstream.second);
    codecs_.upstreamCodec = upstream.first;
    codecs_.upstreamPt = upstream.second;
    codecs_.upstreamDtmfPt = dtmf;
    auto c = codecs_;
    onMedia([c](MediaSession& m) { m.startBridge(c); });
  }
  const bool nullHold = g.nullAddress();  // RFC 2543 hold
  genesysSends_ = !nullHold && (g.direction == sdp::Direction::SendRecv || g.direction == sdp::Direction::SendOnly);
  genesysReceives_ = !nullHold && g.port != 0 &&
                     (g.direction == sdp::Direction::SendRecv || g.direction == sdp::Direction::RecvOnly);
  genesysSdp_ = g;
}

bool Session::genesysMediaAllowed(const GenesysMedia& g, std::string_view what) {
  const auto& ctx = deps_.mediaContext;
  MediaDestinationPolicy policy(*config_, ctx.localAddressesOverride.empty() ? media::listLocalAddresses()
                                                                             : ctx.localAddressesOverride);
  auto d = policy.check(g);
  if (d.verdict != MediaDestinationPolicy::Verdict::Refused) return true;
  upstreamMediaRefused_->fetch_add(1, std::memory_order_relaxed);
  lg()->warn("{} refused: media at {}:{} is {}", what, log::escaped(g.address), g.port, d.reason);
  return false;
}

void Session::updateMediaDirections() {
  // Toward the browser: unless the agent holds (its sendonly/inactive offer). Toward Genesys: only what Genesys
  // accepts, and nothing of the agent's while the agent holds. Silence from Genesys is expected in any hold
  // (sendonly without music on hold, inactive, 0.0.0.0, or our own sendonly): no RTP inactivity timeout then.
  const bool toBrowser = !agentHold_;
  const bool toUpstream = genesysReceives_ && !agentHold_;
  const bool expectUpstream = genesysSends_ && genesysReceives_ && !agentHold_;
  lg()->debug("media directions: to browser {}, to Genesys {}, expecting Genesys RTP {}", toBrowser, toUpstream,
              expectUpstream);
  // Genesys's hold (not the agent's): the browser still gets a continuous stream, Genesys's music or silence.
  const bool holdFill = toBrowser && !(genesysSends_ && genesysReceives_);
  onMedia([toBrowser, toUpstream, expectUpstream, holdFill](MediaSession& m) {
    m.setSending(toBrowser, toUpstream);
    m.setUpstreamExpectingMedia(expectUpstream);
    m.setHoldFill(holdFill);
  });
}

std::string Session::onReoffer(std::string_view offer) {
  log::CallScope scope(id_);
  if (state_ != CallState::Connected) return {};
  auto g = readGenesysSdp(std::string(offer));
  if (!g) {
    lg()->warn("Genesys re-INVITE: no usable RTP/AVP audio in the offer");
    return {};
  }
  // Refused (488): the call keeps its media as it was.
  if (!genesysMediaAllowed(*g, "Genesys re-INVITE")) return {};
  // Only a codec Genesys offered, preferring the one in use (a PCMA-only re-offer is answered PCMA).
  auto up = pickAnswerCodec(g->codecs, codecs_.upstreamCodec, codecIds(config_->codecs.upstream));
  if (!up) {
    lg()->warn("Genesys re-INVITE: no codec of codecs.upstream offered");
    return {};
  }
  const auto direction = answerDirection(*g);
  lg()->info("Genesys re-INVITE: media {}:{} ({}), answering {} {}", g->address, g->port, sdp::toString(g->direction),
             codec::codecName(up->first), sdp::toString(direction));
  applyGenesysMedia(*g, *up);
  updateMediaDirections();
  // The browser leg is not re-negotiated: its stream continues (the bridge keeps SSRC, sequence and timestamps).
  // An answer's event list must not exceed the offer's (0-15 offered: 0-15 answered).
  const std::string events = codecs_.upstreamDtmfPt ? answerTelephoneEvents(g->codecs, *codecs_.upstreamDtmfPt)
                                                    : std::string(kTelephoneEventsOffered);
  return nextGenesysSdp({*up}, codecs_.upstreamDtmfPt, direction, events);
}

std::string Session::onOfferRequested() {
  log::CallScope scope(id_);
  if (state_ != CallState::Connected) return {};
  // Retrieve (offerless re-INVITE): a complete offer from our current state, sendrecv unless the agent holds.
  const auto direction = agentHold_ ? sdp::Direction::SendOnly : sdp::Direction::SendRecv;
  lg()->info("Genesys re-INVITE without SDP: offering {} in our 200, the answer comes in the ACK",
             sdp::toString(direction));
  return nextGenesysSdp(upstreamOfferCodecs(), codecs_.upstreamDtmfPt.value_or(kGenesysTelephoneEventPt), direction);
}

void Session::onReinviteAnswer(int status, std::string_view sdp) {
  log::CallScope scope(id_);
  if (state_ != CallState::Connected) return;
  if (status >= 300) {
    lg()->warn("our offer to Genesys got {}: the previous media state stays", status);
    if (agentHoldSignalled_ == agentHold_) {
      // Genesys did not take the agent's hold (or unhold). After glare (491, RFC 3261 §14.1) try again later;
      // other refusals are not retried until the agent changes the hold again.
      agentHoldSignalled_ = !agentHold_;
      if (status == 491) {
        std::weak_ptr<Session> weak = weak_from_this();
        upstreamRetryTimer_ = Timer(deps_.control, kReinviteGlareRetry, [weak, &control = deps_.control] {
          control.post([weak] {
            if (auto self = weak.lock()) {
              log::CallScope callScope(self->id_);
              self->requestUpstreamDirection();
            }
          });
          return false;
        });
      } else {
        agentHoldRefused_ = agentHold_;
      }
    }
    return;
  }
  if (sdp.empty()) {
    lg()->warn("Genesys answered our offer without SDP: the previous media state stays");
  } else if (auto g = readGenesysSdp(std::string(sdp)); !g) {
    lg()->warn("Genesys answer has no usable RTP/AVP audio; the previous media state stays");
  } else if (!genesysMediaAllowed(*g, "Genesys answer to our re-INVITE")) {
    lg()->warn("the previous media state stays");
  } else if (auto up = pickAnswerCodec(g->codecs, codecs_.upstreamCodec, offeredUpstreamIds()); !up) {
    lg()->warn("Genesys answer names no codec we offered; the previous media state stays");
  } else {
    lg()->info("Genesys answer: media {}:{} ({}) {}", g->address, g->port, sdp::toString(g->direction),
               codec::codecName(up->first));
    applyGenesysMedia(*g, *up);
    updateMediaDirections();
  }
  // The agent may have changed the hold while our re-INVITE was pending.
  requestUpstreamDirection();
}

void Session::requestUpstreamDirection() {
  if (!upstream_ || upstreamDone_ || state_ != CallState::Connected || upstream_->reinvitePending()) return;
  if (agentHold_ == agentHoldSignalled_ || agentHoldRefused_ == agentHold_) return;
  agentHoldRefused_.reset();
  upstreamRetryTimer_.cancel();
  const auto direction = agentHold_ ? sdp::Direction::SendOnly : sdp::Direction::SendRecv;
  auto offer = nextGenesysSdp(upstreamOfferCodecs(), codecs_.upstreamDtmfPt.value_or(kGenesysTelephoneEventPt),
                              direction);
  if (!upstream_->reinvite(offer)) return;
  agentHoldSignalled_ = agentHold_;
  lg()->info("agent {}: re-INVITE to Genesys with a={}", agentHold_ ? "hold" : "unhold", sdp::toString(direction));
}

void Session::onBrowserReoffer(const std::string& sdp) {
  if (!dialog_) return;
  if (state_ != CallState::Connected || !media_ || pendingBrowserReoffer_) {
    dialog_->answerReoffer(pendingBrowserReoffer_ ? 491 : 488,
                           pendingBrowserReoffer_ ? "Request Pending" : "Not Acceptable Here");
    return;
  }
  std::string err;
  auto offer = sdp.empty() ? std::nullopt : readBrowserSdp(sdp, &err);
  if (!offer) {
    lg()->warn("browser re-offer refused: {}", sdp.empty() ? "offerless re-INVITE from the browser" : err);
    dialog_->answerReoffer(488, "Not Acceptable Here");
    return;
  }
  // The codec in use when still offered, else as for a new call; always one the browser offered now.
  auto browser = pickCodec(offer->codecs, {codecs_.browserCodec});
  if (!browser)
    browser = pickBrowserCodec(offer->codecs, codecs_.upstreamCodec, config_->codecs.passthrough,
                               codecIds(config_->codecs.browser));
  if (!browser) {
    lg()->warn("browser re-offer refused: no codec of codecs.browser");
    dialog_->answerReoffer(488, "Not Acceptable Here");
    return;
  }
  lg()->info("browser re-offer: a={}{}", sdp::toString(offer->transport.direction),
             browserSdp_ && offer->transport.iceUfrag != browserSdp_->transport.iceUfrag ? ", ICE restart" : "");
  pendingBrowserCodec_ = *browser;
  auto transport = offer->transport;
  pendingBrowserReoffer_ = std::move(offer);
  onMedia([transport](MediaSession& m) { m.applyBrowserReoffer(transport); });
}

void Session::onBrowserReofferLocal(const std::optional<sdp::TransportParams>& local, const std::string& error) {
  if (!pendingBrowserReoffer_) return;
  auto offer = std::move(*pendingBrowserReoffer_);
  pendingBrowserReoffer_.reset();
  if (!dialog_ || browserDone_) return;
  if (!local) {
    lg()->warn("browser re-offer refused by the media leg: {}", error);
    dialog_->answerReoffer(488, "Not Acceptable Here");
    return;
  }
  // Mirrored direction, same DTLS role (BrowserLeg keeps it), new ICE credentials after an ICE restart.
  const auto offered = offer.transport.direction;
  const auto [codec, pt] = pendingBrowserCodec_;
  auto answer = browserAnswer(offer, codec, pt, *local, sdpSessionId_, ++browserSdpVersion_, mirrorDirection(offered));
  lg()->debug("answer to the browser's re-offer:\n{}", answer);
  dialog_->answerReoffer(200, "OK", answer);
  if (direction_ == Direction::FromAgent) browserAnswerSdp_ = answer;
  localTransport_ = *local;
  auto dtmf = pickTelephoneEvent(offer.codecs, codec::rtpClockRate(codec));
  if (codec != codecs_.browserCodec || pt != codecs_.browserPt || dtmf != codecs_.browserDtmfPt) {
    codecs_.browserCodec = codec;
    codecs_.browserPt = pt;
    codecs_.browserDtmfPt = dtmf;
    auto c = codecs_;
    onMedia([c](MediaSession& m) { m.startBridge(c); });
  }
  browserSdp_ = std::move(offer);
  const bool hold = offered == sdp::Direction::SendOnly || offered == sdp::Direction::Inactive;
  if (hold != agentHold_) {
    lg()->info("agent {} the call", hold ? "holds" : "resumes");
    agentHoldRefused_.reset();  // a new hold (or unhold) is offered to Genesys again
  }
  agentHold_ = hold;
  updateMediaDirections();
  // An ICE restart or a refresh does not reach Genesys; only a change of the agent's hold does.
  requestUpstreamDirection();
}

void Session::onConfirmed(std::string_view ackSdp) {
  log::CallScope scope(id_);
  if (!upstream_ || !upstream_->lateOffer()) {
    lg()->info("Genesys confirmed the call (ACK)");
    return;
  }
  if (state_ != CallState::Connected) return;
  if (ackSdp.empty()) {
    // RFC 3725 flows where the controller ACKs first and sends the far end's SDP in a re-INVITE (onReoffer).
    lg()->info("Genesys confirmed the call with an ACK without SDP: waiting for its re-INVITE with the answer");
    return;
  }
  auto g = readGenesysSdp(std::string(ackSdp));
  if (g && !genesysMediaAllowed(*g, "Genesys answer in the ACK")) {
    rejectCode_ = 488;
    apply(CallEvent::MediaFailed);
    return;
  }
  auto up = g ? pickAnswerCodec(g->codecs, codecs_.upstreamCodec, offeredUpstreamIds()) : std::nullopt;
  if (!up) {
    lg()->warn("Genesys answer in the ACK unusable ({}); ending the call",
               g ? "no codec we offered" : "no RTP/AVP audio");
    rejectCode_ = 488;
    apply(CallEvent::MediaFailed);
    return;
  }
  lg()->info("Genesys answer in the ACK: media {}:{} ({}) {}", g->address, g->port, sdp::toString(g->direction),
             codec::codecName(up->first));
  applyGenesysMedia(*g, *up);
  updateMediaDirections();
}

void Session::onTerminated(int status, std::string_view reason) {
  log::CallScope scope(id_);
  noteUpstreamIds();
  upstreamDone_ = true;
  lg()->info("Genesys leg ended: {} {}", status, reason);
  if (transferCall_ && state_ == CallState::Connected) {
    // Genesys may release the transferred dialog before the new one answers: the call lives on if that one does.
    lg()->info("the Genesys dialog ended during its transfer: the call continues if the new dialog answers");
    upstreamEndedDuringTransfer_ = true;
    return;
  }
  if (direction_ == Direction::FromAgent) {
    apply(state_ == CallState::Connected ? CallEvent::CalleeBye : CallEvent::CalleeFailed,
          status >= 300 ? mapFailureCode(static_cast<uint16_t>(status)) : 480);
  } else {
    apply(state_ == CallState::Connected ? CallEvent::CallerBye : CallEvent::CallerCancel);
  }
  closeIfDone();
}

void Session::onBrowserResponse(int status, const std::string& reason, const std::string& sdp) {
  if (status < 200) {
    apply(CallEvent::CalleeProvisional);
    if (pendingRemoteTalk_ && dialog_ && dialog_->sendRequest("INFO", kRemoteControlContentType, "talk\r\n")) {
      pendingRemoteTalk_ = false;
      lg()->info("Genesys remote control 'talk': relayed to the ringing browser as INFO");
    }
    return;
  }
  if (status >= 300) {
    lg()->info("agent's browser answered {} {}", status, reason);
    apply(CallEvent::CalleeFailed, mapFailureCode(static_cast<uint16_t>(status)));
    return;
  }
  if (browserOffers_) return onBrowserOfferIn2xx(sdp);
  std::string err;
  browserSdp_ = readBrowserSdp(sdp, &err);
  std::optional<std::pair<codec::CodecId, uint8_t>> browser;
  if (browserSdp_ && !browserSdp_->codecs.audio.empty()) browser = browserSdp_->codecs.audio.front();
  if (!browser) {
    lg()->warn("browser answer unusable: {}", err.empty() ? "no codec" : err);
    rejectCode_ = 488;
    apply(CallEvent::MediaFailed);
    return;
  }
  if (!genesysSdp_) return answerLateOffer(*browser);
  // Genesys leg: the browser's G.711 law when Genesys offered it and passthrough is allowed, else our preference.
  std::optional<std::pair<codec::CodecId, uint8_t>> up;
  if (config_->codecs.passthrough && browser->first != codec::CodecId::Opus)
    up = pickCodec(genesysSdp_->codecs, {browser->first});
  if (!up) up = pickCodec(genesysSdp_->codecs, codecIds(config_->codecs.upstream));
  codecs_.browserCodec = browser->first;
  codecs_.browserPt = browser->second;
  codecs_.upstreamCodec = up->first;
  codecs_.upstreamPt = up->second;
  codecs_.browserDtmfPt = pickTelephoneEvent(browserSdp_->codecs, codec::rtpClockRate(browser->first));
  codecs_.upstreamDtmfPt = pickTelephoneEvent(genesysSdp_->codecs, 8000);
  genesysAnswerSdp_ = genesysSdp(rtpAddress_, rtpPort_, {*up}, codecs_.upstreamDtmfPt, sdpSessionId_, 1,
                                 sdp::Direction::SendRecv,  // the event list must not exceed the offer's
                                 codecs_.upstreamDtmfPt
                                     ? answerTelephoneEvents(genesysSdp_->codecs, *codecs_.upstreamDtmfPt)
                                     : std::string());
  lastGenesysSdp_ = genesysAnswerSdp_;
  auto transport = browserSdp_->transport;
  onMedia([transport](MediaSession& m) {
    std::string e;
    if (!m.setBrowserRemote(transport, &e)) lg()->warn("browser transport refused: {}", e);
  });
  startBridge();
  apply(CallEvent::CalleeAnswered);
}

void Session::answerLateOffer(std::pair<codec::CodecId, uint8_t> browser) {
  // INVITE without SDP: our 200 offers codecs.upstream (the browser's G.711 law first when passthrough is allowed)
  // with telephone-event; the bridge starts with Genesys's answer (onConfirmed, or onReoffer after an empty ACK).
  std::vector<std::pair<codec::CodecId, uint8_t>> offer;
  auto add = [&offer](codec::CodecId id) {
    if (id == codec::CodecId::Opus) return;
    for (const auto& [have, pt] : offer)
      if (have == id) return;
    offer.emplace_back(id, id == codec::CodecId::Pcmu ? 0 : 8);
  };
  if (config_->codecs.passthrough) add(browser.first);
  for (auto id : codecIds(config_->codecs.upstream)) add(id);
  if (offer.empty()) {
    lg()->warn("no G.711 codec in codecs.upstream to offer Genesys");
    rejectCode_ = 488;
    apply(CallEvent::MediaFailed);
    return;
  }
  codecs_.browserCodec = browser.first;
  codecs_.browserPt = browser.second;
  codecs_.browserDtmfPt = pickTelephoneEvent(browserSdp_->codecs, codec::rtpClockRate(browser.first));
  codecs_.upstreamCodec = offer.front().first;  // until Genesys answers
  codecs_.upstreamPt = offer.front().second;
  codecs_.upstreamDtmfPt = kGenesysTelephoneEventPt;
  genesysAnswerSdp_ = nextGenesysSdp(offer, kGenesysTelephoneEventPt, sdp::Direction::SendRecv);
  if (!browserOffers_) {  // an answering browser leg got the browser's transport when it opened
    auto transport = browserSdp_->transport;
    onMedia([transport](MediaSession& m) {
      std::string e;
      if (!m.setBrowserRemote(transport, &e)) lg()->warn("browser transport refused: {}", e);
    });
  }
  apply(CallEvent::CalleeAnswered);
}

void Session::terminate(const std::string& why) {
  log::CallScope scope(id_);
  lg()->info("ending the call: {}", why);
  endedByGateway_ = true;
  rejectCode_ = 503;
  apply(CallEvent::MediaFailed);
}

void Session::releaseMedia() {
  if (!media_) return;
  auto slot = std::move(media_);
  media_.reset();
  // Summary and destruction on the worker that owns the media objects.
  std::string id = id_;
  Metrics* metrics = answered_ ? deps_.mediaContext.metrics : nullptr;  // quality of answered calls only
  deps_.workers.loop(worker_).post([slot, id, metrics] {
    if (!*slot) return;
    log::CallScope scope(id);
    lg()->info("media summary: {}", (*slot)->summary());
    if (metrics != nullptr) (*slot)->recordQuality(*metrics);
    slot->reset();
  });
  deps_.workers.release(worker_);
}

void Session::closeIfDone() {
  const bool over = state_ == CallState::Closed || state_ == CallState::Terminating;
  if (!over) return;
  bool browserOver = !dialog_ || browserDone_ || state_ == CallState::Closed;
  bool upstreamOver = !upstream_ || upstreamDone_ || state_ == CallState::Closed;
  if (!(browserOver && upstreamOver)) return;
  if (state_ == CallState::Terminating) state_ = CallState::Closed;
  terminatingTimer_.cancel();
  browserByeGraceTimer_.cancel();
  upstreamRetryTimer_.cancel();
  if (transferCall_) {
    transferCall_->setObserver(nullptr);
    transferCall_->hangup();
    transferCall_.reset();
  }
  endReplacedUpstream("the call ended");
  releaseMedia();
  if (upstream_) upstream_->setObserver(nullptr);
  if (dialog_) dialog_->setEvents({});
  if (closed_) {
    auto cb = std::move(closed_);
    closed_ = nullptr;
    // The manager drops its reference: destroy after this call stack unwinds.
    deps_.control.post([cb, keep = shared_from_this()] { cb(*keep); });
  }
}

// NOTIFY Event: talk / hold from the agent desktop (already answered 200 by the SIP layer). Stock JsSIP answers an
// in-dialog NOTIFY 489 (403 while ringing) and SIP.js drops it, so it is not relayed as NOTIFY: the browser app
// gets an INFO (JsSIP: newInfo, accepted while ringing too) and answers the call on "talk" (TAnswerCall), or shows
// hold/retrieve. The media side of hold follows in Genesys's re-INVITE (onReoffer). See docs/signaling.md.
void Session::onRemoteControl(std::string_view event) {
  log::CallScope scope(id_);
  const bool sent =
      dialog_ && dialog_->sendRequest("INFO", kRemoteControlContentType, std::string(event) + "\r\n");
  // SIP Server may answer for the agent as soon as it sees our 180, which goes out before the browser's INVITE
  // (its media is still opening) or its 180: a "talk" then waits for the browser's early dialog.
  const bool ringing = state_ == CallState::Routing || state_ == CallState::Early;
  if (!sent && ringing && event == "talk" && direction_ == Direction::ToAgent) {
    pendingRemoteTalk_ = true;
    lg()->info("Genesys remote control 'talk': relayed once the browser rings");
    return;
  }
  lg()->info("Genesys remote control '{}': {}", event,
             sent ? "relayed to the browser as INFO" : "not relayed (no browser dialog)");
}

}  // namespace rtcgate::session

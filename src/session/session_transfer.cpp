// SPDX-License-Identifier: Apache-2.0
// Transfers asked by Genesys SIP Server (REFER on the Genesys leg, rtcgate as transferee, interop notes §1.7): a new
// Genesys dialog, placed with our own RTP offer, is spliced under the same browser leg once it answers. Only the
// Genesys side of the media re-anchors (address, port, SSRC, codec); the browser's stream continues untouched.
#include "rtcgate/core/log.h"
#include "rtcgate/session/media_session.h"
#include "rtcgate/session/session.h"

namespace rtcgate::session {
namespace {

spdlog::logger* lg() { return log::get(log::Component::Session); }

// How long the replaced Genesys dialog may outlive a successful transfer: SIP Server normally releases it with a
// BYE right after the final NOTIFY; if it has not, rtcgate ends it itself.
constexpr std::chrono::milliseconds kReplacedDialogGrace{4000};

}  // namespace

bool Session::onTransferRequested(const sip::TransferRequest& request) {
  log::CallScope scope(id_);
  if (state_ != CallState::Connected || !upstream_ || upstreamDone_ || !localTransport_ || transferCall_) {
    lg()->warn("transfer to {} refused: the call is not connected", log::escaped(request.target));
    return false;
  }
  // Our own offer, as in any re-offer of this call: the codec in use first, the agent's hold kept.
  const auto direction = agentHold_ ? sdp::Direction::SendOnly : sdp::Direction::SendRecv;
  auto offer = nextGenesysSdp(upstreamOfferCodecs(), codecs_.upstreamDtmfPt.value_or(kGenesysTelephoneEventPt),
                              direction);
  if (!transferLeg_) transferLeg_ = std::make_unique<TransferLeg>(*this);
  transferCall_ = deps_.sip.placeTransfer(*upstream_, offer, transferLeg_.get());
  if (!transferCall_) {
    lg()->warn("transfer to {}: no INVITE could be sent (no upstream server)", log::escaped(request.target));
    return false;
  }
  transferCall_->setLogId(id_);
  upstreamEndedDuringTransfer_ = false;
  lg()->info("transfer by Genesys to {}{}: new Genesys dialog offered, the browser leg stays",
             log::escaped(request.target), request.replaces.empty() ? "" : " (Replaces)");
  return true;
}

void Session::onTransferAnswered(std::string_view sdp) {
  log::CallScope scope(id_);
  auto call = std::move(transferCall_);
  transferCall_.reset();
  if (!call) return;
  auto g = readGenesysSdp(std::string(sdp));
  auto up = g ? pickAnswerCodec(g->codecs, codecs_.upstreamCodec, offeredUpstreamIds()) : std::nullopt;
  if (up && !genesysMediaAllowed(*g, "transfer: the new Genesys dialog's answer")) up.reset();
  if (state_ != CallState::Connected || !up) {
    lg()->warn("transfer: the new Genesys dialog answered {}; ending it",
               state_ != CallState::Connected ? "after the call ended" : "without usable audio");
    call->setObserver(nullptr);
    call->hangup();
    if (upstreamEndedDuringTransfer_ && state_ == CallState::Connected) {
      upstreamEndedDuringTransfer_ = false;
      apply(direction_ == Direction::FromAgent ? CallEvent::CalleeBye : CallEvent::CallerBye);
      closeIfDone();
    }
    return;
  }
  lg()->info("transfer done: Genesys media now at {}:{} ({}) {}; the browser leg is unchanged", g->address, g->port,
             sdp::toString(g->direction), codec::codecName(up->first));
  spliceUpstream(call, *g, *up);
  requestUpstreamDirection();
}

void Session::spliceUpstream(std::shared_ptr<sip::UpstreamCall> call, const GenesysMedia& g,
                             std::pair<codec::CodecId, uint8_t> up) {
  // The new dialog is the Genesys leg from now on, with its own offer/answer state.
  auto old = std::exchange(upstream_, std::move(call));
  upstream_->setObserver(this);
  upstream_->setLogId(id_);
  noteUpstreamIds();
  if (old) old->setObserver(nullptr);
  if (old && old->state() != sip::CallState::Terminated) replacedUpstream_ = old;
  upstreamDone_ = false;
  upstreamEndedDuringTransfer_ = false;
  agentHoldSignalled_ = agentHold_;  // our offer or answer carries the agent's hold state
  agentHoldRefused_.reset();
  upstreamRetryTimer_.cancel();
  // A new party: always re-latch (same address and port or not) and take its codec.
  genesysSdp_.reset();
  applyGenesysMedia(g, up);
  updateMediaDirections();
  deps_.mediaContext.metrics
      ->counter("rtcgate_calls_transferred_total",
                "Calls whose Genesys leg was replaced by a new dialog (REFER, or INVITE with Replaces)")
      .fetch_add(1, std::memory_order_relaxed);
  if (replacedUpstream_) {
    std::weak_ptr<Session> weak = weak_from_this();
    replacedByeTimer_ = Timer(deps_.control, kReplacedDialogGrace, [weak, &control = deps_.control] {
      // Posted: ending the dialog may end the timer's owner's state, which must not happen inside its callback.
      control.post([weak] {
        if (auto self = weak.lock()) {
          log::CallScope callScope(self->id_);
          self->endReplacedUpstream("no BYE from Genesys after the transfer");
        }
      });
      return false;
    });
  }
}

// RFC 3891: SIP Server's INVITE with Replaces naming this call's Genesys dialog (e.g. completing a consultation).
// Answered from the Genesys leg's state as a re-offer would be; the replaced dialog is ended with BYE at once.
bool Session::onReplacedBy(std::shared_ptr<sip::UpstreamCall> call) {
  log::CallScope scope(id_);
  if (state_ != CallState::Connected || transferCall_ || call->lateOffer()) {
    lg()->warn("INVITE with Replaces refused: {}", call->lateOffer() ? "it has no offer" : "the call is not connected");
    return false;
  }
  auto g = readGenesysSdp(call->remoteSdp());
  auto up = g ? pickAnswerCodec(g->codecs, codecs_.upstreamCodec, codecIds(config_->codecs.upstream)) : std::nullopt;
  if (up && !genesysMediaAllowed(*g, "INVITE with Replaces")) return false;
  if (!up) {
    lg()->warn("INVITE with Replaces refused: no usable audio or no codec of codecs.upstream");
    return false;
  }
  lg()->info("INVITE with Replaces: Genesys media now at {}:{} ({}) {}; the browser leg is unchanged", g->address,
             g->port, sdp::toString(g->direction), codec::codecName(up->first));
  auto newCall = call;
  spliceUpstream(std::move(call), *g, *up);
  const std::string events = codecs_.upstreamDtmfPt ? answerTelephoneEvents(g->codecs, *codecs_.upstreamDtmfPt)
                                                    : std::string(kTelephoneEventsOffered);
  newCall->answer(nextGenesysSdp({*up}, codecs_.upstreamDtmfPt, answerDirection(*g), events));
  endReplacedUpstream("replaced by Genesys's INVITE with Replaces");
  return true;
}

void Session::onTransferEnded(int status, std::string_view reason) {
  log::CallScope scope(id_);
  if (!transferCall_) return;
  transferCall_->setObserver(nullptr);
  transferCall_.reset();
  deps_.mediaContext.metrics
      ->counter("rtcgate_calls_transfer_failed_total", "Transfers by REFER whose new Genesys dialog failed")
      .fetch_add(1, std::memory_order_relaxed);
  if (!upstreamEndedDuringTransfer_) {
    lg()->warn("transfer failed ({} {}): the call continues on its Genesys dialog", status, reason);
    return;
  }
  upstreamEndedDuringTransfer_ = false;
  lg()->warn("transfer failed ({} {}) and the old Genesys dialog is gone: ending the call", status, reason);
  apply(direction_ == Direction::FromAgent ? CallEvent::CalleeBye : CallEvent::CallerBye);
  closeIfDone();
}

void Session::endReplacedUpstream(const char* why) {
  replacedByeTimer_.cancel();
  auto old = std::move(replacedUpstream_);
  replacedUpstream_.reset();
  if (!old || old->state() == sip::CallState::Terminated) return;
  lg()->info("ending the Genesys dialog replaced by the transfer: {}", why);
  old->hangup();
}

}  // namespace rtcgate::session

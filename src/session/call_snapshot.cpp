// SPDX-License-Identifier: Apache-2.0
// The admin API's view of a call (issue 13): Session::snapshot on the control loop, MediaSession::fillSnapshot on
// the call's media worker. Only counters the packet path keeps anyway are read, on their own thread: no locks.
#include "rtcgate/session/call_snapshot.h"

#include "rtcgate/codec/audio_codec.h"
#include "rtcgate/media/rtp/call_quality.h"
#include "rtcgate/session/media_session.h"
#include "rtcgate/session/session.h"

namespace rtcgate::session {
namespace {

void finishLeg(LegSnapshot& leg) {
  const double expected = static_cast<double>(leg.packetsReceived) + static_cast<double>(std::max<int64_t>(leg.packetsLost, 0));
  const double loss = expected > 0 ? static_cast<double>(std::max<int64_t>(leg.packetsLost, 0)) / expected : 0;
  leg.lossPercent = loss * 100.0;
  leg.mos = media::estimateMos({loss, leg.jitterMs, leg.rttMs.value_or(0)});
}

}  // namespace

void MediaSession::fillSnapshot(CallSnapshot& out) const {
  out.mediaSampled = true;
  if (browser_) {
    const auto b = browser_->stats();
    out.iceLocalType = b.iceLocalType;
    out.iceLocalAddress = b.iceLocalAddress;
    out.iceRemoteType = b.iceRemoteType;
    out.iceRemoteAddress = b.iceRemoteAddress;
    out.dtlsRole = b.dtlsRole;
    out.srtpProfile = b.srtpProfile;
    out.browser.packetsSent = b.rtpPacketsSent;
    out.browser.packetsReceived = b.rtpPacketsReceived;
    out.browser.packetsLost = b.packetsLost;
    out.browser.jitterMs = b.jitterMs;
    out.browser.rttMs = b.rttMs;
  }
  if (rtp_) {
    const auto r = rtp_->stats();
    out.upstream.packetsSent = r.packetsSent;
    out.upstream.packetsReceived = r.packetsReceived;
    out.upstream.packetsLost = r.packetsLost;
    // G.711 and telephone-event toward Genesys run at 8 kHz (RFC 3551 4.5.14).
    out.upstream.jitterMs = r.jitter / 8.0;
    out.upstream.rttMs = r.rttMs;
  }
  if (bridge_) {
    const auto& c = bridge_->codecs();
    out.browser.codec = std::string(codec::codecName(c.browserCodec));
    out.upstream.codec = std::string(codec::codecName(c.upstreamCodec));
    out.passthrough = c.passthrough();
  }
  finishLeg(out.browser);
  finishLeg(out.upstream);
}

void Session::snapshot(std::function<void(CallSnapshot)> done) const {
  CallSnapshot s;
  s.id = id_;
  if (dialog_) s.browserCallId = dialog_->callId();
  if (upstream_) s.upstreamCallId = upstream_->callId();
  if (registration_) s.agent = registration_->user;
  else if (dialog_) s.agent = dialog_->agent();
  s.dn = dn_;
  s.direction = direction_ == Direction::FromAgent ? "from_agent" : "to_agent";
  s.state = std::string(stateName(state_));
  s.target = target_;
  s.durationS = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  finishLeg(s.browser);
  finishLeg(s.upstream);
  auto& control = deps_.control;
  auto shared = std::make_shared<std::pair<CallSnapshot, std::function<void(CallSnapshot)>>>(std::move(s), std::move(done));
  // Always asynchronous, so callers see one order whether or not the call has media.
  if (!media_ || !deps_.workers.loop(worker_).post([slot = media_, shared, &control] {
        if (*slot) (*slot)->fillSnapshot(shared->first);
        control.post([shared] { shared->second(std::move(shared->first)); });
      }))
    control.post([shared] { shared->second(std::move(shared->first)); });
}

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
#include "browser_agent.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include <random>

#include "rtcgate/session/codec_negotiation.h"
#include "rtcgate/session/sdp_builder.h"
#include "sip_text.h"

namespace rtcgate::load {

using signaling::SipMessage;

namespace {
constexpr uint32_t kRegisterExpiresS = 600;  // as JsSIP; rtcgate may grant less (security.register_max_expires_s)
constexpr const char* kAllow = "Allow: INVITE,ACK,CANCEL,BYE,OPTIONS,INFO,UPDATE";

uint64_t randomId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng() >> 12;
}
}  // namespace

BrowserAgent::BrowserAgent(LoadEnv& env, int index)
    : env_(env),
      index_(index),
      user_(expandPattern(env.options.agentPattern, index)),
      dn_(expandPattern(env.options.dnPattern, index)),
      aor_("sip:" + user_ + "@" + env.options.sipDomain) {
  // JsSIP's shape: a random .invalid Via host and Contact (RFC 7118 5.2), the connection is the route back.
  viaHost_ = randomToken(12) + ".invalid";
  contact_ = "<sip:" + randomToken(8) + "@" + viaHost_ + ";transport=ws;ob>";
}

BrowserAgent::~BrowserAgent() {
  refresh_.cancel();
  if (conn_) conn_->close();
}

std::string BrowserAgent::via(const std::string& branch) const {
  return "Via: SIP/2.0/WSS " + viaHost_ + ";branch=" + branch;
}

void BrowserAgent::connect() {
  WssClient::Handler h;
  h.open = [this] { sendRegister({}); };
  h.message = [this](std::string text) { onMessage(text); };
  h.closed = [this](const std::string& why) {
    conn_.reset();
    refresh_.cancel();
    if (!registered_) env_.hooks.agentRegistered(index_, false, "wss " + why);
    registered_ = false;
    if (LoadCall* call = env_.hooks.callOfAgent(index_); call != nullptr && !call->finished)
      env_.hooks.fail(*call, "wss_closed");
  };
  conn_ = env_.wss.connect(env_.options.wss, env_.options.origin, std::move(h));
  if (!conn_) env_.hooks.agentRegistered(index_, false, "wss connect refused");
}

void BrowserAgent::sendRegister(const std::string& authorization) {
  if (regCallId_.empty()) {
    regCallId_ = randomToken(22);
    regTag_ = randomToken(10);
  }
  std::vector<std::string> h = {via(newBranch()),
                                "Max-Forwards: 70",
                                "To: <" + aor_ + ">",
                                "From: <" + aor_ + ">;tag=" + regTag_,
                                "Call-ID: " + regCallId_,
                                "CSeq: " + std::to_string(regCseq_++) + " REGISTER",
                                "Contact: " + contact_ + ";+sip.ice;expires=" + std::to_string(kRegisterExpiresS),
                                "Expires: " + std::to_string(kRegisterExpiresS),
                                kAllow,
                                "Supported: path,outbound",
                                "User-Agent: rtcgate-load"};
  if (!authorization.empty()) h.push_back(authorization);
  conn_->send(formatRequest("REGISTER", "sip:" + env_.options.sipDomain, h));
}

void BrowserAgent::registrationFailed(const std::string& reason) {
  // Before the run: the setup fails. A refresh that fails is counted by reason and the agent is unregistered.
  if (!registered_) return env_.hooks.agentRegistered(index_, false, reason);
  registered_ = false;
  refresh_.cancel();
  env_.hooks.registrationRefreshed(index_, false, reason);
}

void BrowserAgent::onMessage(const std::string& text) {
  auto parsed = SipMessage::parse(text);
  if (parsed.status != SipMessage::ParseStatus::Ok) return;
  if (parsed.message->isResponse()) onResponse(*parsed.message);
  else onRequest(std::move(parsed.message));
}

void BrowserAgent::onResponse(SipMessage& msg) {
  const int code = msg.status();
  const std::string method = msg.method();
  if (method == "REGISTER") {
    if (code == 401 || code == 407) {
      auto challenge = pickChallenge(msg);
      if (!challenge || regAuthSent_) return registrationFailed("register_" + std::to_string(code));
      regAuthSent_ = true;
      sendRegister(authorizationHeader(*challenge, user_, env_.options.password, "REGISTER",
                                       "sip:" + env_.options.sipDomain, ++nonceCount_));
    } else if (code >= 200 && code < 300) {
      const bool first = !registered_;
      registered_ = true;
      const uint32_t expires = grantedExpiresS(msg, uriOf(contact_), kRegisterExpiresS);
      if (expires == 0) return registrationFailed("register_contact_missing");
      // RFC 3261 10.2.4: refresh before the binding expires; a new transaction, digest again when challenged.
      refresh_ = Timer(env_.loop, std::chrono::seconds(refreshAfterS(expires)), [this] {
        regAuthSent_ = false;
        if (conn_) sendRegister({});
        return false;
      });
      if (first) env_.hooks.agentRegistered(index_, true, {});
      else env_.hooks.registrationRefreshed(index_, true, {});
    } else if (code >= 300) {
      registrationFailed("register_" + std::to_string(code));
    }
    return;
  }
  LoadCall* call = env_.hooks.callOfAgent(index_);
  if (call == nullptr || call->browser.callId != msg.callId()) return;
  if (method == "INVITE") {
    if (code < 200) return;
    if (code == 401 || code == 407) {
      sendAck(*call, msg.cseq(), inviteBranch_);
      auto challenge = pickChallenge(msg);
      if (!challenge || inviteAuthSent_) return env_.hooks.fail(*call, "sip_" + std::to_string(code));
      inviteAuthSent_ = true;
      sendInvite(*call, authorizationHeader(*challenge, user_, env_.options.password, "INVITE",
                                            call->browser.remoteUri, ++nonceCount_));
      return;
    }
    if (code >= 300) {
      sendAck(*call, msg.cseq(), inviteBranch_);  // RFC 3261 17.1.1.3: the ACK of a non-2xx is hop by hop
      return env_.hooks.fail(*call, "sip_" + std::to_string(code));
    }
    if (call->browserConfirmed) return sendAck(*call, msg.cseq(), newBranch());  // a retransmitted 200
    call->browser.remoteTag = msg.toTag();
    call->browser.routeSet = routeSetOf(msg, true);
    call->browser.remoteTarget = contactUriOf(msg);
    if (call->browser.remoteTarget.empty()) call->browser.remoteTarget = call->browser.remoteUri;
    sendAck(*call, msg.cseq(), newBranch());
    std::string error;
    auto answer = session::readBrowserSdp(msg.body(), &error);
    if (!answer || answer->codecs.audio.empty()) return env_.hooks.fail(*call, "bad_answer_sdp");
    const auto [codecId, pt] = answer->codecs.audio.front();
    call->browserPt = pt;
    call->browserTone = &env_.toneOf(codecId);
    call->leg->setClockRate(pt, codec::rtpClockRate(codecId));
    if (!call->leg->setRemoteDescription(answer->transport, &error))
      return env_.hooks.fail(*call, "answer_refused_by_leg");
    call->browserConfirmed = true;
    env_.hooks.progress(*call);
  } else if (method == "BYE" && code >= 200) {
    env_.hooks.hungUp(*call);
  }
}

void BrowserAgent::onRequest(std::unique_ptr<SipMessage> msg) {
  const std::string method = msg->method();
  LoadCall* call = env_.hooks.callOfAgent(index_);
  const bool ours = call != nullptr && !call->finished && call->browser.callId == msg->callId();
  if (method == "INVITE") {
    if (msg->toTag().empty()) return onIncomingInvite(std::move(msg), call);
    if (!ours) return reply(*msg, 481, "Call/Transaction Does Not Exist");
    return reply(*msg, 200, "OK", {}, {"Contact: " + contact_, kAllow}, answerSdp_);
  }
  if (method == "ACK") {
    if (ours && !call->outbound && !call->browserConfirmed) {
      call->browserConfirmed = true;
      env_.hooks.progress(*call);
    }
    return;
  }
  if (method == "BYE") {
    reply(*msg, 200, "OK");
    // Inbound calls end by Genesys's BYE, which rtcgate passes on; any other BYE is the gateway giving up.
    if (ours && !call->hangingUp && call->outbound) env_.hooks.fail(*call, "bye_from_gateway");
    if (ours && !call->outbound) closeLeg(*call);
    return;
  }
  if (method == "CANCEL") {
    reply(*msg, 200, "OK");
    if (ours && !call->established) env_.hooks.fail(*call, "cancelled_by_gateway");
    return;
  }
  reply(*msg, 200, "OK");  // OPTIONS, INFO, UPDATE, NOTIFY
}

void BrowserAgent::onIncomingInvite(std::unique_ptr<SipMessage> msg, LoadCall* call) {
  if (call == nullptr || call->outbound || call->leg || !call->browser.callId.empty())
    return reply(*msg, 486, "Busy Here", randomToken(10));
  std::string error;
  auto offer = session::readBrowserSdp(msg->body(), &error);
  std::vector<codec::CodecId> pref = {codec::CodecId::Pcmu};
  if (env_.options.opus) pref = {codec::CodecId::Opus, codec::CodecId::Pcmu};
  auto chosen = offer ? session::pickCodec(offer->codecs, pref) : std::nullopt;
  if (!chosen) {
    reply(*msg, 488, "Not Acceptable Here", randomToken(10));
    return env_.hooks.fail(*call, "no_common_codec");
  }
  call->browser.callId = msg->callId();
  call->browser.remoteTag = msg->fromTag();
  call->browser.localTag = randomToken(10);
  call->browser.remoteTarget = contactUriOf(*msg);
  call->browser.routeSet = routeSetOf(*msg, false);
  sip_t* sip = msg->sip();
  call->browser.remoteUri = uriOf(SipMessage::value(reinterpret_cast<const sip_header_t*>(sip->sip_from)));
  call->browser.localUri = uriOf(SipMessage::value(reinterpret_cast<const sip_header_t*>(sip->sip_to)));
  call->browser.cseq = 1;
  call->browserPt = chosen->second;
  call->browserTone = &env_.toneOf(chosen->first);
  reply(*msg, 180, "Ringing", call->browser.localTag, {"Contact: " + contact_});
  createLeg(*call, media::LegRole::Answerer);
  call->leg->setClockRate(chosen->second, codec::rtpClockRate(chosen->first));
  if (!call->leg->setRemoteDescription(offer->transport, &error)) {
    reply(*msg, 488, "Not Acceptable Here", call->browser.localTag);
    return env_.hooks.fail(*call, "offer_refused_by_leg");
  }
  pendingInvite_ = std::move(msg);
  // The 200 goes out with the leg's own transport once it has gathered (localDescription).
  auto offerMedia = std::make_shared<session::BrowserMedia>(std::move(*offer));
  const auto [codecId, pt] = *chosen;
  answerSdp_.clear();
  pendingAnswer_ = [this, call, offerMedia, codecId, pt](const sdp::TransportParams& local) {
    answerSdp_ = session::browserAnswer(*offerMedia, codecId, pt, local, randomId(), 1);
    if (!pendingInvite_) return;
    reply(*pendingInvite_, 200, "OK", call->browser.localTag, {"Contact: " + contact_, kAllow}, answerSdp_);
    pendingInvite_.reset();
  };
  call->leg->start();
}

void BrowserAgent::createLeg(LoadCall& call, media::LegRole role) {
  media::BrowserLeg::Callbacks cb;
  LoadCall* c = &call;
  cb.localDescription = [this, c](const sdp::TransportParams& local) {
    if (c->outbound) {
      if (c->browser.callId.empty()) {
        std::vector<codec::CodecId> pref = {codec::CodecId::Pcmu};
        if (env_.options.opus) pref = {codec::CodecId::Opus, codec::CodecId::Pcmu};
        inviteOffer_ = session::browserOffer(pref, local, randomId(), 1);
        c->browser.callId = randomToken(22);
        c->browser.localTag = randomToken(10);
        c->browser.localUri = aor_;
        c->browser.remoteUri = "sip:" + expandPattern(env_.options.dialPattern, index_) + "@" + env_.options.sipDomain;
        c->browser.cseq = 0;
        inviteAuthSent_ = false;
        c->attemptAt = Clock::now();
        sendInvite(*c, {});
      }
    } else if (pendingAnswer_) {
      auto answer = std::move(pendingAnswer_);
      pendingAnswer_ = nullptr;
      answer(local);
    }
  };
  cb.connected = [this, c] {
    c->legConnected = true;
    env_.hooks.progress(*c);
  };
  cb.failed = [this, c](const std::string&) { env_.hooks.fail(*c, "ice_dtls_failed"); };
  cb.closedByPeer = [] {};
  cb.rtp = [this, c](const media::RtpHeader& h, const uint8_t*, size_t) {
    if (!c->mediaRunning || !c->toBrowserReceiver) {
      ++c->unexpectedPackets;
      return;
    }
    c->toBrowserReceiver->onPacket(h, Clock::now(), *c->toBrowserSender, env_.hooks.toBrowser());
  };
  cb.rtcp = [](const uint8_t*, size_t) {};
  call.leg = std::make_unique<media::BrowserLeg>(env_.loop, user_ + "-" + std::to_string(index_), role, env_.media,
                                                 std::move(cb));
}

void BrowserAgent::startCall(LoadCall& call) {
  call.outbound = true;
  if (!conn_ || !registered_) return env_.hooks.fail(call, "agent_not_registered");
  createLeg(call, media::LegRole::Offerer);
  call.leg->start();
}

void BrowserAgent::sendInvite(LoadCall& call, const std::string& authorization) {
  inviteBranch_ = newBranch();
  inviteCseq_ = ++call.browser.cseq;
  std::vector<std::string> h = {via(inviteBranch_),
                                "Max-Forwards: 70",
                                "To: <" + call.browser.remoteUri + ">",
                                "From: <" + aor_ + ">;tag=" + call.browser.localTag,
                                "Call-ID: " + call.browser.callId,
                                "CSeq: " + std::to_string(inviteCseq_) + " INVITE",
                                "Contact: " + contact_,
                                kAllow,
                                "Supported: outbound",
                                "User-Agent: rtcgate-load"};
  if (!authorization.empty()) h.push_back(authorization);
  if (!conn_ || !conn_->send(formatRequest("INVITE", call.browser.remoteUri, h, inviteOffer_)))
    env_.hooks.fail(call, "wss_closed");
}

std::vector<std::string> BrowserAgent::dialogHeaders(const LoadCall& call, const std::string& method, uint32_t cseq,
                                                     const std::string& branch) const {
  const bool weCalled = call.outbound;
  const std::string from = "<" + (weCalled ? aor_ : call.browser.localUri) + ">;tag=" + call.browser.localTag;
  std::string to = "<" + call.browser.remoteUri + ">";
  if (!call.browser.remoteTag.empty()) to += ";tag=" + call.browser.remoteTag;
  return {via(branch), "Max-Forwards: 70", "To: " + to, "From: " + from, "Call-ID: " + call.browser.callId,
          "CSeq: " + std::to_string(cseq) + " " + method};
}

void BrowserAgent::sendAck(LoadCall& call, uint32_t cseq, const std::string& branch) {
  // The ACK of a 2xx is in-dialog (route set, remote target); that of a non-2xx goes where the INVITE went
  // (RFC 3261 17.1.1.3), before any route set exists.
  if (call.browser.remoteTarget.empty()) {
    if (conn_) conn_->send(formatRequest("ACK", call.browser.remoteUri, dialogHeaders(call, "ACK", cseq, branch)));
    return;
  }
  sendInDialog(call, "ACK", cseq, branch);
}

bool BrowserAgent::sendInDialog(LoadCall& call, const std::string& method, uint32_t cseq, const std::string& branch) {
  // Over WSS the next hop is always the connection; the route set still goes in Route headers (RFC 3261 12.2.1.1)
  // for a proxy such as Kamailio that record-routed.
  const InDialogTarget t = inDialogTarget(call.browser.routeSet, call.browser.remoteTarget);
  auto h = dialogHeaders(call, method, cseq, branch);
  h.insert(h.end(), t.routeHeaders.begin(), t.routeHeaders.end());
  return conn_ && conn_->send(formatRequest(method, t.requestUri, h));
}

void BrowserAgent::hangUp(LoadCall& call) {
  byeBranch_ = newBranch();
  if (!sendInDialog(call, "BYE", ++call.browser.cseq, byeBranch_)) env_.hooks.fail(call, "wss_closed");
  closeLeg(call);
}

void BrowserAgent::abandon(LoadCall& call) {
  pendingInvite_.reset();
  pendingAnswer_ = nullptr;
  if (call.browserConfirmed && conn_ && !call.browser.remoteTarget.empty())
    sendInDialog(call, "BYE", ++call.browser.cseq, newBranch());
  closeLeg(call);
}

void BrowserAgent::closeLeg(LoadCall& call) {
  if (!call.leg) return;
  call.browserRttMs = call.leg->stats().rttMs;
  call.leg->close();
  call.leg.reset();
}

void BrowserAgent::reply(const SipMessage& req, int code, const std::string& reason, const std::string& toTag,
                         const std::vector<std::string>& headers, const std::string& body) {
  if (conn_) conn_->send(formatResponse(req, code, reason, toTag, headers, body));
}

}  // namespace rtcgate::load

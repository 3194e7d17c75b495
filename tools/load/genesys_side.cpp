// SPDX-License-Identifier: Apache-2.0
#include "genesys_side.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <random>

#include "rtcgate/core/address.h"
#include "rtcgate/session/codec_negotiation.h"
#include "rtcgate/session/sdp_builder.h"
#include "sip_text.h"

namespace rtcgate::load {

using signaling::SipMessage;

namespace {

// host and port of a SIP URI ("sip:1001@127.0.0.1:5070;transport=udp"); port 5060 when absent.
bool hostPortOf(const std::string& uri, std::string& host, uint16_t& port) {
  auto start = uri.find('@');
  start = start == std::string::npos ? uri.find(':') : start;
  if (start == std::string::npos) return false;
  std::string hp = uri.substr(start + 1);
  hp = hp.substr(0, hp.find_first_of(";?>"));
  auto colon = hp.rfind(':');
  port = 5060;
  if (colon != std::string::npos && hp.find(']') == std::string::npos) {
    port = static_cast<uint16_t>(std::atoi(hp.substr(colon + 1).c_str()));
    hp = hp.substr(0, colon);
  }
  host = hp;
  return !host.empty() && port != 0;
}

uint64_t randomId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng() >> 12;
}

}  // namespace

GenesysSide::GenesysSide(LoadEnv& env)
    : env_(env), sip_(env.loop, env.options.genesysIp, env.options.genesysPort, [this] { onReadable(); }) {}

void GenesysSide::onReadable() {
  static thread_local uint8_t buf[65536];
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage from{};
    ssize_t n = sip_.receive(buf, sizeof(buf), &from);
    if (n <= 0) return;
    auto parsed = SipMessage::parse(std::string_view(reinterpret_cast<char*>(buf), static_cast<size_t>(n)));
    if (parsed.status != SipMessage::ParseStatus::Ok) continue;
    auto ip = IpAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&from));
    uint16_t port = ntohs(reinterpret_cast<sockaddr_in*>(&from)->sin_port);
    if (from.ss_family == AF_INET6) port = ntohs(reinterpret_cast<sockaddr_in6*>(&from)->sin6_port);
    if (parsed.message->isResponse()) onResponse(*parsed.message);
    else onRequest(*parsed.message, ip ? ip->toString() : std::string(), port);
  }
}

void GenesysSide::onRequest(SipMessage& msg, const std::string& fromIp, uint16_t fromPort) {
  const std::string method = msg.method();
  // RFC 3261 17.2: a request rtcgate sent again (our response lost, or late) gets the same response, not a second
  // handling. Initial INVITEs of a live call are matched by their dialog instead (their response changes).
  const bool liveInitialInvite = method == "INVITE" && msg.toTag().empty() && calls_.count(msg.callId()) != 0;
  if (method != "ACK" && !liveInitialInvite) {
    auto seen = answered_.find(msg.topViaBranch() + " " + method);
    if (seen != answered_.end()) {
      ++requestsRepeated_;
      sip_.sendTo(seen->second, fromIp, fromPort);
      return;
    }
  }
  auto send = [&](const std::string& text) {
    sip_.sendTo(text, fromIp, fromPort);
    remember(msg, text);
  };
  if (method == "REGISTER") {
    const std::string dn = userOf(uriOf(SipMessage::value(reinterpret_cast<const sip_header_t*>(msg.sip()->sip_to))));
    const std::string contact = contactUriOf(msg);
    uint32_t expires = msg.sip()->sip_expires != nullptr ? static_cast<uint32_t>(msg.sip()->sip_expires->ex_delta) : 3600;
    std::vector<std::string> headers;
    if (expires == 0 || contact.empty()) {
      contacts_.erase(dn);
    } else {
      contacts_[dn] = contact;
      headers.push_back("Contact: <" + contact + ">;expires=" + std::to_string(expires));
    }
    send(formatResponse(msg, 200, "OK", randomToken(10), headers));
    if (expires != 0 && !contact.empty()) env_.hooks.dnRegistered(dn);
    return;
  }
  if (method == "INVITE") return onInvite(msg, fromIp, fromPort);
  auto it = calls_.find(msg.callId());
  LoadCall* call = it == calls_.end() ? nullptr : it->second;
  if (method == "ACK") {
    // The ACK of our 2xx ends its retransmissions (RFC 3261 13.3.1.4).
    if (call != nullptr && call->outbound && call->genesysTxMethod == "INVITE") call->genesysTx.stop();
    if (call != nullptr && call->outbound && !call->genesysConfirmed) {
      call->genesysConfirmed = true;
      env_.hooks.progress(*call);
    }
    return;
  }
  if (method == "BYE") {
    send(formatResponse(msg, 200, "OK", {}));
    // Outbound calls end by the agent's BYE, which rtcgate passes on; another BYE is the gateway giving up.
    if (call != nullptr && !call->hangingUp && !call->outbound) env_.hooks.fail(*call, "bye_from_gateway");
    return;
  }
  if (method == "CANCEL") {
    send(formatResponse(msg, 200, "OK", {}));
    if (call != nullptr && !call->established) env_.hooks.fail(*call, "cancelled_by_gateway");
    return;
  }
  send(formatResponse(msg, 200, "OK", {}));  // OPTIONS, UPDATE, INFO
}

void GenesysSide::remember(const SipMessage& req, const std::string& response) {
  // Bounded: a repeat comes within 64*T1 (32 s) of the original; this holds far more than that at any load.
  constexpr size_t kMaxAnswered = 16384;
  const std::string key = req.topViaBranch() + " " + req.method();
  if (answered_.count(key) == 0) {
    answeredOrder_.push_back(key);
    if (answeredOrder_.size() > kMaxAnswered) {
      answered_.erase(answeredOrder_.front());
      answeredOrder_.pop_front();
    }
  }
  answered_[key] = response;
}

void GenesysSide::onInvite(SipMessage& msg, const std::string& fromIp, uint16_t fromPort) {
  auto send = [&](const std::string& text) {
    sip_.sendTo(text, fromIp, fromPort);
    remember(msg, text);
  };
  auto it = calls_.find(msg.callId());
  if (it != calls_.end()) {
    LoadCall& call = *it->second;
    // A retransmitted INVITE gets the same answer; a re-INVITE (session refresh) our SDP again.
    if (!msg.toTag().empty()) {
      send(formatResponse(msg, 200, "OK", {}, {"Contact: <sip:genesys@" + sip_.ip() + ":" + std::to_string(sip_.port()) + ">"},
                          ourSdp(call)));
    } else if (!call.genesys.lastResponse.empty()) {
      ++requestsRepeated_;
      sip_.sendTo(call.genesys.lastResponse, fromIp, fromPort);
    }
    return;
  }
  const std::string ruser = userOf(msg.requestUri());
  int agent = env_.hooks.agentOfUser(ruser);
  if (agent == 0) agent = env_.hooks.agentOfUser(userOf(uriOf(SipMessage::value(reinterpret_cast<const sip_header_t*>(msg.sip()->sip_from)))));
  LoadCall* call = agent != 0 ? env_.hooks.callOfAgent(agent) : nullptr;
  if (call == nullptr || !call->outbound || !call->genesys.callId.empty()) {
    send(formatResponse(msg, 404, "Not Found", randomToken(10)));
    return;
  }
  call->genesys.callId = msg.callId();
  call->genesys.localTag = randomToken(10);
  call->genesys.remoteTag = msg.fromTag();
  call->genesys.remoteTarget = contactUriOf(msg);
  call->genesys.routeSet = routeSetOf(msg, false);
  call->genesys.remoteUri = uriOf(SipMessage::value(reinterpret_cast<const sip_header_t*>(msg.sip()->sip_from)));
  call->genesys.localUri = uriOf(SipMessage::value(reinterpret_cast<const sip_header_t*>(msg.sip()->sip_to)));
  calls_[call->genesys.callId] = call;
  if (!setRemoteMedia(*call, msg.body()) || !openRtp(*call)) {
    send(formatResponse(msg, 488, "Not Acceptable Here", call->genesys.localTag));
    return env_.hooks.fail(*call, "genesys_sdp");
  }
  const std::string answer =
      formatResponse(msg, 200, "OK", call->genesys.localTag,
                     {"Contact: <sip:" + ruser + "@" + sip_.ip() + ":" + std::to_string(sip_.port()) + ">"}, ourSdp(*call));
  if (env_.options.answerDelayMs <= 0) {
    call->genesys.lastResponse = answer;
    sendReliably(*call, RetransmitKind::InviteAnswer, "INVITE", answer, fromIp, fromPort, "genesys_ack_timeout");
    return;
  }
  send(formatResponse(msg, 180, "Ringing", call->genesys.localTag));
  call->genesys.lastResponse = formatResponse(msg, 180, "Ringing", call->genesys.localTag);
  const std::string ip = fromIp;
  call->answerTimer = Timer(env_.loop, std::chrono::milliseconds(env_.options.answerDelayMs), [this, call, answer, ip, fromPort] {
    call->genesys.lastResponse = answer;
    sendReliably(*call, RetransmitKind::InviteAnswer, "INVITE", answer, ip, fromPort, "genesys_ack_timeout");
    return false;
  });
}

bool GenesysSide::setRemoteMedia(LoadCall& call, const std::string& sdp) {
  auto media = session::readGenesysSdp(sdp);
  if (!media || media->port == 0) return false;
  auto chosen = session::pickCodec(media->codecs, {codec::CodecId::Pcmu, codec::CodecId::Pcma});
  if (!chosen) return false;
  call.genesysPt = chosen->second;
  call.genesysTone = &env_.toneOf(chosen->first);
  auto ip = IpAddress::parse(media->address);
  if (!ip) return false;
  call.rtcgateRtpLen = ip->toSockaddr(media->port, call.rtcgateRtp);
  // RFC 3605 a=rtcp, else the RTP port + 1 (RFC 3550 11).
  auto rtcpIp = media->rtcpAddress.empty() ? ip : IpAddress::parse(media->rtcpAddress);
  if (!rtcpIp) return false;
  call.rtcgateRtcpLen =
      rtcpIp->toSockaddr(media->rtcpPort != 0 ? media->rtcpPort : static_cast<uint16_t>(media->port + 1), call.rtcgateRtcp);
  return true;
}

bool GenesysSide::openRtp(LoadCall& call) {
  if (call.rtp) return true;
  // An even RTP port with RTCP on the next one (RFC 3550 11): rtcgate sends its RTCP there.
  for (int attempt = 0; attempt < 32; ++attempt) {
    try {
      auto rtp = std::make_unique<UdpSocket>(env_.loop, env_.options.genesysIp, 0, nullptr);
      if (rtp->port() % 2 != 0 || rtp->port() == 65535) continue;
      auto rtcp = std::make_unique<UdpSocket>(env_.loop, env_.options.genesysIp, static_cast<uint16_t>(rtp->port() + 1), nullptr);
      LoadCall* c = &call;
      rtp->enableArrivalTimestamps();
      call.rtp = std::move(rtp);
      call.rtcp = std::move(rtcp);
      call.rtp->setReadable([this, c] { onRtp(*c); });
      call.rtcp->setReadable([this, c] { onRtcp(*c); });
      return true;
    } catch (const std::exception&) {
    }
  }
  return false;
}

void GenesysSide::onRtcp(LoadCall& call) {
  uint8_t buf[2048];
  for (int i = 0; i < 64; ++i) {
    ssize_t n = call.rtcp->receive(buf, sizeof(buf));
    if (n <= 0) return;
    if (!call.toBrowserSender) continue;  // no stream of ours for rtcgate to report on yet
    const uint32_t ours = call.toBrowserSender->outbound().ssrc;
    media::RtcpSummary s;
    if (media::parseRtcp({buf, static_cast<size_t>(n)}, s, ours) != media::RtpStatus::Ok) continue;
    call.genesysRtcp.onReport(s, ours);
  }
}

void GenesysSide::startRtcp(LoadCall& call, bool first) {
  // RFC 3550 6.2: the first report after half the interval, then every [0.5, 1.5] x 5 s; a new one-shot timer per
  // report, replaced from its own callback (the GSource keeps the callback until its dispatch returns).
  LoadCall* c = &call;
  call.genesysRtcpTimer = Timer(env_.loop, media::RtcpReporter::nextInterval(env_.media.rtcpInterval, first), [this, c] {
    sendRtcp(*c);
    startRtcp(*c, false);
    return false;
  });
}

void GenesysSide::sendRtcp(LoadCall& call) {
  if (!call.rtcp || !call.toBrowserSender || call.rtcgateRtcpLen == 0) return;
  std::array<uint8_t, 256> out{};
  const auto tx = call.toBrowserSender->outbound();
  media::RtpReceiveStats* rx = call.toGenesysReceiver ? &call.toGenesysReceiver->stats() : nullptr;
  const auto remote = call.toGenesysReceiver ? call.toGenesysReceiver->ssrc() : std::nullopt;
  const size_t n = call.genesysRtcp.writeReport(tx, remote ? rx : nullptr, remote, "genesys", out);
  if (n > 0) call.rtcp->sendTo(out.data(), n, call.rtcgateRtcp, call.rtcgateRtcpLen);
}

void GenesysSide::onRtp(LoadCall& call) {
  uint8_t buf[2048];
  for (int i = 0; i < 64; ++i) {
    Clock::time_point arrival;
    ssize_t n = call.rtp->receive(buf, sizeof(buf), arrival);
    if (n <= 0) return;
    media::RtpHeader h;
    if (media::parseRtp({buf, static_cast<size_t>(n)}, h) != media::RtpStatus::Ok) continue;
    if (!call.mediaRunning || !call.toGenesysReceiver) {
      ++call.unexpectedPackets;
      continue;
    }
    call.toGenesysReceiver->onPacket(h, arrival, *call.toGenesysSender, env_.hooks.toGenesys());
  }
}

std::string GenesysSide::ourSdp(const LoadCall& call) const {
  std::vector<std::pair<codec::CodecId, uint8_t>> codecs;
  if (call.genesysTone != nullptr) codecs.push_back({call.genesysTone->codec, call.genesysPt});
  else codecs = {{codec::CodecId::Pcmu, 0}, {codec::CodecId::Pcma, 8}};
  return session::genesysSdp(sip_.ip(), call.rtp ? call.rtp->port() : 0, codecs, std::nullopt, randomId(), 1);
}

void GenesysSide::call(LoadCall& call, const std::string& dn, const std::string& user) {
  call.outbound = false;
  const bool viaProxy = env_.options.inboundViaPort != 0;
  auto it = contacts_.find(dn);
  if (!viaProxy && it == contacts_.end()) return env_.hooks.fail(call, "dn_not_registered");
  if (!openRtp(call)) return env_.hooks.fail(call, "rtp_ports");
  if (viaProxy) {
    call.genesys.inviteUri = "sip:" + user + "@" + env_.options.sipDomain;
    call.genesys.firstHop = "sip:" + env_.options.inboundViaIp + ":" + std::to_string(env_.options.inboundViaPort);
  } else {
    call.genesys.inviteUri = call.genesys.firstHop = it->second;
  }
  call.genesys.callId = randomToken(22) + "@genesys";
  call.genesys.localTag = randomToken(10);
  call.genesys.localUri = "sip:caller" + std::to_string(call.agent) + "@" + sip_.ip();
  call.genesys.remoteUri = viaProxy ? call.genesys.inviteUri : "sip:" + dn + "@" + env_.options.sipDomain;
  call.genesys.remoteTarget = call.genesys.inviteUri;
  call.genesys.cseq = 1;
  calls_[call.genesys.callId] = &call;
  call.attemptAt = Clock::now();
  auto h = dialogHeaders(call, "INVITE", 1);
  h.push_back("Contact: <sip:caller@" + sip_.ip() + ":" + std::to_string(sip_.port()) + ">");
  std::string host;
  uint16_t port = 0;
  if (!hostPortOf(call.genesys.firstHop, host, port)) return env_.hooks.fail(call, "dn_contact_unusable");
  sendReliably(call, RetransmitKind::InviteRequest, "INVITE",
               formatRequest("INVITE", call.genesys.inviteUri, h, ourSdp(call)), host, port, "sip_timeout_genesys_invite");
}

void GenesysSide::sendReliably(LoadCall& call, RetransmitKind kind, const std::string& method, const std::string& text,
                               const std::string& ip, uint16_t port, const std::string& timeoutReason) {
  sip_.sendTo(text, ip, port);
  call.genesysTxMethod = method;
  LoadCall* c = &call;
  call.genesysTx.start(
      env_.loop, kind,
      [this, text, ip, port] {
        ++retransmissionsSent_;
        sip_.sendTo(text, ip, port);
      },
      [this, c, timeoutReason] { env_.hooks.fail(*c, timeoutReason); });
}

void GenesysSide::sendInDialog(LoadCall& call, const std::string& method, uint32_t cseq, bool retransmit) {
  const InDialogTarget t = inDialogTarget(call.genesys.routeSet, call.genesys.remoteTarget);
  auto h = dialogHeaders(call, method, cseq);
  h.insert(h.end(), t.routeHeaders.begin(), t.routeHeaders.end());
  const std::string text = formatRequest(method, t.requestUri, h);
  std::string host;
  uint16_t port = 0;
  if (!hostPortOf(t.nextHop, host, port)) return;
  if (retransmit) sendReliably(call, RetransmitKind::NonInviteRequest, method, text, host, port, "bye_unanswered");
  else sip_.sendTo(text, host, port);
}

std::vector<std::string> GenesysSide::dialogHeaders(const LoadCall& call, const std::string& method,
                                                    uint32_t cseq) const {
  std::string to = "<" + call.genesys.remoteUri + ">";
  if (!call.genesys.remoteTag.empty()) to += ";tag=" + call.genesys.remoteTag;
  return {"Via: SIP/2.0/UDP " + sip_.ip() + ":" + std::to_string(sip_.port()) + ";rport;branch=" + newBranch(),
          "Max-Forwards: 70",
          "From: <" + call.genesys.localUri + ">;tag=" + call.genesys.localTag,
          "To: " + to,
          "Call-ID: " + call.genesys.callId,
          "CSeq: " + std::to_string(cseq) + " " + method};
}

void GenesysSide::sendRequest(const std::string& target, const std::string& text) {
  std::string host;
  uint16_t port = 0;
  if (hostPortOf(target, host, port)) sip_.sendTo(text, host, port);
}

void GenesysSide::onResponse(SipMessage& msg) {
  auto it = calls_.find(msg.callId());
  if (it == calls_.end()) return;
  LoadCall& call = *it->second;
  const int code = msg.status();
  const std::string method = msg.method();
  // Any response to what we are sending again ends its retransmissions (a provisional one stops Timer A; the setup
  // timeout bounds the rest).
  if (method == call.genesysTxMethod && (method != "INVITE" || !call.outbound)) call.genesysTx.stop();
  if (method == "INVITE" && !call.outbound) {
    if (code < 200) return;
    if (code >= 300) {
      // RFC 3261 17.1.1.3: the ACK of a non-2xx (same branch is the transaction's; rtcgate matches on Call-ID/CSeq).
      call.genesys.remoteTag = msg.toTag();
      sendRequest(call.genesys.firstHop, formatRequest("ACK", call.genesys.inviteUri, dialogHeaders(call, "ACK", 1)));
      return env_.hooks.fail(call, "sip_" + std::to_string(code));
    }
    const bool first = !call.genesysConfirmed;
    if (first) {
      call.genesys.remoteTag = msg.toTag();
      call.genesys.routeSet = routeSetOf(msg, true);
      const std::string target = contactUriOf(msg);
      if (!target.empty()) call.genesys.remoteTarget = target;
    }
    // Every 2xx gets its ACK: a repeated one means our ACK was lost (RFC 3261 13.2.2.4).
    sendInDialog(call, "ACK", msg.cseq(), false);
    if (!first) return;
    if (!setRemoteMedia(call, msg.body())) return env_.hooks.fail(call, "genesys_sdp");
    call.genesysConfirmed = true;
    env_.hooks.progress(call);
  } else if (method == "BYE" && code >= 200) {
    env_.hooks.hungUp(call);
  }
}

void GenesysSide::hangUp(LoadCall& call) { sendInDialog(call, "BYE", ++call.genesys.cseq, true); }

void GenesysSide::release(LoadCall& call, bool sendBye) {
  call.genesysTx.stop();
  call.genesysRtcpTimer.cancel();
  // A failed call's BYE is sent once: the call is gone, nothing would see its answer.
  if (sendBye && call.genesysConfirmed && !call.genesys.remoteTarget.empty())
    sendInDialog(call, "BYE", ++call.genesys.cseq, false);
  calls_.erase(call.genesys.callId);
  call.rtp.reset();
  call.rtcp.reset();
}

}  // namespace rtcgate::load

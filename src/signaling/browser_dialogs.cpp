// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/browser_dialogs.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/url.h>

#include "rtcgate/core/log.h"
#include "rtcgate/signaling/sip_message.h"
#include "rtcgate/signaling/sip_response.h"

namespace rtcgate::signaling {
namespace {

// RFC 3261 17.1.1.1 T2; T1 (the base of 2xx retransmission even on a reliable transport, 13.3.1.4) and 64*T1
// live in BrowserDialogs so tests can shorten them.
constexpr std::chrono::milliseconds kT2{4000};

// Our Contact and Via host: the browser reaches us only over its WebSocket, so nothing here needs to resolve.
constexpr std::string_view kContact = "Contact: <sip:rtcgate@rtcgate.invalid;transport=ws>";
constexpr std::string_view kViaPrefix = "Via: SIP/2.0/WSS rtcgate.invalid;branch=z9hG4bK";

// The From/To value without its tag parameter.
std::string addrWithoutTag(const sip_addr_t* a) {
  return withoutHeaderParam(SipMessage::value(reinterpret_cast<const sip_header_t*>(a)), "tag");
}

}  // namespace

BrowserDialog::BrowserDialog(BrowserDialogs& owner, Direction direction, ConnectionId connection, std::string agent)
    : owner_(owner), direction_(direction), connection_(connection), agent_(std::move(agent)) {}

std::string BrowserDialog::buildRequest(std::string_view method, uint32_t cseq, std::string_view branch,
                                        std::string_view contentType, std::string_view body, bool ack,
                                        std::string_view extraHeaders) const {
  std::string out;
  out.reserve(512 + body.size());
  out.append(method).append(" ").append(remoteTarget_).append(" SIP/2.0\r\n");
  out.append(kViaPrefix).append(branch).append("\r\n");
  out += "Max-Forwards: 70\r\n";
  out += "From: " + localUri_ + ";tag=" + localTag_ + "\r\n";
  out += "To: " + remoteUri_ + (remoteTag_.empty() ? "" : ";tag=" + remoteTag_) + "\r\n";
  out += "Call-ID: " + callId_ + "\r\n";
  out += "CSeq: " + std::to_string(cseq) + " " + std::string(ack ? "ACK" : method) + "\r\n";
  if (method == "INVITE" || method == "UPDATE") {
    out.append(kContact).append("\r\n");
    out.append(kAllowHeader).append("\r\n");
  }
  if (method == "INVITE" && !ack && cseq == 1)  // the initial INVITE's own headers, not a re-INVITE's
    for (const auto& h : inviteHeaders_) out.append(h).append("\r\n");
  out.append(extraHeaders);
  out += "User-Agent: rtcgate\r\n";
  if (!body.empty()) out += "Content-Type: " + std::string(contentType) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

void BrowserDialog::respond(int status, std::string_view reason, std::string sdp) {
  RTCGATE_ASSERT_ON_LOOP(owner_.loop_);
  if (direction_ != Direction::FromBrowser || finalSent_ || terminated_ || invite_ == nullptr) return;
  log::CallScope scope(callId_);
  std::vector<std::string> headers;
  if (status > 100 && status < 300) {
    headers.emplace_back(kContact);
    headers.emplace_back(kAllowHeader);
  }
  // RFC 3261 21.5.4: a 503 (security.max_calls, no RTP port) says when to come back, as on the Genesys side; JsSIP
  // and SIP.js surface it to the page, which can retry instead of hammering.
  if (status == 503) headers.emplace_back("Retry-After: 5");
  if (status >= 200 && status < 300) {
    if (!sessionExpiresHeader_.empty()) {
      headers.push_back(sessionExpiresHeader_);
      headers.emplace_back("Require: timer");
    }
    localSdp_ = sdp;
  }
  std::string response = buildResponse(*invite_, status, reason, headers, localTag_,
                                       sdp.empty() ? "" : "application/sdp", sdp);
  if (status < 200) {
    if (status > 100) state_ = State::Early;
    owner_.transport_.send(connection_, std::move(response));
    return;
  }
  finalSent_ = true;
  if (status < 300) {
    state_ = State::Confirmed;
    pending2xxCseq_ = invite_->cseq();
    sendFinalAndTrack(std::move(response));
    return;
  }
  // A failure ends the transaction; its ACK (same branch) is absorbed as an unknown-dialog ACK.
  owner_.transport_.send(connection_, std::move(response));
  terminate("rejected with " + std::to_string(status));
}

void BrowserDialog::sendFinalAndTrack(std::string response) {
  pending2xx_ = response;
  owner_.transport_.send(connection_, std::move(response));
  retransmitInterval_ = owner_.t1_;
  retransmitDeadline_ = std::chrono::steady_clock::now() + owner_.timerB_;
  retransmitTimer_ = Timer(owner_.loop_, retransmitInterval_, [this] { return retransmit(); });
}

bool BrowserDialog::retransmit() {
  if (pending2xx_.empty() || terminated_) return false;
  if (std::chrono::steady_clock::now() >= retransmitDeadline_) {
    // RFC 3261 13.3.1.4: no ACK within 64*T1 ends the dialog with a BYE. Deferred: we are inside the timer.
    pending2xx_.clear();
    auto self = shared_from_this();
    owner_.loop_.post([self] {
      log::CallScope scope(self->callId_);
      log::get(log::Component::Wss)->warn("no ACK for our 2xx within {} ms: ending the call",
                                          self->owner_.timerB_.count());
      self->hangup("no ACK");
    });
    return false;
  }
  owner_.transport_.send(connection_, pending2xx_);
  // Interval doubles up to T2; the timer's period is fixed, so re-arm it from a posted task.
  retransmitInterval_ = std::min(retransmitInterval_ * 2, kT2);
  auto self = shared_from_this();
  owner_.loop_.post([self] {
    if (self->pending2xx_.empty() || self->terminated_) return;
    self->retransmitTimer_ = Timer(self->owner_.loop_, self->retransmitInterval_, [s = self.get()] {
      return s->retransmit();
    });
  });
  return false;
}

void BrowserDialog::answerReoffer(int status, std::string_view reason, std::string sdp) {
  RTCGATE_ASSERT_ON_LOOP(owner_.loop_);
  if (reoffer_ == nullptr || terminated_) return;
  log::CallScope scope(callId_);
  std::vector<std::string> headers;
  bool isInvite = reoffer_->method() == "INVITE";
  if (status >= 200 && status < 300) {
    headers.emplace_back(kContact);
    if (auto se = reoffer_->header("Session-Expires")) {
      headers.push_back("Session-Expires: " + *se);
      headers.emplace_back("Require: timer");
    }
    if (!sdp.empty()) localSdp_ = sdp;
  }
  std::string response =
      buildResponse(*reoffer_, status, reason, headers, "", sdp.empty() ? "" : "application/sdp", sdp);
  uint32_t cseq = reoffer_->cseq();
  reoffer_.reset();
  if (isInvite && status >= 200 && status < 300) pending2xxCseq_ = cseq;
  if (isInvite && status >= 200 && status < 300) sendFinalAndTrack(std::move(response));
  else owner_.transport_.send(connection_, std::move(response));
}

void BrowserDialog::acknowledge(std::string sdp) {
  RTCGATE_ASSERT_ON_LOOP(owner_.loop_);
  if (terminated_ || direction_ != Direction::ToBrowser || ackCseq_ == 0 || !ack_.empty()) return;
  if (!sdp.empty()) localSdp_ = sdp;
  ack_ = buildRequest("ACK", ackCseq_, randomToken(16), sdp.empty() ? "" : "application/sdp", sdp, true);
  owner_.transport_.send(connection_, ack_);
}

void BrowserDialog::hangup(std::string_view reason) {
  RTCGATE_ASSERT_ON_LOOP(owner_.loop_);
  if (terminated_) return;
  log::CallScope scope(callId_);
  // A 2xx still waiting for our answer is ACKed before the BYE (RFC 3261 13.2.2.4: a UAC ACKs every 2xx, even one
  // whose offer it does not accept, then ends the dialog).
  acknowledge({});
  if (direction_ == Direction::FromBrowser && !finalSent_) {
    respond(480, "Temporarily Unavailable");
    return;
  }
  if (direction_ == Direction::ToBrowser && state_ != State::Confirmed) {
    // RFC 3261 9.1: CANCEL copies the INVITE's Request-URI, Call-ID, From, To (no tag), CSeq number and branch.
    std::string saveTag = remoteTag_;
    remoteTag_.clear();
    owner_.transport_.send(connection_, buildRequest("CANCEL", localCseq_, inviteBranch_, "", ""));
    remoteTag_ = saveTag;
    // The 487 to our INVITE ends the dialog (onResponse); Timer B ends it if the browser is gone.
    return;
  }
  if (detached_) {
    // The browser may still come back within the grace: its BYE waits for it, the session is done now.
    sendOrPark(buildRequest("BYE", ++localCseq_, randomToken(16), "", ""), "BYE");
    terminate(std::string("hung up: ") + std::string(reason), true);
    return;
  }
  owner_.transport_.send(connection_,
                         buildRequest("BYE", ++localCseq_, randomToken(16), "", ""));
  terminate(std::string("hung up: ") + std::string(reason));
}

bool BrowserDialog::sendRequest(std::string_view method, std::string_view contentType, std::string_view body) {
  RTCGATE_ASSERT_ON_LOOP(owner_.loop_);
  const bool earlyInfo = method == "INFO" && state_ == State::Early && direction_ == Direction::ToBrowser &&
                         !remoteTag_.empty();
  if (terminated_ || (state_ != State::Confirmed && !earlyInfo) || method == "INVITE" || method == "ACK" ||
      method == "CANCEL")
    return false;
  return sendOrPark(buildRequest(method, ++localCseq_, randomToken(16), contentType, body), method);
}

bool BrowserDialog::reinvite(std::string sdp, std::function<void(int status, const std::string& sdp)> done) {
  RTCGATE_ASSERT_ON_LOOP(owner_.loop_);
  // RFC 3261 14.1: no re-INVITE while another INVITE transaction is in progress either way.
  if (terminated_ || detached_ || state_ != State::Confirmed || reinviteDone_ || reoffer_ != nullptr ||
      !pending2xx_.empty())
    return false;
  log::CallScope scope(callId_);
  reinviteCseq_ = ++localCseq_;
  reinviteBranch_ = randomToken(16);
  reinviteAck_.clear();
  localSdp_ = sdp;
  if (!owner_.transport_.send(connection_, buildRequest("INVITE", reinviteCseq_, reinviteBranch_, "application/sdp", sdp)))
    return false;
  reinviteDone_ = std::move(done);
  std::weak_ptr<BrowserDialog> weak = weak_from_this();
  const uint32_t cseq = reinviteCseq_;
  reinviteTimer_ = Timer(owner_.loop_, owner_.timerB_, [weak, cseq] {
    // Posted: the callback may end the dialog, which cancels this timer.
    if (auto self = weak.lock())
      self->owner_.loop_.post([weak, cseq] {
        auto d = weak.lock();
        if (!d || d->reinviteCseq_ != cseq || !d->reinviteDone_) return;
        auto cb = std::move(d->reinviteDone_);
        d->reinviteDone_ = nullptr;
        cb(408, "");
      });
    return false;
  });
  return true;
}

void BrowserDialog::onReinviteResponse(ConnectionId connection, const SipMessage& response) {
  const int status = response.status();
  if (status < 200) return;
  if (status < 300) {
    // Every 2xx (and retransmission) is ACKed, a new transaction (RFC 3261 13.2.2.4).
    if (reinviteAck_.empty()) reinviteAck_ = buildRequest("ACK", reinviteCseq_, randomToken(16), "", "", true);
    owner_.transport_.send(connection, reinviteAck_);
  } else {
    owner_.transport_.send(connection, buildRequest("ACK", reinviteCseq_, reinviteBranch_, "", "", true));
  }
  if (!reinviteDone_) return;  // a retransmission, or after Timer B
  auto self = shared_from_this();
  owner_.loop_.post([self] { self->reinviteTimer_.cancel(); });
  auto cb = std::move(reinviteDone_);
  reinviteDone_ = nullptr;
  cb(status, status < 300 ? response.body() : std::string());
}

void BrowserDialog::terminate(const std::string& why, bool linger) {
  if (terminated_) return;
  terminated_ = true;
  state_ = State::Terminated;
  pending2xx_.clear();
  lingering_ = linger && detached_ && !parked_.empty();
  // The call is over: the agent's DN need not stay registered for it any longer.
  holdAgent(false);
  if (!lingering_) dropParked("the dialog ended");
  auto self = shared_from_this();
  // Timers may be the caller; cancel them from a task, never from inside their own callback.
  owner_.loop_.post([self] {
    self->retransmitTimer_.cancel();
    self->timeoutTimer_.cancel();
    self->reinviteTimer_.cancel();
    if (!self->lingering_) self->graceTimer_.cancel();
  });
  if (!lingering_) owner_.forget(*this);
  log::get(log::Component::Wss)->info("dialog with agent {} ended: {}", agent_, why);
  if (events_.onTerminated) events_.onTerminated(why);
}

BrowserDialogs::BrowserDialogs(EventLoop& loop, SipTransport& transport, Metrics& metrics)
    : loop_(loop),
      transport_(transport),
      unknownDialog_(metrics.counter("rtcgate_wss_unknown_dialog_total",
                                     "Browser requests for dialogs that do not exist (481)")),
      detachedTotal_(metrics.counter("rtcgate_wss_dialogs_detached_total",
                                     "Browser dialogs kept up when their WebSocket closed (reconnect grace)")),
      resumedTotal_(metrics.counter("rtcgate_wss_dialogs_resumed_total",
                                    "Browser dialogs resumed on the agent's new WebSocket within the grace")),
      graceExpiredTotal_(metrics.counter("rtcgate_wss_dialogs_reconnect_expired_total",
                                         "Browser dialogs ended because the agent did not reconnect in the grace")),
      parkedDropped_(metrics.counter("rtcgate_wss_dialog_requests_dropped_total",
                                     "Requests toward a browser dropped while its connection was gone")),
      foreignConnection_(metrics.counter("rtcgate_wss_dialog_foreign_connection_total",
                                         "In-dialog requests refused (403) from a connection not the dialog's")) {}

BrowserDialogs::~BrowserDialogs() = default;

std::shared_ptr<BrowserDialog> BrowserDialogs::find(const std::string& callId, const std::string& localTag) {
  auto it = dialogs_.find({callId, localTag});
  return it != dialogs_.end() ? it->second : nullptr;
}

void BrowserDialogs::forget(const BrowserDialog& dialog) { dialogs_.erase({dialog.callId_, dialog.localTag_}); }

void BrowserDialogs::reply(ConnectionId connection, const SipMessage& request, int status, std::string_view reason,
                           const std::vector<std::string>& headers) {
  transport_.send(connection, buildResponse(request, status, reason, headers, request.toTag().empty() ? randomToken(10) : ""));
}

std::shared_ptr<BrowserDialog> BrowserDialogs::invite(const Registration& target, const std::string& fromUser,
                                                      const std::string& sdp, DialogEvents events,
                                                      std::vector<std::string> extraHeaders,
                                                      const std::string& fromName) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  auto d = std::shared_ptr<BrowserDialog>(
      new BrowserDialog(*this, BrowserDialog::Direction::ToBrowser, target.connection, target.user));
  d->callId_ = randomToken(24);
  d->localTag_ = randomToken(10);
  std::string name;
  for (char c : fromName)
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && c != '"' && c != '\\') name.push_back(c);
  d->localUri_ = (name.empty() ? "" : "\"" + name + "\" ") + "<sip:" + fromUser + "@rtcgate.invalid>";
  d->remoteUri_ = "<sip:" + target.user + "@rtcgate.invalid>";
  // JsSIP answers 404 unless the Request-URI user is its AOR or Contact user: use the registered Contact.
  d->remoteTarget_ = target.contactUri;
  d->localCseq_ = 1;
  d->inviteBranch_ = randomToken(16);
  d->localSdp_ = sdp;
  d->offerInResponse_ = sdp.empty();
  // Header lines come from our own code (sofia-printed values); a line break would split the message: drop it.
  for (auto& h : extraHeaders)
    if (h.find_first_of("\r\n") == std::string::npos) d->inviteHeaders_.push_back(std::move(h));
  d->events_ = std::move(events);
  dialogs_[{d->callId_, d->localTag_}] = d;
  log::CallScope scope(d->callId_);
  if (!transport_.send(d->connection_, d->buildRequest("INVITE", 1, d->inviteBranch_,
                                                       sdp.empty() ? "" : "application/sdp", sdp))) {
    d->terminate("connection gone");
    return d;
  }
  std::weak_ptr<BrowserDialog> weak = d;
  d->timeoutTimer_ = Timer(loop_, timerB_, [this, weak] {
    loop_.post([weak] {
      auto self = weak.lock();
      if (!self || self->terminated_ || self->finalSent_) return;
      self->finalSent_ = true;
      if (self->events_.onResponse) self->events_.onResponse(408, "Request Timeout", "");
      self->terminate("no final response (Timer B)");
    });
    return false;
  });
  return d;
}

void BrowserDialogs::onRequest(ConnectionId connection, const std::string& agent, std::unique_ptr<SipMessage> request) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  SipMessage& req = *request;
  const std::string method = req.method();
  const std::string callId = req.callId();
  auto* lg = log::get(log::Component::Wss);

  if (method == "CANCEL") {
    // RFC 3261 9.2: a CANCEL matches the INVITE server transaction by branch (and Call-ID).
    for (auto it = dialogs_.lower_bound({callId, ""}); it != dialogs_.end() && it->first.first == callId; ++it) {
      auto d = it->second;
      if (d->invite_ == nullptr || d->invite_->topViaBranch() != req.topViaBranch()) continue;
      if (d->connection_ != connection) continue;  // only the connection that sent the INVITE may cancel it
      reply(connection, req, 200, "OK");
      if (!d->finalSent_) {
        d->finalSent_ = true;
        transport_.send(connection, buildResponse(*d->invite_, 487, "Request Terminated", {}, d->localTag_));
        d->terminate("cancelled by the browser");
      }
      return;
    }
    reply(connection, req, 481, "Call/Transaction Does Not Exist");
    return;
  }

  if (req.toTag().empty()) {
    if (method != "INVITE") {
      if (method != "ACK") reply(connection, req, 481, "Call/Transaction Does Not Exist");
      return;
    }
    // A retransmitted INVITE (same Call-ID and branch) is absorbed: the transaction already answers it.
    for (auto it = dialogs_.lower_bound({callId, ""}); it != dialogs_.end() && it->first.first == callId; ++it)
      if (it->second->invite_ != nullptr && it->second->invite_->topViaBranch() == req.topViaBranch()) return;
    const sip_t* sip = req.sip();
    if (sip->sip_contact == nullptr) {
      reply(connection, req, 400, "Missing Contact");
      return;
    }
    auto d = std::shared_ptr<BrowserDialog>(
        new BrowserDialog(*this, BrowserDialog::Direction::FromBrowser, connection, agent));
    su_home_t* home = msg_home(req.msg());
    d->callId_ = callId;
    d->localTag_ = randomToken(10);
    d->remoteTag_ = req.fromTag();
    d->localUri_ = addrWithoutTag(sip->sip_to);
    d->remoteUri_ = addrWithoutTag(sip->sip_from);
    char* target = url_as_string(home, sip->sip_contact->m_url);
    d->remoteTarget_ = target != nullptr ? target : "";
    d->target_ = sip->sip_request->rq_url->url_user != nullptr ? sip->sip_request->rq_url->url_user : "";
    d->targetHost_ = sip->sip_request->rq_url->url_host != nullptr ? sip->sip_request->rq_url->url_host : "";
    d->remoteCseq_ = req.cseq();
    d->remoteOffer_ = req.body();
    // RFC 4028: JsSIP asks for session timers; we let it refresh (refresher=uac) with UPDATE.
    if (auto se = req.header("Session-Expires")) {
      std::string value = *se;
      if (value.find("refresher") == std::string::npos) value += ";refresher=uac";
      d->sessionExpiresHeader_ = "Session-Expires: " + value;
    }
    d->invite_ = std::move(request);
    dialogs_[{d->callId_, d->localTag_}] = d;
    transport_.send(connection, buildResponse(*d->invite_, 100, "Trying"));
    lg->info("INVITE from agent {} to '{}'", agent, d->target_);
    if (incoming_) incoming_(d);
    else d->respond(480, "Temporarily Unavailable");
    return;
  }

  auto d = find(callId, req.toTag());
  if (d == nullptr || d->remoteTag_ != req.fromTag() || d->terminated_) {
    if (method != "ACK") {
      unknownDialog_.fetch_add(1, std::memory_order_relaxed);
      reply(connection, req, 481, "Call/Transaction Does Not Exist");
    }
    return;
  }
  if (d->connection_ != connection && !acceptFromConnection(*d, connection, agent, method)) {
    if (method != "ACK") reply(connection, req, 403, "Forbidden");
    return;
  }
  if (method == "ACK") {
    if (req.cseq() == d->pending2xxCseq_ && !d->pending2xx_.empty()) {
      d->pending2xx_.clear();
      loop_.post([d] { d->retransmitTimer_.cancel(); });
      if (d->events_.onAck) d->events_.onAck(req.body());
    }
    return;
  }
  if (method == "REFER") {
    // Its source is checked before it may advance the dialog's CSeq.
    onRefer(connection, agent, d, std::move(request));
    return;
  }
  // RFC 3261 12.2.2: a lower CSeq than the last one is out of order.
  if (req.cseq() <= d->remoteCseq_) {
    reply(connection, req, 500, "Server Internal Error", {"Retry-After: 1"});
    return;
  }
  d->remoteCseq_ = req.cseq();
  if (method == "BYE") {
    reply(connection, req, 200, "OK");
    d->terminate("BYE from the browser");
    return;
  }
  if (method == "INFO") {
    reply(connection, req, 200, "OK");
    if (d->events_.onInfo) d->events_.onInfo(req.contentType(), req.body());
    return;
  }
  if (method == "OPTIONS") {
    reply(connection, req, 200, "OK", {std::string(kAllowHeader)});
    return;
  }
  if (method == "INVITE" || method == "UPDATE") {
    // RFC 3261 14.2 / RFC 3311 5.2: an offer while another is pending (ours unanswered, or our 2xx not ACKed) is
    // glare: 491. A new UPDATE while the INVITE is still unanswered is glare too.
    if (d->reoffer_ != nullptr || !d->pending2xx_.empty() || d->reinviteDone_ ||
        (method == "INVITE" && d->state_ != BrowserDialog::State::Confirmed)) {
      reply(connection, req, 491, "Request Pending", {"Retry-After: 2"});
      return;
    }
    std::string sdp = req.body();
    d->reoffer_ = std::move(request);
    bool update = method == "UPDATE";
    if (update && sdp.empty()) {
      // Session refresh (RFC 4028 with UPDATE, JsSIP's default): nothing to negotiate.
      d->answerReoffer(200, "OK");
      return;
    }
    if (d->events_.onReoffer) d->events_.onReoffer(sdp, update);
    else d->answerReoffer(200, "OK", d->localSdp_);
    return;
  }
  reply(connection, req, 405, "Method Not Allowed", {std::string(kAllowHeader)});
}

void BrowserDialogs::onResponse(ConnectionId connection, const SipMessage& response) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  auto d = find(response.callId(), response.fromTag());
  if (d == nullptr || d->connection_ != connection) return;
  if (response.method() != "INVITE") return;  // BYE / INFO / CANCEL answers need no action
  log::CallScope scope(d->callId_);
  if (d->reinviteCseq_ != 0 && response.cseq() == d->reinviteCseq_) {
    d->onReinviteResponse(connection, response);
    return;
  }
  if (d->direction_ != BrowserDialog::Direction::ToBrowser) return;
  int status = response.status();
  const sip_t* sip = response.sip();
  if (status >= 200 && status < 300) {
    // The 2xx and every retransmission of it get an ACK (RFC 3261 13.2.2.4), a new transaction.
    d->remoteTag_ = response.toTag();
    if (sip->sip_contact != nullptr) {
      char* target = url_as_string(msg_home(response.msg()), sip->sip_contact->m_url);
      if (target != nullptr) d->remoteTarget_ = target;
    }
    if (!d->offerInResponse_) {
      transport_.send(connection, d->buildRequest("ACK", response.cseq(), randomToken(16), "", "", true));
    } else if (!d->ack_.empty()) {
      transport_.send(connection, d->ack_);  // a retransmission of the 2xx we answered
    } else {
      // The 2xx carries the browser's offer: the ACK carries our answer, once the session has it (acknowledge()).
      // Retransmissions meanwhile need nothing: the browser repeats its 2xx until that ACK arrives.
      d->ackCseq_ = response.cseq();
    }
    if (d->finalSent_) return;
    d->finalSent_ = true;
    d->state_ = BrowserDialog::State::Confirmed;
    loop_.post([d] { d->timeoutTimer_.cancel(); });
    if (d->events_.onResponse) d->events_.onResponse(status, sip->sip_status->st_phrase, response.body());
    return;
  }
  if (status >= 300) {
    // ACK for a failure is part of the INVITE transaction: same branch, To with the response's tag (17.1.1.3).
    std::string saveTag = d->remoteTag_;
    d->remoteTag_ = response.toTag();
    transport_.send(connection, d->buildRequest("ACK", response.cseq(), d->inviteBranch_, "", "", true));
    d->remoteTag_ = saveTag;
    if (d->finalSent_) return;
    d->finalSent_ = true;
    if (d->events_.onResponse) d->events_.onResponse(status, sip->sip_status->st_phrase, response.body());
    d->terminate("browser answered " + std::to_string(status));
    return;
  }
  if (status > 100 && !response.toTag().empty()) {
    d->remoteTag_ = response.toTag();
    d->state_ = BrowserDialog::State::Early;
  }
  if (d->events_.onResponse) d->events_.onResponse(status, sip->sip_status->st_phrase, response.body());
}

}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
// REFER from the browser (JsSIP session.refer, RFC 3515) and the NOTIFYs of its subscription, on the browser leg.
// What the REFER asks for is the session layer's decision; this file checks where it comes from and parses it.
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/url.h>

#include "rtcgate/core/log.h"
#include "rtcgate/signaling/browser_dialogs.h"
#include "rtcgate/signaling/sip_message.h"
#include "rtcgate/signaling/sip_response.h"

namespace rtcgate::signaling {
namespace {

constexpr std::string_view kContact = "Contact: <sip:rtcgate@rtcgate.invalid;transport=ws>";
// Bounds on what a Refer-To may carry: a dial string and a Replaces of three tokens (JsSIP: ~100 characters).
constexpr size_t kMaxReplaces = 512;

// The value of the Replaces URI header in a Refer-To's "?h=v&h=v" part, unescaped; empty when there is none.
std::string replacesHeader(const url_t* url) {
  if (url->url_headers == nullptr) return {};
  std::string_view headers = url->url_headers;
  while (!headers.empty()) {
    auto amp = headers.find('&');
    std::string_view one = headers.substr(0, amp);
    headers = amp == std::string_view::npos ? std::string_view{} : headers.substr(amp + 1);
    constexpr std::string_view kName = "replaces=";
    if (one.size() <= kName.size() || one.size() > kMaxReplaces || !su_casenmatch(one.data(), kName.data(), kName.size()))
      continue;
    std::string value(one.substr(kName.size()));
    value.resize(url_unescape_to(value.data(), value.c_str(), value.size()));  // in place: never longer
    return value;
  }
  return {};
}

}  // namespace

void BrowserDialogs::onRefer(ConnectionId connection, const std::string& agent,
                             const std::shared_ptr<BrowserDialog>& d, std::unique_ptr<SipMessage> request) {
  SipMessage& req = *request;
  auto* lg = log::get(log::Component::Wss);
  log::CallScope scope(d->callId_);
  // Only the agent of the call, over the connection the dialog lives on, may transfer it.
  if (d->connection_ != connection || agent.empty() || agent != d->agent_) {
    lg->warn("REFER for the dialog of agent {} from another connection or agent: 403", d->agent_);
    reply(connection, req, 403, "Forbidden");
    return;
  }
  // RFC 3261 12.2.2, as for every in-dialog request.
  if (req.cseq() <= d->remoteCseq_) {
    reply(connection, req, 500, "Server Internal Error", {"Retry-After: 1"});
    return;
  }
  d->remoteCseq_ = req.cseq();
  if (!d->events_.onRefer) {
    reply(connection, req, 405, "Method Not Allowed", {std::string(kAllowHeader)});
    return;
  }
  // RFC 3515 2.4.2 allows REFER only where a dialog can carry the subscription's NOTIFYs: not before the call
  // is established (JsSIP refuses to send one then anyway).
  if (d->state_ != BrowserDialog::State::Confirmed || d->terminated_) {
    reply(connection, req, 403, "Forbidden");
    return;
  }
  // One REFER at a time on the browser leg (RFC 3261 14.1 style): the session answers a REFER whose
  // subscription is still running with 491 too.
  if (d->refer_ != nullptr) {
    reply(connection, req, 491, "Request Pending", {"Retry-After: 2"});
    return;
  }
  const sip_t* sip = req.sip();
  if (sip->sip_refer_to == nullptr || sip->sip_refer_to->r_url->url_type == url_invalid) {
    reply(connection, req, 400, "Missing or Bad Refer-To");
    return;
  }
  const url_t* url = sip->sip_refer_to->r_url;
  ReferRequest r;
  r.id = req.cseq();
  r.sipUri = url->url_type == url_sip || url->url_type == url_sips;
  r.targetUser = url->url_user != nullptr ? url->url_user : "";
  r.targetHost = url->url_host != nullptr ? url->url_host : "";
  if (std::string replaces = replacesHeader(url); !replaces.empty()) {
    su_home_t* home = msg_home(req.msg());
    sip_replaces_t* rp = sip_replaces_make(home, replaces.c_str());
    if (rp == nullptr || rp->rp_call_id == nullptr || rp->rp_to_tag == nullptr || rp->rp_from_tag == nullptr) {
      reply(connection, req, 400, "Bad Replaces");
      return;
    }
    r.hasReplaces = true;
    r.replacesCallId = rp->rp_call_id;
    r.replacesToTag = rp->rp_to_tag;
    r.replacesFromTag = rp->rp_from_tag;
  }
  lg->info("REFER from agent {} to '{}'{}", agent, log::escaped(r.targetUser),
           r.hasReplaces ? " with Replaces (attended transfer)" : "");
  d->refer_ = std::move(request);
  d->events_.onRefer(r);
}

void BrowserDialog::answerRefer(int status, std::string_view reason) {
  RTCGATE_ASSERT_ON_LOOP(owner_.loop_);
  if (refer_ == nullptr || terminated_) return;
  log::CallScope scope(callId_);
  std::vector<std::string> headers;
  if (status >= 200 && status < 300) headers.emplace_back(kContact);
  owner_.transport_.send(connection_, buildResponse(*refer_, status, reason, headers, ""));
  refer_.reset();
}

bool BrowserDialog::notifyRefer(uint32_t id, std::string_view subscriptionState, std::string_view sipfrag) {
  RTCGATE_ASSERT_ON_LOOP(owner_.loop_);
  if (terminated_ || state_ != State::Confirmed) return false;
  std::string headers;
  headers.append("Event: refer;id=").append(std::to_string(id)).append("\r\n");
  headers.append("Subscription-State: ").append(subscriptionState).append("\r\n");
  headers.append(kContact).append("\r\n");
  return owner_.transport_.send(connection_, buildRequest("NOTIFY", ++localCseq_, randomToken(16),
                                                          "message/sipfrag", sipfrag, false, headers));
}

}  // namespace rtcgate::signaling

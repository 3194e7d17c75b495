// SPDX-License-Identifier: Apache-2.0
// UpstreamCall as transferor: the REFER an agent asks for (browser REFER relayed to Genesys), its response and the
// NOTIFYs of its implicit subscription (RFC 3515). Thread: the control loop.
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/su_string.h>

#include <algorithm>
#include <cstdlib>

#include "nua_glue.h"
#include "rtcgate/core/log.h"
#include "rtcgate/sip/sipfrag.h"
#include "rtcgate/sip/upstream_call.h"

namespace rtcgate::sip {
namespace {
spdlog::logger* lg() { return log::get(log::Component::Sip); }

// RFC 6665 §4.2.1.2 (by RFC 3515): the first NOTIFY follows the acceptance at once; 64*T1 covers its loss.
constexpr std::chrono::seconds kFirstNotifyWait{32};
// After a NOTIFY without an expiry, how long the next one may take (a transfer target ringing).
constexpr std::chrono::seconds kNextNotifyWait{120};
constexpr unsigned long kMaxSubscriptionS = 3600;
constexpr std::chrono::seconds kExpiryGrace{2};

}  // namespace

void UpstreamCall::waitForReferNotify(std::chrono::seconds wait) {
  // Genesys owes us a NOTIFY before the subscription expires; without it nothing would end the transfer's state
  // and every later REFER of the agent would get 491. The expiry is acted on from a task, outside the timer.
  std::weak_ptr<UpstreamCall> weak = weak_from_this();
  referWait_ = Timer(loop_, std::chrono::duration_cast<std::chrono::milliseconds>(wait), [weak, &loop = loop_] {
    loop.post([weak] {
      if (auto self = weak.lock()) self->referWaitExpired();
    });
    return false;
  });
}

void UpstreamCall::referWaitExpired() {
  if (referState_ != ReferState::Subscribed) return;
  referState_ = ReferState::None;
  if (state_ == CallState::Terminated) return;
  log::CallScope scope(logId());
  lg()->warn("no NOTIFY for our REFER before its subscription expired: transfer outcome unknown");
  if (observer_ != nullptr) observer_->onReferNotify(408, "Request Timeout", true);
}

bool UpstreamCall::refer(const std::string& referTo, const std::string& referredBy) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!nh_ || referState_ != ReferState::None || (state_ != CallState::Confirmed && state_ != CallState::Answered))
    return false;
  log::CallScope scope(logId());
  referState_ = ReferState::Sent;
  lg()->info("REFER to Genesys: Refer-To {}", log::escaped(referTo));
  nua_refer(nh_.get(), SIPTAG_REFER_TO_STR(referTo.c_str()), SIPTAG_REFERRED_BY_STR(referredBy.c_str()), TAG_END());
  return true;
}

std::string UpstreamCall::replacesValue() const {
  if (!nh_ || (state_ != CallState::Confirmed && state_ != CallState::Answered)) return {};
  su_home_t home[1] = {SU_HOME_INIT(home)};
  std::string out;
  if (sip_replaces_t* rp = nua_handle_make_replaces(nh_.get(), home, 0); rp != nullptr) {
    if (char* s = sip_header_as_string(home, reinterpret_cast<sip_header_t*>(rp)); s != nullptr) out = s;
  }
  su_home_deinit(home);
  return out;
}

void UpstreamCall::onReferReply(int status, const char* phrase, const sip_s*) {
  // nua reports 100 once the REFER is sent (with the Event header its NOTIFYs will carry): nothing to do.
  if (status < 200 || referState_ != ReferState::Sent) return;
  log::CallScope scope(logId());
  lg()->info("REFER to Genesys answered {} {}", status, phrase != nullptr ? log::escaped(phrase) : std::string());
  referState_ = status < 300 ? ReferState::Subscribed : ReferState::None;
  if (referState_ == ReferState::Subscribed) waitForReferNotify(kFirstNotifyWait);
  if (observer_ != nullptr) observer_->onReferResponse(status, phrase != nullptr ? phrase : "");
}

bool UpstreamCall::onReferNotify(int status, const sip_s* sip) {
  if (referState_ == ReferState::None) return false;
  log::CallScope scope(logId());
  // A NOTIFY may overtake the 2xx to our REFER (UDP): it implies the REFER was accepted.
  if (referState_ == ReferState::Sent && sip != nullptr) {
    referState_ = ReferState::Subscribed;
    if (observer_ != nullptr) observer_->onReferResponse(202, "Accepted");
  }
  int code = 0;
  std::string phrase;
  bool terminated = false;
  if (sip == nullptr) {
    // nua stopped waiting for a NOTIFY of the subscription: the outcome of the transfer is unknown.
    code = 408;
    terminated = true;
    lg()->warn("no NOTIFY for our REFER in time ({}): subscription ended", status);
  } else {
    const sip_content_type_t* ct = sip->sip_content_type;
    if (ct != nullptr && ct->c_type != nullptr && su_casematch(ct->c_type, "message/sipfrag")) {
      if (auto frag = parseSipfragStatus(bodyOf(sip))) {
        code = frag->code;
        phrase = std::move(frag->phrase);
      }
    }
    const sip_subscription_state_t* ss = sip->sip_subscription_state;
    terminated = ss != nullptr && ss->ss_substate != nullptr && su_casematch(ss->ss_substate, "terminated");
    if (!terminated) {
      auto wait = kNextNotifyWait;
      if (ss != nullptr && ss->ss_expires != nullptr) {
        const unsigned long s = std::strtoul(ss->ss_expires, nullptr, 10);
        wait = std::chrono::seconds(std::clamp(s, 1ul, kMaxSubscriptionS)) + kExpiryGrace;
      }
      waitForReferNotify(wait);
    }
    lg()->info("NOTIFY for our REFER: {} {}{}", code, log::escaped(phrase), terminated ? " (subscription terminated)" : "");
  }
  if (terminated) {
    referState_ = ReferState::None;
    referWait_.cancel();
  }
  if (observer_ != nullptr) observer_->onReferNotify(code, phrase, terminated);
  return true;
}

}  // namespace rtcgate::sip

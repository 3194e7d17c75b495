// SPDX-License-Identifier: Apache-2.0
#include "dn_registration.h"

#include <algorithm>
#include <cstdlib>

#include "rtcgate/core/log.h"

namespace rtcgate::sip {
namespace {
spdlog::logger* lg() { return log::get(log::Component::Sip); }
// Plain registration: no RFC 5626 outbound, no NAT probing, no keepalive OPTIONS toward Genesys (nua's defaults
// would send OPTIONS to ourselves through the registrar and rewrite our Contact).
constexpr const char* kOutbound = "no-outbound no-natify no-validate no-options-keepalive no-gruuize";
}  // namespace

DnRegistration::DnRegistration(EventLoop& loop, nua_t* nua, Params params, Counters counters,
                               std::function<void()> changed)
    : loop_(loop), nua_(nua), params_(std::move(params)), counters_(counters), changed_(std::move(changed)) {}

DnRegistration::~DnRegistration() = default;

void DnRegistration::setWanted(bool wanted) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (wanted == wanted_) return;
  wanted_ = wanted;
  if (wanted) {
    failures_ = 0;
    retry_.cancel();
    sendRegister();
    return;
  }
  retry_.cancel();
  if (nh_ && (state_ == RegistrationState::Registered || state_ == RegistrationState::Registering)) {
    lg()->info("DN {} unregistering (Expires: 0)", params_.dn);
    setState(RegistrationState::Unregistering);
    nua_unregister(nh_.get(), TAG_END());
  } else {
    nh_.reset();
    setState(RegistrationState::Unregistered);
  }
}

void DnRegistration::detach(bool destroyHandle) {
  retry_.cancel();
  if (destroyHandle)
    nh_.reset();
  else
    (void)nh_.release();  // nua_destroy frees it
}

void DnRegistration::sendRegister() {
  // A fresh handle per attempt: a failed registration leaves nua's usage in an undefined refresh state.
  nh_.reset(nua_handle(nua_, this, SIPTAG_TO_STR(params_.aor.c_str()), TAG_END()));
  if (!nh_) {
    fail(500, "nua_handle failed");
    return;
  }
  authAttempts_ = 0;
  setState(RegistrationState::Registering);
  const std::string expires = std::to_string(params_.expiresS);
  nua_register(nh_.get(), NUTAG_REGISTRAR(params_.registrar.c_str()), SIPTAG_FROM_STR(params_.aor.c_str()),
               NUTAG_M_USERNAME(params_.dn.c_str()), SIPTAG_EXPIRES_STR(expires.c_str()), NUTAG_OUTBOUND(kOutbound),
               TAG_END());
}

void DnRegistration::setCredentials(std::string authUser, std::string password) {
  params_.authUser = std::move(authUser);
  params_.password = std::move(password);
}

bool DnRegistration::answerChallenge(int status, const sip_s* sip) {
  // At most two digest rounds per request: a registrar that keeps challenging has refused the credentials.
  if ((status != 401 && status != 407) || authAttempts_ >= 2 || params_.password.empty()) return false;
  std::string cred = digestCredentials(sip, params_.authUser, params_.password);
  if (cred.empty()) return false;
  ++authAttempts_;
  nua_authenticate(nh_.get(), NUTAG_AUTH(cred.c_str()), TAG_END());
  return true;
}

void DnRegistration::onRegisterReply(int status, const char* phrase, const sip_s* sip) {
  if (status < 200) return;
  if (answerChallenge(status, sip)) return;
  if (status >= 300) {
    fail(status, phrase);
    return;
  }
  authAttempts_ = 0;
  lastStatus_ = status;
  lastPhrase_ = phrase != nullptr ? phrase : "";
  lastError_.clear();
  nextAttempt_.reset();
  {
    // RFC 3261 10.2.4: the registrar's grant is in the Contact's expires, else in Expires.
    uint32_t granted = params_.expiresS;
    if (sip != nullptr && sip->sip_contact != nullptr && sip->sip_contact->m_expires != nullptr)
      granted = static_cast<uint32_t>(std::strtoul(sip->sip_contact->m_expires, nullptr, 10));
    else if (sip != nullptr && sip->sip_expires != nullptr)
      granted = static_cast<uint32_t>(sip->sip_expires->ex_delta);
    registeredUntil_ = std::chrono::steady_clock::now() + std::chrono::seconds(granted);
  }
  counters_.ok->fetch_add(1, std::memory_order_relaxed);
  if (state_ != RegistrationState::Registered) {
    failures_ = 0;
    lg()->info("DN {} registered at {} ({} {})", params_.dn, params_.registrar, status, phrase);
  } else {
    lg()->debug("DN {} registration refreshed ({} {})", params_.dn, status, phrase);
  }
  setState(RegistrationState::Registered);
}

void DnRegistration::onUnregisterReply(int status, const char* phrase, const sip_s* sip) {
  if (status < 200) return;
  if (answerChallenge(status, sip)) return;
  lastStatus_ = status;
  lastPhrase_ = phrase != nullptr ? phrase : "";
  registeredUntil_.reset();
  lg()->info("DN {} unregistered ({} {})", params_.dn, status, phrase);
  nh_.reset();  // nua_handle_destroy only queues a signal to the stack: safe inside its callback
  setState(RegistrationState::Unregistered);
  if (wanted_) sendRegister();  // the agent came back while Expires: 0 was in flight
}

void DnRegistration::fail(int status, const char* phrase) {
  lastStatus_ = status;
  lastPhrase_ = phrase != nullptr ? phrase : "";
  lastError_ = std::to_string(status) + " " + lastPhrase_;
  registeredUntil_.reset();
  nextAttempt_.reset();
  ++failures_;
  counters_.failed->fetch_add(1, std::memory_order_relaxed);
  nh_.reset();
  if (!wanted_) {
    setState(RegistrationState::Unregistered);
    return;
  }
  // Exponential backoff: min * 2^(failures-1), capped at max.
  auto delay = params_.retryMin;
  for (uint32_t i = 1; i < failures_ && delay < params_.retryMax; ++i) delay *= 2;
  delay = std::min(delay, params_.retryMax);
  lg()->warn("DN {} registration failed ({} {}), attempt {}, retry in {} ms", params_.dn, status,
             phrase != nullptr ? phrase : "", failures_, delay.count());
  setState(RegistrationState::RetryWait);
  nextAttempt_ = std::chrono::steady_clock::now() + delay;
  retry_ = Timer(loop_, delay, [this] {
    if (wanted_) sendRegister();
    return false;
  });
}

void DnRegistration::setState(RegistrationState s) {
  if (s == state_) return;
  state_ = s;
  if (changed_) changed_();
}

}  // namespace rtcgate::sip

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "nua_glue.h"
#include "rtcgate/core/event_loop.h"

namespace rtcgate::sip {

// Keeps one DN registered at the upstream registrar while it is wanted (agent present or always-registered):
// REGISTER with our Contact, digest answer per DN, refresh by nua before expiry, exponential backoff after a
// failure, Expires: 0 when no longer wanted. Thread: the control loop.
class DnRegistration final : public HandleOwner {
public:
  struct Params {
    std::string dn;
    std::string authUser;
    std::string password;  // never logged
    std::string aor;        // sip:dn@domain
    std::string registrar;  // sip:host:port;transport=...
    uint32_t expiresS = 300;
    std::chrono::milliseconds retryMin{1000};
    std::chrono::milliseconds retryMax{60000};
  };
  struct Counters {
    std::atomic<uint64_t>* ok;
    std::atomic<uint64_t>* failed;
  };
  DnRegistration(EventLoop& loop, nua_t* nua, Params params, Counters counters, std::function<void()> changed);
  ~DnRegistration() override;

  void setWanted(bool wanted);
  // A dn_password / dn_auth_user changed by a reload: used from the next challenge on.
  void setCredentials(std::string authUser, std::string password);
  const std::string& authUser() const { return params_.authUser; }
  const std::string& password() const { return params_.password; }
  bool wanted() const { return wanted_; }
  RegistrationState state() const { return state_; }
  int lastStatus() const { return lastStatus_; }
  uint32_t failures() const { return failures_; }
  // Admin API: the last final response's phrase, the last failure ("" after a success), when the registration
  // granted by the registrar expires (nua refreshes before it) and when the next attempt after a failure goes.
  const std::string& lastPhrase() const { return lastPhrase_; }
  const std::string& lastError() const { return lastError_; }
  std::optional<std::chrono::steady_clock::time_point> registeredUntil() const { return registeredUntil_; }
  std::optional<std::chrono::steady_clock::time_point> nextAttempt() const { return nextAttempt_; }
  // Called before nua_shutdown: nua unregisters live registrations itself, the handle must go first.
  void detach(bool destroyHandle = true);

private:
  void onRegisterReply(int status, const char* phrase, const sip_s* sip) override;
  void onUnregisterReply(int status, const char* phrase, const sip_s* sip) override;
  void sendRegister();
  // Answers a 401/407 with the DN's digest credentials; false when it cannot (or gave up).
  bool answerChallenge(int status, const sip_s* sip);
  void fail(int status, const char* phrase);
  void setState(RegistrationState s);

  EventLoop& loop_;
  nua_t* nua_;
  Params params_;
  Counters counters_;
  std::function<void()> changed_;
  std::unique_ptr<nua_handle_s, NuaHandleDeleter> nh_;
  Timer retry_;
  bool wanted_ = false;
  RegistrationState state_ = RegistrationState::Unregistered;
  int lastStatus_ = 0;
  uint32_t failures_ = 0;
  int authAttempts_ = 0;
  std::string lastPhrase_, lastError_;
  std::optional<std::chrono::steady_clock::time_point> registeredUntil_, nextAttempt_;
};

}  // namespace rtcgate::sip

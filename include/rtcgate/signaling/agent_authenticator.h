// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/signaling/agent_jwt.h"
#include "rtcgate/signaling/auth_rate_limiter.h"
#include "rtcgate/signaling/digest_auth.h"

namespace rtcgate::signaling {

class SipMessage;

// Decides whether a browser request is from an agent: digest (MD5 or SHA-256, qop=auth) against a configured
// agent's password or HA1, or a JWT agent token (Bearer, agent_tokens: the agent needs no entry at all), with per-IP
// failure rate limiting.
// Unknown users run the same computation against a throw-away HA1, so they cannot be told from wrong passwords.
// A digest must name the request's own Request-URI and a nonce-count above any used before with its nonce, so a
// captured Authorization cannot be replayed (to another destination, or as is from another connection).
// Thread: control.
class AgentAuthenticator {
public:
  static constexpr const char* kRealm = "rtcgate";

  struct Outcome {
    enum class Kind { Authenticated, Challenge, RateLimited } kind = Kind::Challenge;
    std::string user;  // Authenticated: the agent
    std::string dn;
    bool failure = false;  // Challenge because credentials were wrong (counted), not absent or stale
    std::vector<std::string> challenges;  // Challenge: WWW-Authenticate values, SHA-256 then MD5 (see .cpp)
    bool byJwt = false;                    // Authenticated by an agent_tokens JWT (the agent may be unlisted)
    JwtReject jwtReject = JwtReject::None;  // Challenge: why a presented JWT was refused (counted by the caller)
  };

  // nonceKey: random bytes from start (nonces do not survive a restart, which only costs one extra 401).
  AgentAuthenticator(const config::Config& config, std::string nonceKey);
  void applyConfig(const config::Config& config);

  Outcome authenticate(const SipMessage& request, const std::string& sourceIp);
  // The same rules for an HTTP request on the WSS listener (GET /rtcgate/ice-servers): `authorization` is the
  // Authorization header's value (empty when absent), `uri` the request target the digest must name.
  Outcome authenticateHttp(std::string_view method, std::string_view uri, std::string_view authorization,
                           const std::string& sourceIp);

  // Count refused JWTs by reason in `metrics` (rtcgate_agent_token_rejected_total{reason}, docs/metrics.md).
  static constexpr const char* kJwtRejectedMetric = "rtcgate_agent_token_rejected_total";
  void countRejectsIn(Metrics& metrics);

  // For tests: a fixed clock.
  void setClockForTest(std::chrono::system_clock::time_point now) { fixedNow_ = now; }

private:
  // One Authorization header: its scheme and its parameters as "name=value" (a Bearer token as the only one).
  struct Credentials {
    std::string scheme;
    std::vector<std::string> params;
  };
  // fromUser: the SIP request's From user, which a JWT's sub must equal; nullopt for HTTP (no From).
  Outcome authenticateCredentials(const std::vector<Credentials>& all, std::string_view method,
                                  std::string_view requestUri, const std::string& sourceIp,
                                  std::optional<std::string_view> fromUser);
  struct Account {
    std::string dn;
    std::string password;
    std::string ha1;  // MD5 HA1 when configured that way
  };
  std::chrono::system_clock::time_point now() const;
  std::vector<std::string> challenges(bool stale);
  void rememberNonce(const std::string& nonce, int64_t issuedUnix);
  const Account* findAccount(const std::string& user) const;

  // Hashed: a 20,000-agent center looks one up per REGISTER and INVITE.
  std::unordered_map<std::string, Account> accounts_;
  std::string jwtSecret_;
  std::string jwtPreviousSecret_;  // agent_tokens.previous_secret_file: still accepted during a rotation
  std::string jwtIssuer_;
  std::vector<std::string> jwtAudience_;  // agent_tokens.audience
  int64_t jwtMaxLifetimeS_ = 0;
  std::array<std::atomic<uint64_t>*, kJwtRejectCount> jwtRejects_{};
  NonceSigner nonces_;
  AuthRateLimiter limiter_;
  std::string decoyPassword_;
  // RFC 7616 §5.12 replay protection: a signed nonce proves freshness, not single use. Every nonce issued is
  // remembered (at most kMaxIssuedNonces, for the nonce lifetime) with the highest nonce-count used with it; a
  // request must use a higher one. A signed nonce no longer remembered (restart, eviction) gets stale=true.
  struct IssuedNonce {
    int64_t issuedUnix = 0;
    uint32_t highestNc = 0;
  };
  static constexpr size_t kMaxIssuedNonces = 65536;
  std::unordered_map<std::string, IssuedNonce> issued_;
  std::deque<std::string> issuedOrder_;
  std::chrono::system_clock::time_point fixedNow_{};
};

}  // namespace rtcgate::signaling

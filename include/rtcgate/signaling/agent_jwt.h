// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rtcgate::signaling {

// Signed agent tokens as JWTs (RFC 7519) with HS256 only (RFC 7518 3.2), issued by the integrator's backend with
// the `agent_tokens` secret (docs/configuration.md, "Agents at scale"). Claims: sub (the SIP user), dn (optional,
// default sub), exp, and iat or nbf; iss when the section names an issuer; aud (RFC 7519 4.1.3) naming one of the
// section's audience values, and absent when it names none. Pure functions. Thread: any.

enum class JwtReject {
  None,
  Malformed,         // not three base64url parts, a part not base64url, the header or claims not a JSON object
  BadAlgorithm,      // alg other than HS256 ("none" included), or typ other than JWT
  BadSignature,
  Expired,           // exp <= now
  NotYetValid,       // nbf (or iat) > now + skew
  LifetimeTooLong,   // exp - (nbf or iat) > max_lifetime_s
  BadIssuer,         // iss differs from agent_tokens.issuer
  BadAudience,       // aud names none of agent_tokens.audience, is missing when one is set, or present when none is
  MissingClaim,      // no sub or no exp, or neither iat nor nbf
  BadClaim,          // sub or dn not a SIP user token, a time claim not an integer, aud not a string or an array of
                     // at most 16 strings (each at most 256 bytes)
  FromMismatch,      // the request's From user is not sub (checked by AgentAuthenticator)
};
inline constexpr size_t kJwtRejectCount = 12;
const char* toString(JwtReject r);  // the metrics label: "malformed", "bad_algorithm", ...

struct AgentJwtClaims {
  std::string sub;
  std::string dn;  // the claim, or sub when absent
  int64_t exp = 0;
  int64_t notBefore = 0;  // nbf, else iat
};

struct AgentJwtPolicy {
  std::string_view secret;
  std::string_view issuer;  // empty: iss not checked
  int64_t maxLifetimeS = 0;
  // Clock skew between the issuing backend and rtcgate tolerated on nbf/iat (RFC 7519 4.1.5 "some small leeway").
  int64_t skewS = 30;
  // A key rotation's old secret (agent_tokens.previous_secret_file), tried when `secret` does not verify; empty:
  // none. Two keys at most, so a refused token costs at most two HMACs.
  std::string_view previousSecret = {};
  // agent_tokens.audience: a token's aud must name one of these; empty: a token must carry no aud at all.
  std::span<const std::string> audience = {};
};

struct AgentJwtResult {
  JwtReject reject = JwtReject::None;
  AgentJwtClaims claims;  // valid when reject == None
};

AgentJwtResult verifyAgentJwt(const AgentJwtPolicy& policy, std::string_view token, int64_t nowUnix);
// The reference issuer (rtcgate token, tests): header {"alg":"HS256","typ":"JWT"}; aud only when `audience` is
// not empty.
std::string makeAgentJwt(std::string_view secret, std::string_view issuer, std::string_view sub, std::string_view dn,
                         int64_t iat, int64_t exp, std::string_view audience = {});

std::optional<std::string> base64UrlDecode(std::string_view in);

}  // namespace rtcgate::signaling

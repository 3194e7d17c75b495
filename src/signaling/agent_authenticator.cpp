// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/agent_authenticator.h"

#include <sofia-sip/msg_types.h>
#include <sofia-sip/sip.h>
#include <strings.h>

#include <charconv>
#include <optional>

#include "rtcgate/signaling/sip_message.h"

namespace rtcgate::signaling {
namespace {

// Nonces live this long; an older one gets stale=true and the client retries without asking the user.
constexpr auto kNonceLifetime = std::chrono::seconds(300);

bool schemeIs(const char* scheme, const char* name) { return scheme != nullptr && ::strcasecmp(scheme, name) == 0; }

// nc: exactly 8 hex digits (RFC 7616 §3.4).
std::optional<uint32_t> parseNonceCount(const std::string& nc) {
  if (nc.size() != 8) return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(nc.data(), nc.data() + nc.size(), v, 16);
  if (ec != std::errc() || p != nc.data() + nc.size()) return std::nullopt;
  return v;
}

// RFC 7235 2.1: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; auth-params are split at commas
// outside quoted strings. Returns the scheme and "name=value" items as sofia gives them for SIP (a token68 whole).
std::optional<std::pair<std::string, std::vector<std::string>>> parseHttpAuthorization(std::string_view h) {
  if (h.empty() || h.size() > 4096) return std::nullopt;
  size_t sp = h.find(' ');
  std::pair<std::string, std::vector<std::string>> out{std::string(h.substr(0, sp)), {}};
  if (sp == std::string_view::npos) return out;
  std::string item;
  bool quoted = false;
  auto flush = [&] {
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.second.push_back(item.substr(b, e - b + 1));
    item.clear();
  };
  for (size_t i = sp + 1; i < h.size(); ++i) {
    char ch = h[i];
    if (ch == '"') quoted = !quoted;
    if (ch == '\\' && quoted && i + 1 < h.size()) {
      item += ch;
      item += h[++i];
      continue;
    }
    if (ch == ',' && !quoted) {
      flush();
      continue;
    }
    item += ch;
  }
  flush();
  return out;
}

}  // namespace

AgentAuthenticator::AgentAuthenticator(const config::Config& config, std::string nonceKey)
    : nonces_(nonceKey, kNonceLifetime),
      limiter_(config.security.authFailuresPerMinute),
      decoyPassword_(base64UrlEncode(hmacSha256(nonceKey, "decoy"))) {
  applyConfig(config);
}

void AgentAuthenticator::applyConfig(const config::Config& config) {
  // Agents removed here keep their connection and calls; their next REGISTER refresh is challenged and fails
  // (docs/configuration.md, "Agents at scale").
  accounts_.clear();
  accounts_.reserve(config.agents.size());
  for (const auto& a : config.agents)
    accounts_.emplace(a.user, Account{a.dn, a.password.reveal(), a.ha1.reveal()});
  jwtSecret_ = config.agentTokens.secret.reveal();
  jwtPreviousSecret_ = config.agentTokens.previousSecret.reveal();
  jwtIssuer_ = config.agentTokens.issuer;
  jwtAudience_ = config.agentTokens.audience;
  jwtMaxLifetimeS_ = config.agentTokens.maxLifetimeS;
  limiter_.setLimit(config.security.authFailuresPerMinute);
}

void AgentAuthenticator::countRejectsIn(Metrics& metrics) {
  // One labelled family, every reason registered now so that each is rendered (at 0) before its first refusal.
  for (size_t i = 1; i < kJwtRejectCount; ++i)
    jwtRejects_[i] = &metrics.counter(kJwtRejectedMetric, "Agent tokens (agent_tokens JWTs) refused, by reason",
                                      {{"reason", toString(static_cast<JwtReject>(i))}});
}

std::chrono::system_clock::time_point AgentAuthenticator::now() const {
  return fixedNow_ != std::chrono::system_clock::time_point{} ? fixedNow_ : std::chrono::system_clock::now();
}

const AgentAuthenticator::Account* AgentAuthenticator::findAccount(const std::string& user) const {
  auto it = accounts_.find(user);
  return it != accounts_.end() ? &it->second : nullptr;
}

void AgentAuthenticator::rememberNonce(const std::string& nonce, int64_t issuedUnix) {
  // Issuance order is time order: expired nonces are at the front.
  while (!issuedOrder_.empty()) {
    auto it = issued_.find(issuedOrder_.front());
    const bool expired = it == issued_.end() || issuedUnix - it->second.issuedUnix > kNonceLifetime.count();
    if (!expired && issued_.size() < kMaxIssuedNonces) break;
    if (it != issued_.end()) issued_.erase(it);
    issuedOrder_.pop_front();
  }
  if (issued_.emplace(nonce, IssuedNonce{issuedUnix, 0}).second) issuedOrder_.push_back(nonce);
}

std::vector<std::string> AgentAuthenticator::challenges(bool stale) {
  const auto issuedAt = now();
  std::string nonce = nonces_.issue(issuedAt);
  rememberNonce(nonce, std::chrono::duration_cast<std::chrono::seconds>(issuedAt.time_since_epoch()).count());
  std::vector<std::string> out;
  // RFC 8760 3: the preferred algorithm first. Stock JsSIP 3.x and SIP.js 0.21 keep only the LAST
  // WWW-Authenticate (their parsers' setHeader() overwrites) and abort unless it is MD5, so MD5 must come last.
  for (auto alg : {DigestAlgorithm::Sha256, DigestAlgorithm::Md5}) {
    std::string v = "Digest realm=\"";
    v += kRealm;
    v += "\", nonce=\"" + nonce + "\", algorithm=" + std::string(algorithmName(alg)) + ", qop=\"auth\"";
    if (stale) v += ", stale=true";
    out.push_back(std::move(v));
  }
  return out;
}

AgentAuthenticator::Outcome AgentAuthenticator::authenticate(const SipMessage& request, const std::string& sourceIp) {
  std::vector<Credentials> all;
  for (const msg_auth_t* au = request.sip()->sip_authorization; au != nullptr; au = au->au_next) {
    Credentials c;
    c.scheme = au->au_scheme != nullptr ? au->au_scheme : "";
    for (const char* const* p = au->au_params; p != nullptr && *p != nullptr; ++p) c.params.emplace_back(*p);
    all.push_back(std::move(c));
  }
  const sip_from_t* from = request.sip()->sip_from;
  std::string_view fromUser;
  if (from != nullptr && from->a_url->url_user != nullptr) fromUser = from->a_url->url_user;
  return authenticateCredentials(all, request.method(), request.requestUri(), sourceIp, fromUser);
}

AgentAuthenticator::Outcome AgentAuthenticator::authenticateHttp(std::string_view method, std::string_view uri,
                                                                 std::string_view authorization,
                                                                 const std::string& sourceIp) {
  std::vector<Credentials> all;
  if (auto c = parseHttpAuthorization(authorization)) all.push_back(Credentials{c->first, std::move(c->second)});
  return authenticateCredentials(all, method, uri, sourceIp, std::nullopt);
}

AgentAuthenticator::Outcome AgentAuthenticator::authenticateCredentials(const std::vector<Credentials>& all,
                                                                        std::string_view method,
                                                                        std::string_view requestUri,
                                                                        const std::string& sourceIp,
                                                                        std::optional<std::string_view> fromUser) {
  Outcome out;
  auto steadyNow = AuthRateLimiter::Clock::now();
  if (limiter_.blocked(sourceIp, steadyNow)) {
    out.kind = Outcome::Kind::RateLimited;
    return out;
  }
  auto wallNow = now();
  int64_t nowUnix = std::chrono::duration_cast<std::chrono::seconds>(wallNow.time_since_epoch()).count();
  bool stale = false;
  bool failed = false;

  for (const Credentials& au : all) {
    if (schemeIs(au.scheme.c_str(), "Bearer")) {
      // A Bearer credential is an agent_tokens JWT or nothing: the older "<user>.<expires>.<mac>" tokens are gone
      // (CHANGELOG, Unreleased) and fail here as `malformed`.
      failed = true;
      if (au.params.empty() || jwtSecret_.empty()) continue;
      AgentJwtPolicy policy{jwtSecret_, jwtIssuer_, jwtMaxLifetimeS_};
      policy.previousSecret = jwtPreviousSecret_;
      policy.audience = jwtAudience_;
      auto jwt = verifyAgentJwt(policy, au.params[0], nowUnix);
      // RFC 3261 22.3 spirit: the credentials are for the user the request speaks as.
      if (jwt.reject == JwtReject::None && fromUser && *fromUser != jwt.claims.sub) jwt.reject = JwtReject::FromMismatch;
      if (jwt.reject == JwtReject::None) {
        out.kind = Outcome::Kind::Authenticated;
        out.byJwt = true;
        // A listed agent keeps its listed DN (and that DN's upstream credentials): the operator's list outranks
        // the claim, as it did for the token format this one replaced.
        const Account* listed = findAccount(jwt.claims.sub);
        out.dn = listed != nullptr ? listed->dn : std::move(jwt.claims.dn);
        out.user = std::move(jwt.claims.sub);
        return out;
      }
      out.jwtReject = jwt.reject;
      if (auto* c = jwtRejects_[static_cast<size_t>(jwt.reject)]) c->fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!schemeIs(au.scheme.c_str(), "Digest")) continue;
    std::vector<const char*> params;
    for (const auto& p : au.params) params.push_back(p.c_str());
    params.push_back(nullptr);
    auto creds = parseDigestParams(params.data());
    // We only ever offer qop=auth; without it (RFC 2069) there is no nonce-count to stop a replay.
    if (!creds || creds->realm != kRealm || creds->qop.empty()) {
      failed = true;
      continue;
    }
    // RFC 7616 §3.4.6 / RFC 3261 22.4: the digest covers the Request-URI it names, which must be this request's.
    if (creds->uri != requestUri) {
      failed = true;
      continue;
    }
    auto nonceCheck = nonces_.check(creds->nonce, wallNow);
    if (nonceCheck == NonceSigner::Check::Invalid) {
      failed = true;
      continue;
    }
    // Resolve the password or HA1 for this username. Every branch ends in the same digest computation and
    // comparison so that unknown users take the same path as wrong passwords.
    std::string user = creds->username;
    const Account* account = findAccount(user);
    std::string password;
    std::string ha1;
    if (account != nullptr) {
      if (!account->password.empty()) password = account->password;
      else if (creds->algorithm == DigestAlgorithm::Md5) ha1 = account->ha1;
    }
    bool known = account != nullptr && (!password.empty() || !ha1.empty());
    // One HA1 computation on every path (an HA1 account uses its stored value and discards this one).
    std::string computed = digestHa1(creds->algorithm, creds->username, kRealm, known ? password : decoyPassword_);
    if (ha1.empty()) ha1 = std::move(computed);
    std::string expected = digestResponse(creds->algorithm, ha1, creds->nonce, creds->nc, creds->cnonce, creds->qop,
                                          method, creds->uri);
    bool match = constantTimeEquals(expected, creds->response) && known;
    if (!match) {
      failed = true;
      continue;
    }
    if (nonceCheck == NonceSigner::Check::Stale) {
      stale = true;
      continue;
    }
    auto issued = issued_.find(creds->nonce);
    if (issued == issued_.end()) {
      stale = true;  // ours, but forgotten: the client retries with a fresh nonce without asking the user
      continue;
    }
    const auto nc = parseNonceCount(creds->nc);
    if (!nc || *nc <= issued->second.highestNc) {
      failed = true;  // a nonce-count used before with this nonce: a replay
      continue;
    }
    issued->second.highestNc = *nc;
    out.kind = Outcome::Kind::Authenticated;
    out.user = user;
    out.dn = account->dn;
    return out;
  }
  if (failed && !stale) limiter_.recordFailure(sourceIp, steadyNow);
  out.kind = Outcome::Kind::Challenge;
  out.failure = failed && !stale;
  out.challenges = challenges(stale);
  return out;
}

}  // namespace rtcgate::signaling

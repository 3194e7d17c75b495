// SPDX-License-Identifier: Apache-2.0
// JWT agent tokens (agent_tokens): every refusal reason with its exact code, and the authenticator's use of them.
#include "rtcgate/signaling/agent_jwt.h"

#include <gtest/gtest.h>

#include <vector>

#include "rtcgate/signaling/agent_authenticator.h"
#include "rtcgate/signaling/digest_auth.h"
#include "rtcgate/signaling/sip_message.h"

namespace rtcgate::signaling {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-jwt";
constexpr int64_t kNow = 1800000000;
const std::string kHs256 = R"({"alg":"HS256","typ":"JWT"})";

std::string sign(const std::string& header, const std::string& claims, const std::string& secret = kSecret) {
  std::string input = base64UrlEncode(header) + "." + base64UrlEncode(claims);
  return input + "." + base64UrlEncode(hmacSha256(secret, input));
}

std::string claims(const std::string& extra = "") {
  return R"({"sub":"a1","iat":)" + std::to_string(kNow - 10) + R"(,"exp":)" + std::to_string(kNow + 600) + extra + "}";
}

JwtReject check(const std::string& token, const std::string& issuer = "", int64_t maxLifetime = 3600) {
  return verifyAgentJwt(AgentJwtPolicy{kSecret, issuer, maxLifetime}, token, kNow).reject;
}

TEST(AgentJwt, AValidTokenGivesSubAndDnDefaultingToSub) {
  auto r = verifyAgentJwt(AgentJwtPolicy{kSecret, "", 3600}, sign(kHs256, claims()), kNow);
  ASSERT_EQ(r.reject, JwtReject::None);
  EXPECT_EQ(r.claims.sub, "a1");
  EXPECT_EQ(r.claims.dn, "a1");
  EXPECT_EQ(r.claims.exp, kNow + 600);
  r = verifyAgentJwt(AgentJwtPolicy{kSecret, "crm", 3600}, sign(kHs256, claims(R"(,"dn":"7001","iss":"crm")")), kNow);
  ASSERT_EQ(r.reject, JwtReject::None);
  EXPECT_EQ(r.claims.dn, "7001");
}

TEST(AgentJwt, TheReferenceIssuerRoundTrips) {
  auto t = makeAgentJwt(kSecret, "crm", "agent.7", "7007", kNow, kNow + 60);
  auto r = verifyAgentJwt(AgentJwtPolicy{kSecret, "crm", 60}, t, kNow);
  ASSERT_EQ(r.reject, JwtReject::None);
  EXPECT_EQ(r.claims.sub, "agent.7");
  EXPECT_EQ(r.claims.dn, "7007");
}

TEST(AgentJwt, DuringARotationThePreviousSecretIsAcceptedToo) {
  const std::string previous = "previous-secret-previous-secret-0123";
  const std::string stranger = "stranger-secret-stranger-secret-0123";
  AgentJwtPolicy policy{kSecret, "", 3600};
  policy.previousSecret = previous;
  EXPECT_EQ(verifyAgentJwt(policy, sign(kHs256, claims()), kNow).reject, JwtReject::None);
  EXPECT_EQ(verifyAgentJwt(policy, sign(kHs256, claims(), previous), kNow).reject, JwtReject::None);
  EXPECT_EQ(verifyAgentJwt(policy, sign(kHs256, claims(), stranger), kNow).reject, JwtReject::BadSignature);
  // Once the rotation ends (no previous secret), the old secret's tokens are refused.
  EXPECT_EQ(check(sign(kHs256, claims(), previous)), JwtReject::BadSignature);
  // The previous secret alone (no current one) authenticates nothing: an empty key never verifies.
  AgentJwtPolicy onlyPrevious{"", "", 3600};
  onlyPrevious.previousSecret = previous;
  EXPECT_EQ(verifyAgentJwt(onlyPrevious, sign(kHs256, claims(), ""), kNow).reject, JwtReject::BadSignature);
}

TEST(AgentJwt, AlgorithmsOtherThanHs256AreRefusedNoneIncluded) {
  std::string input = base64UrlEncode(R"({"alg":"none"})") + "." + base64UrlEncode(claims());
  EXPECT_EQ(check(input + "."), JwtReject::BadAlgorithm);
  EXPECT_EQ(check(sign(R"({"alg":"HS512","typ":"JWT"})", claims())), JwtReject::BadAlgorithm);
  EXPECT_EQ(check(sign(R"({"alg":"RS256"})", claims())), JwtReject::BadAlgorithm);
  EXPECT_EQ(check(sign(R"({"typ":"JWT"})", claims())), JwtReject::BadAlgorithm);
  EXPECT_EQ(check(sign(R"({"alg":"HS256","typ":"JOSE+JSON"})", claims())), JwtReject::BadAlgorithm);
  EXPECT_EQ(check(sign(R"({"alg":"HS256","crit":["exp"]})", claims())), JwtReject::BadAlgorithm);
}

TEST(AgentJwt, AnotherSecretOrAlteredClaimsFailTheSignature) {
  EXPECT_EQ(check(sign(kHs256, claims(), "another-secret-another-secret-0123")), JwtReject::BadSignature);
  auto good = sign(kHs256, claims());
  auto d1 = good.find('.');
  auto d2 = good.find('.', d1 + 1);
  auto altered = good.substr(0, d1 + 1) + base64UrlEncode(claims(R"(,"dn":"9999")")) + good.substr(d2);
  EXPECT_EQ(check(altered), JwtReject::BadSignature);
  EXPECT_EQ(verifyAgentJwt(AgentJwtPolicy{"", "", 3600}, good, kNow).reject, JwtReject::BadSignature);
}

TEST(AgentJwt, TimeClaimsAreEnforced) {
  auto t = [](int64_t iat, int64_t exp, const char* nbfKey = "iat") {
    return sign(kHs256, R"({"sub":"a1",")" + std::string(nbfKey) + R"(":)" + std::to_string(iat) + R"(,"exp":)" +
                            std::to_string(exp) + "}");
  };
  EXPECT_EQ(check(t(kNow - 100, kNow)), JwtReject::Expired);  // exp is the first instant it is invalid
  EXPECT_EQ(check(t(kNow - 100, kNow + 1)), JwtReject::None);
  EXPECT_EQ(check(t(kNow + 31, kNow + 100, "nbf")), JwtReject::NotYetValid);  // beyond the 30 s skew
  EXPECT_EQ(check(t(kNow + 30, kNow + 100, "nbf")), JwtReject::None);
  EXPECT_EQ(check(t(kNow, kNow + 3601)), JwtReject::LifetimeTooLong);
  EXPECT_EQ(check(t(kNow, kNow + 3600)), JwtReject::None);
}

TEST(AgentJwt, IssuerIsCheckedWhenConfigured) {
  EXPECT_EQ(check(sign(kHs256, claims(R"(,"iss":"other")")), "crm"), JwtReject::BadIssuer);
  EXPECT_EQ(check(sign(kHs256, claims()), "crm"), JwtReject::BadIssuer);
  EXPECT_EQ(check(sign(kHs256, claims(R"(,"iss":"other")"))), JwtReject::None);
}

// RFC 7519 4.1.3: aud is checked against agent_tokens.audience; with none configured rtcgate identifies with no
// audience, so a token meant for one (any aud at all) is refused.
JwtReject checkAud(const std::string& audClaim, std::vector<std::string> audience) {
  AgentJwtPolicy policy{kSecret, "", 3600};
  policy.audience = audience;
  return verifyAgentJwt(policy, sign(kHs256, claims(audClaim)), kNow).reject;
}

TEST(AgentJwt, AudienceMatchesOneConfiguredValueAsAStringOrInAnArray) {
  const std::vector<std::string> ours{"wss://gw.example.com", "rtcgate"};
  EXPECT_EQ(checkAud(R"(,"aud":"rtcgate")", ours), JwtReject::None);
  EXPECT_EQ(checkAud(R"(,"aud":"wss://gw.example.com")", ours), JwtReject::None);
  EXPECT_EQ(checkAud(R"(,"aud":["crm-api","rtcgate"])", ours), JwtReject::None);
  EXPECT_EQ(checkAud(R"(,"aud":["rtcgate"])", ours), JwtReject::None);
  EXPECT_EQ(checkAud(R"(,"aud":"wss:\/\/gw.example.com")", ours), JwtReject::None);  // JSON escapes decoded first
}

TEST(AgentJwt, AudienceNotNamingUsOrMissingIsRefused) {
  const std::vector<std::string> ours{"rtcgate"};
  EXPECT_EQ(checkAud(R"(,"aud":"crm-api")", ours), JwtReject::BadAudience);
  EXPECT_EQ(checkAud(R"(,"aud":["crm-api","billing"])", ours), JwtReject::BadAudience);
  EXPECT_EQ(checkAud(R"(,"aud":[])", ours), JwtReject::BadAudience);
  EXPECT_EQ(checkAud(R"(,"aud":"RTCGATE")", ours), JwtReject::BadAudience);  // case-sensitive (RFC 7519 2)
  EXPECT_EQ(checkAud(R"(,"aud":"rtcgate ")", ours), JwtReject::BadAudience);
  EXPECT_EQ(checkAud(R"(,"aud":"")", ours), JwtReject::BadAudience);
  EXPECT_EQ(checkAud("", ours), JwtReject::BadAudience);  // configured: aud is required
}

TEST(AgentJwt, AnyAudienceIsRefusedWhenNoneIsConfigured) {
  EXPECT_EQ(checkAud("", {}), JwtReject::None);
  EXPECT_EQ(checkAud(R"(,"aud":"rtcgate")", {}), JwtReject::BadAudience);
  EXPECT_EQ(checkAud(R"(,"aud":["rtcgate"])", {}), JwtReject::BadAudience);
  EXPECT_EQ(checkAud(R"(,"aud":[])", {}), JwtReject::BadAudience);
  EXPECT_EQ(checkAud(R"(,"aud":"")", {}), JwtReject::BadAudience);
}

TEST(AgentJwt, AudienceOfAnotherTypeOrOversizeIsABadClaim) {
  for (const std::vector<std::string>& audience : {std::vector<std::string>{"rtcgate"}, std::vector<std::string>{}}) {
    EXPECT_EQ(checkAud(R"(,"aud":1)", audience), JwtReject::BadClaim);
    EXPECT_EQ(checkAud(R"(,"aud":{"rtcgate":1})", audience), JwtReject::BadClaim);
    EXPECT_EQ(checkAud(R"(,"aud":null)", audience), JwtReject::BadClaim);
    EXPECT_EQ(checkAud(R"(,"aud":true)", audience), JwtReject::BadClaim);
    EXPECT_EQ(checkAud(R"(,"aud":[1])", audience), JwtReject::BadClaim);
    EXPECT_EQ(checkAud(R"(,"aud":["rtcgate",1])", audience), JwtReject::BadClaim);  // a match does not excuse it
    EXPECT_EQ(checkAud(R"(,"aud":["rtcgate",["x"]])", audience), JwtReject::BadClaim);
    EXPECT_EQ(checkAud(R"(,"aud":["rtcgate",null])", audience), JwtReject::BadClaim);
  }
  // At most 16 values of at most 256 bytes each, as in the configuration.
  std::string sixteen = R"(,"aud":["rtcgate")", seventeen;
  for (int i = 1; i < 16; ++i) sixteen += R"(,"other)" + std::to_string(i) + R"(")";
  seventeen = sixteen + R"(,"other16"])";
  sixteen += "]";
  EXPECT_EQ(checkAud(sixteen, {"rtcgate"}), JwtReject::None);
  EXPECT_EQ(checkAud(seventeen, {"rtcgate"}), JwtReject::BadClaim);
  const std::string long256(256, 'a');
  EXPECT_EQ(checkAud(",\"aud\":\"" + long256 + "\"", {long256}), JwtReject::None);
  EXPECT_EQ(checkAud(",\"aud\":\"" + long256 + "a\"", {"rtcgate"}), JwtReject::BadClaim);
  EXPECT_EQ(checkAud(",\"aud\":[\"rtcgate\",\"" + long256 + "a\"]", {"rtcgate"}), JwtReject::BadClaim);
}

TEST(AgentJwt, TheSignatureIsCheckedBeforeTheAudience) {
  AgentJwtPolicy policy{kSecret, "", 3600};
  const std::vector<std::string> ours{"rtcgate"};
  policy.audience = ours;
  const std::string stranger = "stranger-secret-stranger-secret-0123";
  EXPECT_EQ(verifyAgentJwt(policy, sign(kHs256, claims(R"(,"aud":"crm-api")"), stranger), kNow).reject,
            JwtReject::BadSignature);
  EXPECT_EQ(verifyAgentJwt(policy, sign(kHs256, claims(R"(,"aud":1)"), stranger), kNow).reject,
            JwtReject::BadSignature);
}

TEST(AgentJwt, TheReferenceIssuerPutsTheAudienceInAud) {
  const std::vector<std::string> ours{"wss://gw.example.com"};
  AgentJwtPolicy policy{kSecret, "", 60};
  policy.audience = ours;
  EXPECT_EQ(verifyAgentJwt(policy, makeAgentJwt(kSecret, "", "a1", "", kNow, kNow + 60, ours[0]), kNow).reject,
            JwtReject::None);
  EXPECT_EQ(verifyAgentJwt(policy, makeAgentJwt(kSecret, "", "a1", "", kNow, kNow + 60), kNow).reject,
            JwtReject::BadAudience);
  policy.audience = {};
  EXPECT_EQ(verifyAgentJwt(policy, makeAgentJwt(kSecret, "", "a1", "", kNow, kNow + 60), kNow).reject,
            JwtReject::None);
}

TEST(AgentJwt, MissingAndBadClaims) {
  EXPECT_EQ(check(sign(kHs256, R"({"iat":1,"exp":1800000100})")), JwtReject::MissingClaim);
  EXPECT_EQ(check(sign(kHs256, R"({"sub":"a1","iat":1799999990})")), JwtReject::MissingClaim);
  EXPECT_EQ(check(sign(kHs256, R"({"sub":"a1","exp":1800000100})")), JwtReject::MissingClaim);
  EXPECT_EQ(check(sign(kHs256, R"({"sub":1001,"iat":1799999990,"exp":1800000100})")), JwtReject::BadClaim);
  EXPECT_EQ(check(sign(kHs256, R"({"sub":"a1@evil","iat":1799999990,"exp":1800000100})")), JwtReject::BadClaim);
  EXPECT_EQ(check(sign(kHs256, R"({"sub":"a1","iat":1799999990,"exp":"1800000100"})")), JwtReject::BadClaim);
  EXPECT_EQ(check(sign(kHs256, R"({"sub":"a1","iat":1799999990,"exp":1800000100.5})")), JwtReject::BadClaim);
  EXPECT_EQ(check(sign(kHs256, claims(R"(,"dn":"70 01")"))), JwtReject::BadClaim);
}

TEST(AgentJwt, MalformedTokens) {
  auto good = sign(kHs256, claims());
  EXPECT_EQ(check(""), JwtReject::Malformed);
  EXPECT_EQ(check(good.substr(0, good.rfind('.'))), JwtReject::Malformed);  // two parts
  EXPECT_EQ(check(good + ".x"), JwtReject::Malformed);                        // four parts
  EXPECT_EQ(check(good + "="), JwtReject::Malformed);                         // padding is not base64url (RFC 7515 2)
  EXPECT_EQ(check("e*J." + good.substr(good.find('.') + 1)), JwtReject::Malformed);
  EXPECT_EQ(check(sign("not json", claims())), JwtReject::Malformed);
  EXPECT_EQ(check(sign(R"({"alg":"HS256","alg":"none"})", claims())), JwtReject::Malformed);  // duplicate member
  EXPECT_EQ(check(sign(kHs256, R"({"sub":"a1","sub":"a2","iat":1799999990,"exp":1800000100})")), JwtReject::Malformed);
  EXPECT_EQ(check(sign(kHs256, claims() + "trailing")), JwtReject::Malformed);
  EXPECT_EQ(check(sign(kHs256, R"({"sub":"a1","x":[[[[[[[[[[1]]]]]]]]]],"iat":1799999990,"exp":1800000100})")),
            JwtReject::Malformed);  // nesting beyond the bound
  EXPECT_EQ(check(sign(kHs256, R"({"sub":"a1","x":{"y":[1,"z",null]},"iat":1799999990,"exp":1800000100})")),
            JwtReject::None);  // other claims, nested, are allowed
  EXPECT_EQ(check(std::string(5000, 'e')), JwtReject::Malformed);
}

TEST(AgentJwt, ReasonNamesAreTheMetricLabels) {
  EXPECT_STREQ(toString(JwtReject::Malformed), "malformed");
  EXPECT_STREQ(toString(JwtReject::BadAlgorithm), "bad_algorithm");
  EXPECT_STREQ(toString(JwtReject::BadSignature), "bad_signature");
  EXPECT_STREQ(toString(JwtReject::Expired), "expired");
  EXPECT_STREQ(toString(JwtReject::NotYetValid), "not_yet_valid");
  EXPECT_STREQ(toString(JwtReject::LifetimeTooLong), "lifetime_too_long");
  EXPECT_STREQ(toString(JwtReject::BadIssuer), "bad_issuer");
  EXPECT_STREQ(toString(JwtReject::BadAudience), "bad_audience");
  EXPECT_STREQ(toString(JwtReject::MissingClaim), "missing_claim");
  EXPECT_STREQ(toString(JwtReject::BadClaim), "bad_claim");
  EXPECT_STREQ(toString(JwtReject::FromMismatch), "from_mismatch");
}

config::Config jwtConfig() {
  config::Config c;
  c.agentTokens.secret = Secret(kSecret);
  c.agentTokens.maxLifetimeS = 3600;
  return c;
}

std::string registerFrom(const std::string& fromUser, const std::string& token) {
  return "REGISTER sip:rtcgate.invalid SIP/2.0\r\nVia: SIP/2.0/WSS h.invalid;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n"
         "From: <sip:" + fromUser + "@rtcgate.invalid>;tag=1\r\nTo: <sip:" + fromUser + "@rtcgate.invalid>\r\n"
         "Call-ID: c1\r\nCSeq: 1 REGISTER\r\nAuthorization: Bearer " + token + "\r\nContent-Length: 0\r\n\r\n";
}

// The series rtcgate_agent_token_rejected_total{reason="<reason>"} as /metrics renders it.
uint64_t rejected(Metrics& metrics, const std::string& reason) {
  return metrics.counter(AgentAuthenticator::kJwtRejectedMetric, "", {{"reason", reason}}).load();
}

// jwtConfig() with agent 1001 (password demo-1001, DN 5001) listed.
config::Config listedAgentConfig() {
  config::Config c = jwtConfig();
  config::Agent listed;
  listed.user = "1001";
  listed.password = Secret("demo-1001");
  listed.dn = "5001";
  c.agents = {listed};
  return c;
}

// An authenticator at kNow counting its refusals in its own Metrics.
struct CountingAuthenticator {
  explicit CountingAuthenticator(const config::Config& c) : auth(c, "nonce-key-nonce-key-nonce-key-00") {
    auth.countRejectsIn(metrics);
    auth.setClockForTest(std::chrono::system_clock::time_point(std::chrono::seconds(kNow)));
  }
  Metrics metrics;
  AgentAuthenticator auth;
};

TEST(AgentJwt, TheAuthenticatorTakesAnUnlistedAgentAndCountsRefusalsByReason) {
  Metrics metrics;
  AgentAuthenticator auth(jwtConfig(), "nonce-key-nonce-key-nonce-key-00");
  auth.countRejectsIn(metrics);
  auth.setClockForTest(std::chrono::system_clock::time_point(std::chrono::seconds(kNow)));
  const auto token = makeAgentJwt(kSecret, "", "a1", "7001", kNow, kNow + 600);

  auto ok = auth.authenticateHttp("GET", "/rtcgate/ice-servers", "Bearer " + token, "192.0.2.1");
  ASSERT_EQ(ok.kind, AgentAuthenticator::Outcome::Kind::Authenticated);
  EXPECT_TRUE(ok.byJwt);
  EXPECT_EQ(ok.user, "a1");
  EXPECT_EQ(ok.dn, "7001");

  auto parsed = SipMessage::parse(registerFrom("a1", token));
  ASSERT_TRUE(parsed.message);
  EXPECT_EQ(auth.authenticate(*parsed.message, "192.0.2.1").kind, AgentAuthenticator::Outcome::Kind::Authenticated);

  parsed = SipMessage::parse(registerFrom("a2", token));
  ASSERT_TRUE(parsed.message);
  auto mismatch = auth.authenticate(*parsed.message, "192.0.2.1");
  EXPECT_EQ(mismatch.kind, AgentAuthenticator::Outcome::Kind::Challenge);
  EXPECT_TRUE(mismatch.failure);
  EXPECT_EQ(mismatch.jwtReject, JwtReject::FromMismatch);
  EXPECT_EQ(rejected(metrics, "from_mismatch"), 1u);

  auto expired = makeAgentJwt(kSecret, "", "a1", "", kNow - 600, kNow - 1);
  auto bad = auth.authenticateHttp("GET", "/rtcgate/ice-servers", "Bearer " + expired, "192.0.2.1");
  EXPECT_EQ(bad.kind, AgentAuthenticator::Outcome::Kind::Challenge);
  EXPECT_EQ(bad.jwtReject, JwtReject::Expired);
  EXPECT_EQ(bad.challenges.size(), 2u);  // 401 with the digest challenges, as for any failed credentials
  EXPECT_EQ(rejected(metrics, "expired"), 1u);
  EXPECT_EQ(rejected(metrics, "bad_signature"), 0u);

  // Without the section, a JWT authenticates no one.
  AgentAuthenticator off(config::Config{}, "nonce-key-nonce-key-nonce-key-00");
  EXPECT_EQ(off.authenticateHttp("GET", "/rtcgate/ice-servers", "Bearer " + token, "192.0.2.1").kind,
            AgentAuthenticator::Outcome::Kind::Challenge);
}

// One case per refusal reason, each through the authenticator as a browser's REGISTER from "a1" (the From user the
// token must name): the reason's series of the one labelled family goes to 1, every other reason's stays rendered
// at 0, and no per-reason metric name of old exists.
struct RefusalCase {
  JwtReject reason;
  std::string token;
};

std::vector<RefusalCase> refusalCases() {
  const auto t = [](int64_t iat, int64_t exp, const char* key = "iat") {
    return sign(kHs256, R"({"sub":"a1",")" + std::string(key) + R"(":)" + std::to_string(iat) + R"(,"exp":)" +
                            std::to_string(exp) + "}");
  };
  return {
      {JwtReject::Malformed, sign("not json", claims())},
      {JwtReject::BadAlgorithm, sign(R"({"alg":"HS512","typ":"JWT"})", claims())},
      {JwtReject::BadSignature, sign(kHs256, claims(), "another-secret-another-secret-0123")},
      {JwtReject::Expired, t(kNow - 100, kNow)},
      {JwtReject::NotYetValid, t(kNow + 31, kNow + 100, "nbf")},
      {JwtReject::LifetimeTooLong, t(kNow, kNow + 3601)},
      {JwtReject::BadIssuer, sign(kHs256, claims(R"(,"iss":"other")"))},
      {JwtReject::BadAudience, sign(kHs256, claims(R"(,"aud":"another-service")"))},
      {JwtReject::MissingClaim, sign(kHs256, R"({"sub":"a1","iat":1799999990})")},
      {JwtReject::BadClaim, sign(kHs256, claims(R"(,"dn":"70 01")"))},
      {JwtReject::FromMismatch, makeAgentJwt(kSecret, "", "a2", "", kNow, kNow + 60)},
  };
}

class AgentJwtRefusal : public ::testing::TestWithParam<size_t> {};

TEST_P(AgentJwtRefusal, IsCountedUnderItsReasonInTheLabelledFamily) {
  const auto cases = refusalCases();
  ASSERT_EQ(cases.size(), kJwtRejectCount - 1);  // a new reason needs its case here
  const RefusalCase& c = cases[GetParam()];
  config::Config cfg = jwtConfig();
  if (c.reason == JwtReject::BadIssuer) cfg.agentTokens.issuer = "crm";  // iss is checked only when configured
  if (c.reason == JwtReject::BadAudience) cfg.agentTokens.audience = {"rtcgate", "wss://gw.example.com"};
  CountingAuthenticator counting(cfg);
  auto& [metrics, auth] = counting;
  const std::string& token = c.token;
  auto parsed = SipMessage::parse(registerFrom("a1", token));
  ASSERT_TRUE(parsed.message);
  auto out = auth.authenticate(*parsed.message, "192.0.2.1");
  EXPECT_EQ(out.kind, AgentAuthenticator::Outcome::Kind::Challenge);
  EXPECT_TRUE(out.failure);
  EXPECT_EQ(out.jwtReject, c.reason) << toString(out.jwtReject);
  const std::string text = metrics.renderPrometheus();
  for (size_t i = 1; i < kJwtRejectCount; ++i) {
    const std::string reason = toString(static_cast<JwtReject>(i));
    const std::string line = "rtcgate_agent_token_rejected_total{reason=\"" + reason + "\"} " +
                             (static_cast<JwtReject>(i) == c.reason ? "1" : "0") + "\n";
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
  EXPECT_EQ(text.find("# TYPE rtcgate_agent_token_rejected_total counter\n"), text.find("# TYPE rtcgate_agent_token"))
      << text;  // one family, typed once
  EXPECT_EQ(text.find("rtcgate_agent_token_rejected_" + std::string(toString(c.reason)) + "_total"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(AgentJwt, AgentJwtRefusal, ::testing::Range<size_t>(0, kJwtRejectCount - 1),
                         [](const ::testing::TestParamInfo<size_t>& p) {
                           return std::string(toString(refusalCases()[p.param].reason));
                         });

// The format this one replaced, "<user>.<expires>.base64url(HMAC-SHA256(secret, "agent-token:" user "." expires))",
// built here by hand (its code is gone): refused as a Bearer (malformed) and as digest credentials (its username
// "<user>.<expires>" is no agent), even for a listed agent and with the very secret that signed it.
TEST(AgentJwt, TheOlderUserExpiresMacTokensAreRefused) {
  CountingAuthenticator counting(listedAgentConfig());
  auto& [metrics, auth] = counting;
  const std::string head = "1001." + std::to_string(kNow + 600);
  const std::string mac = base64UrlEncode(hmacSha256(kSecret, "agent-token:" + head));
  const std::string oldToken = head + "." + mac;

  auto bearer = auth.authenticate(*SipMessage::parse(registerFrom("1001", oldToken)).message, "192.0.2.1");
  EXPECT_EQ(bearer.kind, AgentAuthenticator::Outcome::Kind::Challenge);
  EXPECT_TRUE(bearer.failure);
  EXPECT_EQ(bearer.jwtReject, JwtReject::Malformed);
  EXPECT_EQ(rejected(metrics, "malformed"), 1u);
  auto http = auth.authenticateHttp("GET", "/rtcgate/ice-servers", "Bearer " + oldToken, "192.0.2.1");
  EXPECT_EQ(http.kind, AgentAuthenticator::Outcome::Kind::Challenge);
  EXPECT_EQ(rejected(metrics, "malformed"), 2u);

  // As digest: username "<user>.<expires>", the MAC as the password, answering a real challenge of ours.
  auto challenge = auth.authenticateHttp("GET", "/rtcgate/ice-servers", "", "192.0.2.1");
  ASSERT_EQ(challenge.challenges.size(), 2u);
  const std::string& md5 = challenge.challenges[1];
  const auto n0 = md5.find("nonce=\"") + 7;
  const std::string nonce = md5.substr(n0, md5.find('"', n0) - n0);
  const std::string ha1 = digestHa1(DigestAlgorithm::Md5, head, "rtcgate", mac);
  const std::string response =
      digestResponse(DigestAlgorithm::Md5, ha1, nonce, "00000001", "c0ffee", "auth", "GET", "/rtcgate/ice-servers");
  const std::string authorization = "Digest username=\"" + head + "\", realm=\"rtcgate\", nonce=\"" + nonce +
                                    "\", uri=\"/rtcgate/ice-servers\", response=\"" + response +
                                    "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"";
  auto digest = auth.authenticateHttp("GET", "/rtcgate/ice-servers", authorization, "192.0.2.1");
  EXPECT_EQ(digest.kind, AgentAuthenticator::Outcome::Kind::Challenge);
  EXPECT_TRUE(digest.failure);

  // The same digest with the agent's real password passes: the refusal above is the token's, not the harness's.
  auto challenge2 = auth.authenticateHttp("GET", "/rtcgate/ice-servers", "", "192.0.2.1");
  const std::string& md5b = challenge2.challenges[1];
  const auto n1 = md5b.find("nonce=\"") + 7;
  const std::string nonce2 = md5b.substr(n1, md5b.find('"', n1) - n1);
  const std::string good = digestResponse(DigestAlgorithm::Md5, digestHa1(DigestAlgorithm::Md5, "1001", "rtcgate",
                                                                          "demo-1001"),
                                          nonce2, "00000001", "c0ffee", "auth", "GET", "/rtcgate/ice-servers");
  auto ok = auth.authenticateHttp("GET", "/rtcgate/ice-servers",
                                  "Digest username=\"1001\", realm=\"rtcgate\", nonce=\"" + nonce2 +
                                      "\", uri=\"/rtcgate/ice-servers\", response=\"" + good +
                                      "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"",
                                  "192.0.2.1");
  EXPECT_EQ(ok.kind, AgentAuthenticator::Outcome::Kind::Authenticated);
  EXPECT_EQ(ok.user, "1001");
}

// The authenticator applies agent_tokens.audience, and a reload that sets or clears it applies at once.
TEST(AgentJwt, TheAuthenticatorAppliesTheAudienceAndItsReload) {
  config::Config cfg = jwtConfig();
  CountingAuthenticator counting(cfg);
  auto& [metrics, auth] = counting;
  const auto plain = "Bearer " + makeAgentJwt(kSecret, "", "a1", "", kNow, kNow + 60);
  const auto forUs = "Bearer " + makeAgentJwt(kSecret, "", "a1", "", kNow, kNow + 60, "wss://gw.example.com");
  const auto forOthers = "Bearer " + makeAgentJwt(kSecret, "", "a1", "", kNow, kNow + 60, "crm-api");
  using Kind = AgentAuthenticator::Outcome::Kind;
  EXPECT_EQ(auth.authenticateHttp("GET", "/x", plain, "192.0.2.1").kind, Kind::Authenticated);
  EXPECT_EQ(auth.authenticateHttp("GET", "/x", forUs, "192.0.2.1").jwtReject, JwtReject::BadAudience);
  cfg.agentTokens.audience = {"rtcgate", "wss://gw.example.com"};
  auth.applyConfig(cfg);
  EXPECT_EQ(auth.authenticateHttp("GET", "/x", forUs, "192.0.2.1").kind, Kind::Authenticated);
  EXPECT_EQ(auth.authenticateHttp("GET", "/x", forOthers, "192.0.2.1").jwtReject, JwtReject::BadAudience);
  EXPECT_EQ(auth.authenticateHttp("GET", "/x", plain, "192.0.2.1").jwtReject, JwtReject::BadAudience);
  EXPECT_EQ(rejected(metrics, "bad_audience"), 3u);
}

// A JWT for a listed agent gets the listed DN whatever the claim says; the list is the operator's word. A rotation
// secret is accepted by the authenticator too.
TEST(AgentJwt, AListedAgentKeepsItsDnAndThePreviousSecretIsAccepted) {
  config::Config cfg = listedAgentConfig();
  cfg.agentTokens.previousSecret = Secret("previous-secret-previous-secret-0123");
  CountingAuthenticator counting(cfg);
  auto& [metrics, auth] = counting;
  auto out = auth.authenticateHttp("GET", "/x", "Bearer " + makeAgentJwt(kSecret, "", "1001", "9999", kNow, kNow + 60),
                                   "192.0.2.1");
  ASSERT_EQ(out.kind, AgentAuthenticator::Outcome::Kind::Authenticated);
  EXPECT_EQ(out.dn, "5001");
  out = auth.authenticateHttp(
      "GET", "/x", "Bearer " + makeAgentJwt("previous-secret-previous-secret-0123", "", "a9", "", kNow, kNow + 60),
      "192.0.2.1");
  ASSERT_EQ(out.kind, AgentAuthenticator::Outcome::Kind::Authenticated);
  EXPECT_EQ(out.dn, "a9");
  // After the reload that ends the rotation, the previous secret's tokens are refused.
  cfg.agentTokens.previousSecret = Secret();
  auth.applyConfig(cfg);
  out = auth.authenticateHttp(
      "GET", "/x", "Bearer " + makeAgentJwt("previous-secret-previous-secret-0123", "", "a9", "", kNow, kNow + 60),
      "192.0.2.1");
  EXPECT_EQ(out.jwtReject, JwtReject::BadSignature);
  EXPECT_EQ(rejected(metrics, "bad_signature"), 1u);
}

}  // namespace
}  // namespace rtcgate::signaling

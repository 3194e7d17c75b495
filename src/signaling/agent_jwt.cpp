// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/agent_jwt.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/signaling/digest_auth.h"

namespace rtcgate::signaling {
namespace {

// Bounds: a JWT with a few claims is ~250 bytes; JsSIP sends it in one header.
constexpr size_t kMaxTokenBytes = 4096;
constexpr int kMaxJsonDepth = 8;

// The top-level members of a JSON object (RFC 8259): strings as their decoded text, numbers as their literal,
// true/false/null as such; nested arrays and objects are checked for syntax and kept as "{}"/"[]", a member that is
// an array also with its string elements (aud, RFC 7519 4.1.3: a string or an array of strings). A duplicate
// member name makes the object invalid (RFC 7519 4: "MUST either reject ... or use a JSON parser that returns
// only the lexically last"; rejecting removes the ambiguity an attacker could use).
struct JsonValue {
  std::string text;
  bool isString = false;
  bool isArray = false;
  bool arrayOfStrings = true;         // isArray: every element is a string
  std::vector<std::string> elements;  // isArray: the string elements, decoded (bounded by kMaxTokenBytes)
};
using JsonObject = std::map<std::string, JsonValue>;

class JsonObjectReader {
public:
  explicit JsonObjectReader(std::string_view text) : s_(text) {}

  std::optional<JsonObject> read() {
    JsonObject out;
    skipWs();
    if (!eat('{')) return std::nullopt;
    skipWs();
    if (eat('}')) return finish(out);
    for (;;) {
      skipWs();
      auto name = string();
      if (!name) return std::nullopt;
      skipWs();
      if (!eat(':')) return std::nullopt;
      skipWs();
      JsonValue v;
      v.isString = i_ < s_.size() && s_[i_] == '"';
      v.isArray = i_ < s_.size() && s_[i_] == '[';
      auto value = anyValue(1, v.isArray ? &v : nullptr);
      if (!value) return std::nullopt;
      v.text = std::move(*value);
      if (!out.emplace(std::move(*name), std::move(v)).second) return std::nullopt;
      skipWs();
      if (eat('}')) return finish(out);
      if (!eat(',')) return std::nullopt;
    }
  }

private:
  std::optional<JsonObject> finish(JsonObject& out) {
    skipWs();
    if (i_ != s_.size()) return std::nullopt;
    return std::move(out);
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void skipWs() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  static void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (i_ + 4 > s_.size()) return std::nullopt;
          uint32_t cp = 0;
          auto [p, ec] = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, cp, 16);
          if (ec != std::errc() || p != s_.data() + i_ + 4) return std::nullopt;
          i_ += 4;
          // Surrogates are never valid in the claims we read (SIP user tokens): keep them as U+FFFD.
          appendUtf8(out, (cp >= 0xD800 && cp <= 0xDFFF) ? 0xFFFD : cp);
          break;
        }
        default: return std::nullopt;
      }
    }
    return std::nullopt;
  }
  std::optional<std::string> number() {
    size_t b = i_;
    eat('-');
    while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E' ||
                              s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    if (i_ == b) return std::nullopt;
    return std::string(s_.substr(b, i_ - b));
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  // `array`: where a top-level array's elements go (JsonValue::elements, arrayOfStrings); nullptr elsewhere.
  std::optional<std::string> anyValue(int depth, JsonValue* array = nullptr) {
    if (depth > kMaxJsonDepth || i_ >= s_.size()) return std::nullopt;
    char c = s_[i_];
    if (c == '"') return string();
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++i_;
      skipWs();
      if (eat(close)) return std::string(1, c) + close;
      for (;;) {
        skipWs();
        if (c == '{') {
          if (!string()) return std::nullopt;
          skipWs();
          if (!eat(':')) return std::nullopt;
          skipWs();
        }
        if (array != nullptr && c == '[' && i_ < s_.size() && s_[i_] == '"') {
          auto element = string();
          if (!element) return std::nullopt;
          array->elements.push_back(std::move(*element));
        } else {
          if (array != nullptr) array->arrayOfStrings = false;
          if (!anyValue(depth + 1)) return std::nullopt;
        }
        skipWs();
        if (eat(close)) return std::string(1, c) + close;
        if (!eat(',')) return std::nullopt;
      }
    }
    if (literal("true")) return std::string("true");
    if (literal("false")) return std::string("false");
    if (literal("null")) return std::string("null");
    return number();
  }

  std::string_view s_;
  size_t i_ = 0;
};

// NumericDate (RFC 7519 2): seconds; we take integers only.
std::optional<int64_t> numericDate(const JsonObject& claims, const char* name, bool& bad) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  int64_t v = 0;
  const auto& s = it->second.text;
  if (it->second.isString) {
    bad = true;
    return std::nullopt;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) {
    bad = true;
    return std::nullopt;
  }
  return v;
}

// The same character set as a configured agent's user and dn (config Field::asToken, RFC 3261 25.1).
bool isSipUserToken(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()+") ==
             std::string_view::npos;
}

// aud (RFC 7519 4.1.3): a StringOrURI or an array of them, compared as exact strings (RFC 7519 2). Present, it
// must name a value this rtcgate answers to, and with none configured nothing does; absent, it passes only when
// none is configured. The type is checked first, whatever is configured: a token of the wrong shape is bad_claim.
JwtReject checkAudience(const JsonObject& claims, std::span<const std::string> accepted) {
  auto aud = claims.find("aud");
  if (aud == claims.end()) return accepted.empty() ? JwtReject::None : JwtReject::BadAudience;
  const JsonValue& v = aud->second;
  std::vector<std::string_view> named;
  if (v.isString) named.push_back(v.text);
  else if (v.isArray && v.arrayOfStrings && v.elements.size() <= config::AgentTokens::kMaxAudienceValues)
    named.assign(v.elements.begin(), v.elements.end());
  else return JwtReject::BadClaim;
  for (auto n : named)
    if (n.size() > config::AgentTokens::kMaxAudienceBytes) return JwtReject::BadClaim;
  for (auto n : named)
    if (std::find(accepted.begin(), accepted.end(), n) != accepted.end()) return JwtReject::None;
  return JwtReject::BadAudience;
}

std::string jsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

const char* toString(JwtReject r) {
  switch (r) {
    case JwtReject::None: return "none";
    case JwtReject::Malformed: return "malformed";
    case JwtReject::BadAlgorithm: return "bad_algorithm";
    case JwtReject::BadSignature: return "bad_signature";
    case JwtReject::Expired: return "expired";
    case JwtReject::NotYetValid: return "not_yet_valid";
    case JwtReject::LifetimeTooLong: return "lifetime_too_long";
    case JwtReject::BadIssuer: return "bad_issuer";
    case JwtReject::BadAudience: return "bad_audience";
    case JwtReject::MissingClaim: return "missing_claim";
    case JwtReject::BadClaim: return "bad_claim";
    case JwtReject::FromMismatch: return "from_mismatch";
  }
  return "unknown";
}

std::optional<std::string> base64UrlDecode(std::string_view in) {
  // RFC 7515 2: base64url without padding; a length of 1 mod 4 cannot occur.
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero (a canonical encoding), or two tokens would decode alike.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

AgentJwtResult verifyAgentJwt(const AgentJwtPolicy& policy, std::string_view token, int64_t nowUnix) {
  AgentJwtResult r;
  auto fail = [&](JwtReject why) {
    r.reject = why;
    r.claims = {};
    return r;
  };
  if (token.empty() || token.size() > kMaxTokenBytes) return fail(JwtReject::Malformed);
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return fail(JwtReject::Malformed);
  auto headerJson = base64UrlDecode(token.substr(0, d1));
  auto claimsJson = base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto signature = base64UrlDecode(token.substr(d2 + 1));
  if (!headerJson || !claimsJson || !signature) return fail(JwtReject::Malformed);
  auto header = JsonObjectReader(*headerJson).read();
  if (!header) return fail(JwtReject::Malformed);
  // RFC 8725 3.1: the algorithm is ours to choose, never the token's: HS256 only ("none" and RS256 with the
  // secret as a public key are the classic confusions).
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->second.isString || alg->second.text != "HS256")
    return fail(JwtReject::BadAlgorithm);
  if (auto typ = header->find("typ"); typ != header->end() && typ->second.text != "JWT")
    return fail(JwtReject::BadAlgorithm);
  if (header->count("crit") != 0) return fail(JwtReject::BadAlgorithm);  // RFC 7515 4.1.11: none understood
  // The MAC before the claims are looked at: an unsigned token's content decides nothing.
  // Each key compared in constant time; which of the two matched is not secret (both are tried in a fixed order).
  const auto signedWith = [&](std::string_view key) {
    return !key.empty() && constantTimeEquals(hmacSha256(key, token.substr(0, d2)), *signature);
  };
  if (!signedWith(policy.secret) && !signedWith(policy.previousSecret)) return fail(JwtReject::BadSignature);
  auto claims = JsonObjectReader(*claimsJson).read();
  if (!claims) return fail(JwtReject::Malformed);
  bool bad = false;
  auto exp = numericDate(*claims, "exp", bad);
  auto nbf = numericDate(*claims, "nbf", bad);
  auto iat = numericDate(*claims, "iat", bad);
  if (bad) return fail(JwtReject::BadClaim);
  auto sub = claims->find("sub");
  if (sub == claims->end() || !exp || (!nbf && !iat)) return fail(JwtReject::MissingClaim);
  if (!sub->second.isString || !isSipUserToken(sub->second.text)) return fail(JwtReject::BadClaim);
  std::string dn = sub->second.text;
  if (auto d = claims->find("dn"); d != claims->end()) {
    if (!d->second.isString || !isSipUserToken(d->second.text)) return fail(JwtReject::BadClaim);
    dn = d->second.text;
  }
  if (!policy.issuer.empty()) {
    auto iss = claims->find("iss");
    if (iss == claims->end() || !iss->second.isString || iss->second.text != policy.issuer)
      return fail(JwtReject::BadIssuer);
  }
  if (auto why = checkAudience(*claims, policy.audience); why != JwtReject::None) return fail(why);
  const int64_t notBefore = nbf ? *nbf : *iat;
  if (*exp <= nowUnix) return fail(JwtReject::Expired);
  if (notBefore > nowUnix + policy.skewS) return fail(JwtReject::NotYetValid);
  // A lifetime cap bounds what a leaked token is worth, whatever the issuer chose (RFC 8725 3.10 spirit).
  if (*exp - notBefore > policy.maxLifetimeS) return fail(JwtReject::LifetimeTooLong);
  r.claims.sub = sub->second.text;
  r.claims.dn = std::move(dn);
  r.claims.exp = *exp;
  r.claims.notBefore = notBefore;
  return r;
}

std::string makeAgentJwt(std::string_view secret, std::string_view issuer, std::string_view sub, std::string_view dn,
                         int64_t iat, int64_t exp, std::string_view audience) {
  std::string claims = "{\"sub\":" + jsonQuote(sub);
  if (!dn.empty()) claims += ",\"dn\":" + jsonQuote(dn);
  if (!issuer.empty()) claims += ",\"iss\":" + jsonQuote(issuer);
  if (!audience.empty()) claims += ",\"aud\":" + jsonQuote(audience);
  claims += ",\"iat\":" + std::to_string(iat) + ",\"exp\":" + std::to_string(exp) + "}";
  std::string signingInput =
      base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64UrlEncode(claims);
  return signingInput + "." + base64UrlEncode(hmacSha256(secret, signingInput));
}

}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/digest_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <strings.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <memory>

namespace rtcgate::signaling {
namespace {

std::string toHex(const unsigned char* data, size_t len) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

std::string unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    v = v.substr(1, v.size() - 2);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size()) ++i;
      out.push_back(v[i]);
    }
    return out;
  }
  return std::string(v);
}

std::optional<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::string_view algorithmName(DigestAlgorithm alg) { return alg == DigestAlgorithm::Md5 ? "MD5" : "SHA-256"; }

std::optional<DigestAlgorithm> parseAlgorithm(std::string_view name) {
  if (name.empty() || (name.size() == 3 && ::strncasecmp(name.data(), "MD5", 3) == 0)) return DigestAlgorithm::Md5;
  if (name.size() == 7 && ::strncasecmp(name.data(), "SHA-256", 7) == 0) return DigestAlgorithm::Sha256;
  return std::nullopt;
}

std::string hexDigest(DigestAlgorithm alg, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* type = alg == DigestAlgorithm::Md5 ? EVP_md5() : EVP_sha256();
  if (EVP_Digest(data.data(), data.size(), md, &len, type, nullptr) != 1) return {};
  return toHex(md, len);
}

std::string digestHa1(DigestAlgorithm alg, std::string_view user, std::string_view realm, std::string_view password) {
  std::string a1;
  a1.reserve(user.size() + realm.size() + password.size() + 2);
  a1.append(user).append(":").append(realm).append(":").append(password);
  return hexDigest(alg, a1);
}

std::string digestResponse(DigestAlgorithm alg, std::string_view ha1, std::string_view nonce, std::string_view nc,
                           std::string_view cnonce, std::string_view qop, std::string_view method,
                           std::string_view uri) {
  std::string a2 = std::string(method) + ":" + std::string(uri);
  std::string ha2 = hexDigest(alg, a2);
  std::string kd = std::string(ha1) + ":" + std::string(nonce) + ":";
  if (!qop.empty()) kd += std::string(nc) + ":" + std::string(cnonce) + ":" + std::string(qop) + ":";
  kd += ha2;
  return hexDigest(alg, kd);
}

std::optional<DigestCredentials> parseDigestParams(const char* const* params) {
  if (params == nullptr) return std::nullopt;
  DigestCredentials c;
  std::string algorithm;
  for (const char* const* p = params; *p != nullptr; ++p) {
    std::string_view kv(*p);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = kv.substr(0, eq);
    std::string value = unquote(kv.substr(eq + 1));
    auto is = [&](const char* k) { return key.size() == std::strlen(k) && ::strncasecmp(key.data(), k, key.size()) == 0; };
    if (is("username")) c.username = value;
    else if (is("realm")) c.realm = value;
    else if (is("nonce")) c.nonce = value;
    else if (is("uri")) c.uri = value;
    else if (is("response")) c.response = value;
    else if (is("cnonce")) c.cnonce = value;
    else if (is("nc")) c.nc = value;
    else if (is("qop")) c.qop = value;
    else if (is("opaque")) c.opaque = value;
    else if (is("algorithm")) algorithm = value;
  }
  auto alg = parseAlgorithm(algorithm);
  if (!alg || c.username.empty() || c.nonce.empty() || c.uri.empty() || c.response.empty()) return std::nullopt;
  if (!c.qop.empty() && (c.qop != "auth" || c.cnonce.empty() || c.nc.empty())) return std::nullopt;
  c.algorithm = *alg;
  return c;
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), mac, &len) == nullptr)
    return {};
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string base64UrlEncode(std::string_view raw) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char ch : raw) {
    acc = (acc << 8) | ch;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string NonceSigner::issue(Clock::time_point now) const {
  // A random salt makes every nonce unique (two challenges in one second must not share one: the replay check
  // tracks nonce-counts per nonce).
  std::string salt(9, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1) {
    static std::atomic<uint64_t> counter{0};
    salt = std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  }
  std::string head = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()) +
                     "." + base64UrlEncode(salt);
  return head + "." + base64UrlEncode(hmacSha256(key_, "nonce:" + head));
}

NonceSigner::Check NonceSigner::check(std::string_view nonce, Clock::time_point now) const {
  // "<issued>.<salt>.<mac>"
  const auto first = nonce.find('.');
  const auto last = nonce.rfind('.');
  if (first == std::string_view::npos || last == first) return Check::Invalid;
  auto issued = parseInt(nonce.substr(0, first));
  if (!issued) return Check::Invalid;
  std::string expected = base64UrlEncode(hmacSha256(key_, "nonce:" + std::string(nonce.substr(0, last))));
  if (!constantTimeEquals(expected, nonce.substr(last + 1))) return Check::Invalid;
  int64_t nowS = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (*issued > nowS + 5) return Check::Invalid;  // from the future: not ours (allow small clock steps)
  if (nowS - *issued > lifetime_.count()) return Check::Stale;
  return Check::Valid;
}

}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtcgate::signaling {

// HTTP digest primitives for SIP (RFC 3261 22.4, RFC 7616, RFC 8760): hashes, responses, stateless nonces.
// Pure functions and value types. Thread: any.

enum class DigestAlgorithm { Md5, Sha256 };

std::string_view algorithmName(DigestAlgorithm alg);  // "MD5", "SHA-256"
std::optional<DigestAlgorithm> parseAlgorithm(std::string_view name);  // absent/empty means MD5 (RFC 7616 3.3)

std::string hexDigest(DigestAlgorithm alg, std::string_view data);
// HA1 = H(username ":" realm ":" password)
std::string digestHa1(DigestAlgorithm alg, std::string_view user, std::string_view realm, std::string_view password);
// RFC 7616 3.4.1 with qop=auth (or the RFC 2069 form when qop is empty).
std::string digestResponse(DigestAlgorithm alg, std::string_view ha1, std::string_view nonce, std::string_view nc,
                           std::string_view cnonce, std::string_view qop, std::string_view method,
                           std::string_view uri);

// The fields of an Authorization: Digest header (values unquoted).
struct DigestCredentials {
  std::string username, realm, nonce, uri, response, cnonce, nc, qop, opaque;
  DigestAlgorithm algorithm = DigestAlgorithm::Md5;
};
// From sofia's parameter list ("name=value" strings, values possibly quoted). Empty when a required field is
// missing or the algorithm is unsupported.
std::optional<DigestCredentials> parseDigestParams(const char* const* params);

// HMAC-SHA256 with a raw key; returns the raw MAC.
std::string hmacSha256(std::string_view key, std::string_view data);
std::string base64UrlEncode(std::string_view raw);
// Equal-time comparison (no early exit) for MACs and digests.
bool constantTimeEquals(std::string_view a, std::string_view b);

// Signed nonces: "<issued-unix-seconds>.<random salt>.<base64url(HMAC(key, issued "." salt))>"; a nonce is valid while
// younger than the lifetime, "stale" after that (RFC 7616 3.3: stale=true lets the client retry silently).
class NonceSigner {
public:
  enum class Check { Valid, Stale, Invalid };
  using Clock = std::chrono::system_clock;

  NonceSigner(std::string key, std::chrono::seconds lifetime) : key_(std::move(key)), lifetime_(lifetime) {}
  std::string issue(Clock::time_point now) const;
  Check check(std::string_view nonce, Clock::time_point now) const;

private:
  std::string key_;
  std::chrono::seconds lifetime_;
};

}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/srtp_session.h"

#include <srtp2/srtp.h>

#include <climits>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace rtcgate::media {

namespace {

struct ProfileInfo {
  SrtpProfile profile;
  const char* name;
  const char* openssl;
  srtp_profile_t srtp;
  size_t keyLen;
  size_t saltLen;
};

// RFC 5764 §4.1.2 (CM: 128-bit key, 112-bit salt) and RFC 7714 §12 (GCM: 96-bit salt).
constexpr ProfileInfo kProfiles[] = {
    {SrtpProfile::AeadAes256Gcm, "AEAD_AES_256_GCM", "SRTP_AEAD_AES_256_GCM", srtp_profile_aead_aes_256_gcm, 32, 12},
    {SrtpProfile::AeadAes128Gcm, "AEAD_AES_128_GCM", "SRTP_AEAD_AES_128_GCM", srtp_profile_aead_aes_128_gcm, 16, 12},
    {SrtpProfile::AesCm128HmacSha1_80, "AES_CM_128_HMAC_SHA1_80", "SRTP_AES128_CM_SHA1_80",
     srtp_profile_aes128_cm_sha1_80, 16, 14},
    {SrtpProfile::AesCm128HmacSha1_32, "AES_CM_128_HMAC_SHA1_32", "SRTP_AES128_CM_SHA1_32",
     srtp_profile_aes128_cm_sha1_32, 16, 14},
};

const ProfileInfo& info(SrtpProfile p) {
  for (auto& i : kProfiles)
    if (i.profile == p) return i;
  return kProfiles[0];
}

SrtpStatus mapStatus(srtp_err_status_t s) {
  switch (s) {
    case srtp_err_status_ok: return SrtpStatus::Ok;
    case srtp_err_status_auth_fail: return SrtpStatus::AuthFail;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return SrtpStatus::ReplayFail;
    default: return SrtpStatus::Error;
  }
}

srtp_ctx_t_* createContext(const ProfileInfo& pi, std::span<const uint8_t> keySalt, srtp_ssrc_type_t direction) {
  if (keySalt.size() != pi.keyLen + pi.saltLen) throw std::invalid_argument("SRTP key/salt length does not match profile");
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  if (srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, pi.srtp) != srtp_err_status_ok ||
      srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, pi.srtp) != srtp_err_status_ok)
    throw std::runtime_error(std::string("libsrtp2 does not support ") + pi.name);
  policy.ssrc.type = direction;
  // libsrtp keeps a pointer to the key only during srtp_create; a local copy is enough.
  std::vector<uint8_t> key(keySalt.begin(), keySalt.end());
  policy.key = key.data();
  policy.window_size = 1024;  // replay window (RFC 3711 §3.3.2 minimum is 64; browsers reorder over Wi-Fi)
  // Retransmitted RTP (same seq) must be protectable: the session layer may resend after a re-latch.
  policy.allow_repeat_tx = 1;
  srtp_t ctx = nullptr;
  auto err = srtp_create(&ctx, &policy);
  std::fill(key.begin(), key.end(), 0);
  if (err != srtp_err_status_ok) throw std::runtime_error("srtp_create failed: " + std::to_string(err));
  return ctx;
}

template <typename Fn>
SrtpStatus protect(Fn fn, srtp_ctx_t_* ctx, uint8_t* buf, size_t& len, size_t capacity) {
  if (len < 8) return SrtpStatus::TooShort;
  if (capacity < len + SrtpSession::kMaxOverhead) return SrtpStatus::NoRoom;
  if (len > INT_MAX - SrtpSession::kMaxOverhead) return SrtpStatus::NoRoom;
  int n = static_cast<int>(len);
  auto s = mapStatus(fn(ctx, buf, &n));
  if (s == SrtpStatus::Ok) len = static_cast<size_t>(n);
  return s;
}

template <typename Fn>
SrtpStatus unprotect(Fn fn, srtp_ctx_t_* ctx, uint8_t* buf, size_t& len) {
  if (len < 12 || len > INT_MAX) return SrtpStatus::TooShort;
  int n = static_cast<int>(len);
  auto s = mapStatus(fn(ctx, buf, &n));
  if (s == SrtpStatus::Ok) len = static_cast<size_t>(n);
  return s;
}

}  // namespace

std::optional<SrtpProfile> srtpProfileFromName(std::string_view name) {
  for (auto& i : kProfiles)
    if (name == i.name) return i.profile;
  return std::nullopt;
}
const char* srtpProfileName(SrtpProfile p) { return info(p).name; }
const char* srtpProfileOpenSslName(SrtpProfile p) { return info(p).openssl; }
std::optional<SrtpProfile> srtpProfileFromOpenSslName(std::string_view name) {
  for (auto& i : kProfiles)
    if (name == i.openssl) return i.profile;
  return std::nullopt;
}
size_t srtpKeyLength(SrtpProfile p) { return info(p).keyLen; }
size_t srtpSaltLength(SrtpProfile p) { return info(p).saltLen; }

std::string srtpLibraryDescription() {
#ifdef RTCGATE_SRTP_CRYPTO
  return std::string(srtp_get_version_string()) + " (" RTCGATE_SRTP_CRYPTO ")";
#else
  return srtp_get_version_string();
#endif
}

void SrtpSession::initLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (srtp_init() != srtp_err_status_ok) throw std::runtime_error("srtp_init failed");
  });
}

void SrtpSession::dealloc(srtp_ctx_t_* ctx) { srtp_dealloc(ctx); }

SrtpSession::SrtpSession(SrtpProfile profile, std::span<const uint8_t> localKeySalt,
                         std::span<const uint8_t> remoteKeySalt)
    : profile_(profile) {
  initLibrary();
  tx_.reset(createContext(info(profile), localKeySalt, ssrc_any_outbound));
  rx_.reset(createContext(info(profile), remoteKeySalt, ssrc_any_inbound));
}

SrtpSession::~SrtpSession() = default;

SrtpStatus SrtpSession::protectRtp(uint8_t* buf, size_t& len, size_t capacity) {
  return protect([](srtp_t c, uint8_t* b, int* n) { return srtp_protect(c, b, n); }, tx_.get(), buf, len, capacity);
}
SrtpStatus SrtpSession::protectRtcp(uint8_t* buf, size_t& len, size_t capacity) {
  return protect([](srtp_t c, uint8_t* b, int* n) { return srtp_protect_rtcp(c, b, n); }, tx_.get(), buf, len,
                 capacity);
}
SrtpStatus SrtpSession::unprotectRtp(uint8_t* buf, size_t& len) {
  return unprotect([](srtp_t c, uint8_t* b, int* n) { return srtp_unprotect(c, b, n); }, rx_.get(), buf, len);
}
SrtpStatus SrtpSession::unprotectRtcp(uint8_t* buf, size_t& len) {
  return unprotect([](srtp_t c, uint8_t* b, int* n) { return srtp_unprotect_rtcp(c, b, n); }, rx_.get(), buf, len);
}

}  // namespace rtcgate::media

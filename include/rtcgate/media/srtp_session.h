// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rtcgate/core/c_handle.h"

struct srtp_ctx_t_;

namespace rtcgate::media {

// DTLS-SRTP protection profiles rtcgate negotiates (RFC 5764 §4.1.2, RFC 7714 §14.2).
enum class SrtpProfile { AeadAes256Gcm, AeadAes128Gcm, AesCm128HmacSha1_80, AesCm128HmacSha1_32 };

// Config name ("AEAD_AES_256_GCM", ...) to profile.
std::optional<SrtpProfile> srtpProfileFromName(std::string_view name);
const char* srtpProfileName(SrtpProfile p);
// The name OpenSSL uses in SSL_CTX_set_tlsext_use_srtp ("SRTP_AEAD_AES_256_GCM", ...).
const char* srtpProfileOpenSslName(SrtpProfile p);
std::optional<SrtpProfile> srtpProfileFromOpenSslName(std::string_view name);
size_t srtpKeyLength(SrtpProfile p);
// "libsrtp2 2.5.0 (OpenSSL, static)": the linked libsrtp2 and its crypto backend (docs/adr/0008), for --version.
std::string srtpLibraryDescription();
size_t srtpSaltLength(SrtpProfile p);

// Outcome of one protect/unprotect; never an exception on the packet path.
enum class SrtpStatus { Ok, AuthFail, ReplayFail, TooShort, NoRoom, Error };

// One SRTP/SRTCP context pair (send and receive) for one DTLS association.
// Thread: the owning media loop (libsrtp contexts are not thread-safe).
class SrtpSession {
public:
  // Bytes an SRTP/SRTCP packet may grow by on protect (tag + SRTCP index); callers reserve this much room.
  static constexpr size_t kMaxOverhead = 148;

  // libsrtp2 needs srtp_init() once per process (Debian's build also sets up its NSS context there).
  static void initLibrary();

  // localKeySalt/remoteKeySalt: master key followed by master salt, from the DTLS exporter. Throws on failure.
  SrtpSession(SrtpProfile profile, std::span<const uint8_t> localKeySalt, std::span<const uint8_t> remoteKeySalt);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // In place; len grows by the tag. capacity is the buffer size.
  SrtpStatus protectRtp(uint8_t* buf, size_t& len, size_t capacity);
  SrtpStatus protectRtcp(uint8_t* buf, size_t& len, size_t capacity);
  // In place; len shrinks. Auth and replay failures are reported, the packet must then be dropped.
  SrtpStatus unprotectRtp(uint8_t* buf, size_t& len);
  SrtpStatus unprotectRtcp(uint8_t* buf, size_t& len);

  SrtpProfile profile() const { return profile_; }

private:
  static void dealloc(srtp_ctx_t_* ctx);
  SrtpProfile profile_;
  CHandle<srtp_ctx_t_, &SrtpSession::dealloc> tx_;
  CHandle<srtp_ctx_t_, &SrtpSession::dealloc> rx_;
};

}  // namespace rtcgate::media

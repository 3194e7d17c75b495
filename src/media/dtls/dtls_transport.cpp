// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/dtls_transport.h"

#include <openssl/err.h>

#include <climits>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "rtcgate/core/log.h"
#include "rtcgate/crypto/openssl_error.h"

namespace rtcgate::media {

namespace {

auto logger() { return log::get(log::Component::Dtls); }

int sslIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Path MTU below every common tunnel so a flight never fragments at IP level (the certificate is ~400 bytes).
constexpr long kDtlsMtu = 1200;
constexpr size_t kMaxDatagram = 4096;

}  // namespace

const char* toString(DtlsState s) {
  switch (s) {
    case DtlsState::New: return "new";
    case DtlsState::Connecting: return "connecting";
    case DtlsState::Connected: return "connected";
    case DtlsState::Failed: return "failed";
    case DtlsState::Closed: return "closed";
  }
  return "?";
}

BIO_METHOD* DtlsTransport::writeMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rtcgate-dtls-out");
    BIO_meth_set_write(m, &DtlsTransport::bioWrite);
    BIO_meth_set_ctrl(m, &DtlsTransport::bioCtrl);
    BIO_meth_set_create(m, [](BIO* b) noexcept {
      BIO_set_init(b, 1);
      return 1;
    });
    return m;
  }();
  return method;
}

int DtlsTransport::bioWrite(BIO* bio, const char* data, int len) noexcept {
  auto* self = static_cast<DtlsTransport*>(BIO_get_data(bio));
  if (self == nullptr || len <= 0) return len;
  try {
    if (self->callbacks_.send) self->callbacks_.send(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len));
  } catch (...) {
    logger()->error("DTLS send callback threw");
  }
  return len;
}

long DtlsTransport::bioCtrl(BIO*, int cmd, long, void*) noexcept {
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    // No kernel socket below: OpenSSL must use the MTU we set instead of asking.
    case BIO_CTRL_DGRAM_QUERY_MTU: return 0;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: return 0;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING: return 0;
    default: return 0;
  }
}

int DtlsTransport::onVerify(int, X509_STORE_CTX* store) noexcept {
  // WebRTC certificates are self-signed; the SDP fingerprint is what authenticates them (RFC 8827 §6.5), so the
  // chain verdict is replaced by a fingerprint comparison of the end-entity certificate.
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = ssl ? static_cast<DtlsTransport*>(SSL_get_ex_data(ssl, sslIndex())) : nullptr;
  if (self == nullptr) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (cert == nullptr) return 0;
  try {
    for (auto& fp : self->remoteFingerprints_) {
      auto actual = certificateFingerprint(cert, fp.algorithm);
      if (!actual.empty() && actual == fp.value) return 1;
    }
  } catch (...) {
    return 0;
  }
  self->fingerprintMismatch_ = true;
  return 0;
}

DtlsTransport::DtlsTransport(EventLoop& loop, std::shared_ptr<const DtlsCertificate> cert,
                             std::vector<SrtpProfile> profiles, std::chrono::milliseconds handshakeTimeout,
                             Callbacks callbacks)
    : loop_(loop), cert_(std::move(cert)), callbacks_(std::move(callbacks)), handshakeTimeout_(handshakeTimeout) {
  ctx_.reset(SSL_CTX_new(DTLS_method()));
  if (!ctx_) throw std::runtime_error("SSL_CTX_new: " + crypto::drainOpensslErrors());
  // WebRTC requires DTLS 1.2 (RFC 8827 §6.5); 1.0 is long gone from browsers.
  SSL_CTX_set_min_proto_version(ctx_.get(), DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx_.get(), DTLS1_2_VERSION);
  if (SSL_CTX_use_certificate(ctx_.get(), cert_->x509()) != 1 || SSL_CTX_use_PrivateKey(ctx_.get(), cert_->key()) != 1)
    throw std::runtime_error("DTLS certificate: " + crypto::drainOpensslErrors());
  SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, &DtlsTransport::onVerify);
  SSL_CTX_set_cipher_list(ctx_.get(), "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
                                      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA");
  std::string srtp;
  for (auto p : profiles) {
    if (!srtp.empty()) srtp += ':';
    srtp += srtpProfileOpenSslName(p);
  }
  // Returns 0 on success (OpenSSL quirk).
  if (srtp.empty() || SSL_CTX_set_tlsext_use_srtp(ctx_.get(), srtp.c_str()) != 0)
    throw std::runtime_error("use_srtp profiles: " + crypto::drainOpensslErrors());
  SSL_CTX_set_read_ahead(ctx_.get(), 1);
  ssl_.reset(SSL_new(ctx_.get()));
  if (!ssl_) throw std::runtime_error("SSL_new: " + crypto::drainOpensslErrors());
  SSL_set_ex_data(ssl_.get(), sslIndex(), this);
  rbio_ = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(writeMethod());
  if (rbio_ == nullptr || wbio == nullptr) throw std::runtime_error("BIO_new failed");
  BIO_set_mem_eof_return(rbio_, -1);  // an empty read BIO means "would block", not EOF
  BIO_set_data(wbio, this);
  SSL_set_bio(ssl_.get(), rbio_, wbio);
  SSL_set_options(ssl_.get(), SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl_.get(), kDtlsMtu);
  DTLS_set_link_mtu(ssl_.get(), kDtlsMtu);
}

DtlsTransport::~DtlsTransport() {
  if (ssl_) {
    // Our BIO callbacks must not reach a half-destroyed object while SSL_free flushes.
    BIO_set_data(SSL_get_wbio(ssl_.get()), nullptr);
  }
}

void DtlsTransport::setRemoteFingerprints(std::vector<sdp::Fingerprint> fingerprints) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  remoteFingerprints_ = std::move(fingerprints);
}

void DtlsTransport::start(DtlsRole role) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (state_ != DtlsState::New) return;
  role_ = role;
  state_ = DtlsState::Connecting;
  if (role == DtlsRole::Client)
    SSL_set_connect_state(ssl_.get());
  else
    SSL_set_accept_state(ssl_.get());
  deadlineTimer_ = Timer(loop_, handshakeTimeout_, [this] {
    if (state_ == DtlsState::Connecting) fail("DTLS handshake timed out", &deadlineTimer_);
    return false;
  });
  // RFC 5763 §5: the active side initiates; a passive side never sends first (avoids P4 in the interop notes).
  if (role == DtlsRole::Client) advance();
}

void DtlsTransport::handlePacket(const uint8_t* data, size_t len) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (len == 0 || len > kMaxDatagram) return;
  if (state_ != DtlsState::Connecting && state_ != DtlsState::Connected) return;
  BIO_write(rbio_, data, static_cast<int>(len));
  if (state_ == DtlsState::Connecting) {
    advance();
    return;
  }
  // After the handshake: only alerts (close_notify) or a peer's retransmitted Finished matter.
  char buf[kMaxDatagram];
  int n = SSL_read(ssl_.get(), buf, sizeof(buf));
  if (n <= 0) {
    int err = SSL_get_error(ssl_.get(), n);
    if (err == SSL_ERROR_ZERO_RETURN) {
      state_ = DtlsState::Closed;
      logger()->info("DTLS peer sent close_notify");
      if (callbacks_.closedByPeer) callbacks_.closedByPeer();
    } else if (err != SSL_ERROR_WANT_READ) {
      ERR_clear_error();
    }
  }
}

void DtlsTransport::advance() {
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    complete();
    return;
  }
  int err = SSL_get_error(ssl_.get(), r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    armRetransmit();
    return;
  }
  if (fingerprintMismatch_) {
    fail("DTLS peer certificate does not match the SDP fingerprint");
  } else if (remoteFingerprints_.empty()) {
    fail("DTLS handshake before the peer's fingerprint was known");
  } else {
    auto detail = crypto::drainOpensslErrors();
    fail("DTLS handshake failed" + (detail.empty() ? std::string() : ": " + detail));
  }
}

void DtlsTransport::armRetransmit() {
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_.get(), &tv) != 1) return;
  auto ms = std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
  if (ms < std::chrono::milliseconds(1)) ms = std::chrono::milliseconds(1);
  // The timer keeps firing at this interval while connecting. DTLSv1_handle_timeout() retransmits only when
  // OpenSSL's own (doubling) timer has expired, so an early tick is harmless; each new packet re-arms it.
  retransmitTimer_ = Timer(loop_, ms, [this] {
    if (state_ != DtlsState::Connecting) return false;
    if (DTLSv1_handle_timeout(ssl_.get()) < 0) {
      fail("DTLS retransmission limit reached", &retransmitTimer_);
      return false;
    }
    return true;
  });
}

void DtlsTransport::complete() {
  retransmitTimer_.cancel();
  deadlineTimer_.cancel();
  SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl_.get());
  auto profile = p ? srtpProfileFromOpenSslName(p->name) : std::nullopt;
  if (!profile) {
    fail("DTLS completed without a common SRTP profile (use_srtp)");
    return;
  }
  size_t keyLen = srtpKeyLength(*profile), saltLen = srtpSaltLength(*profile);
  std::vector<uint8_t> material(2 * (keyLen + saltLen));
  static const char kLabel[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(ssl_.get(), material.data(), material.size(), kLabel, sizeof(kLabel) - 1, nullptr,
                                 0, 0) != 1) {
    fail("DTLS keying material export failed");
    return;
  }
  // RFC 5764 §4.2: client_write_key | server_write_key | client_write_salt | server_write_salt.
  auto slice = [&](size_t keyOff, size_t saltOff) {
    std::vector<uint8_t> out(material.begin() + static_cast<long>(keyOff),
                             material.begin() + static_cast<long>(keyOff + keyLen));
    out.insert(out.end(), material.begin() + static_cast<long>(saltOff),
               material.begin() + static_cast<long>(saltOff + saltLen));
    return out;
  };
  auto client = slice(0, 2 * keyLen);
  auto server = slice(keyLen, 2 * keyLen + saltLen);
  std::fill(material.begin(), material.end(), 0);
  profile_ = profile;
  state_ = DtlsState::Connected;
  bool isClient = role_ == DtlsRole::Client;
  DtlsSrtpKeys keys{*profile, isClient ? std::move(client) : std::move(server),
                    isClient ? std::move(server) : std::move(client)};
  logger()->info("DTLS connected as {} with {} ({})", isClient ? "client" : "server", srtpProfileName(*profile),
                 SSL_get_cipher_name(ssl_.get()));
  if (callbacks_.connected) callbacks_.connected(keys);
  std::fill(keys.localKeySalt.begin(), keys.localKeySalt.end(), 0);
  std::fill(keys.remoteKeySalt.begin(), keys.remoteKeySalt.end(), 0);
}

void DtlsTransport::fail(const std::string& reason, Timer* firing) {
  if (state_ == DtlsState::Failed || state_ == DtlsState::Closed) return;
  state_ = DtlsState::Failed;
  failureReason_ = reason;
  // A Timer must not be cancelled from its own callback (it releases its source when the callback returns).
  if (firing != &retransmitTimer_) retransmitTimer_.cancel();
  if (firing != &deadlineTimer_) deadlineTimer_.cancel();
  ERR_clear_error();
  logger()->warn("{}", reason);
  if (callbacks_.failed) callbacks_.failed(reason);
}

void DtlsTransport::close() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  retransmitTimer_.cancel();
  deadlineTimer_.cancel();
  if (state_ == DtlsState::Connected) SSL_shutdown(ssl_.get());
  if (state_ != DtlsState::Failed) state_ = DtlsState::Closed;
  ERR_clear_error();
}

}  // namespace rtcgate::media

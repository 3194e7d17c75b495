// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "rtcgate/core/c_handle.h"
#include "rtcgate/sdp/session_description.h"

namespace rtcgate::config {
struct Media;
}

namespace rtcgate::media {

// The DTLS identity of rtcgate: one certificate and key for the process (WebRTC authenticates it by the SDP
// fingerprint, RFC 8827 §6.5, so a self-signed certificate is the norm).
// Thread: immutable after creation; shared read-only by every media worker.
class DtlsCertificate {
public:
  // A fresh ECDSA P-256 key and self-signed certificate (30 days).
  static std::shared_ptr<const DtlsCertificate> generate();
  // PEM files. Throws std::runtime_error naming the file on failure or if key and certificate do not match.
  static std::shared_ptr<const DtlsCertificate> load(const std::string& certFile, const std::string& keyFile);
  // media.dtls_cert_file/key_file if set, else generate().
  static std::shared_ptr<const DtlsCertificate> fromConfig(const config::Media& media);

  X509* x509() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  // sha-256 fingerprint for a=fingerprint.
  const sdp::Fingerprint& fingerprint() const { return fingerprint_; }

  DtlsCertificate(CHandle<X509, X509_free> cert, CHandle<EVP_PKEY, EVP_PKEY_free> key);

private:
  CHandle<X509, X509_free> cert_;
  CHandle<EVP_PKEY, EVP_PKEY_free> key_;
  sdp::Fingerprint fingerprint_;
};

// "AB:CD:..." digest of a DER certificate for an RFC 8122 hash name ("sha-256", "sha-1", "sha-384", "sha-512");
// empty if the algorithm is unknown.
std::string certificateFingerprint(X509* cert, const std::string& algorithm);

}  // namespace rtcgate::media

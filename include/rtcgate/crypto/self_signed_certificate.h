// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <string>

#include "rtcgate/core/c_handle.h"

namespace rtcgate::crypto {

using PrivateKey = CHandle<EVP_PKEY, EVP_PKEY_free>;
using Certificate = CHandle<X509, X509_free>;

struct SelfSignedRequest {
  std::string commonName;
  std::chrono::seconds validFor{0};
  std::chrono::seconds backdate{0};  // notBefore in the past, against clock skew on the peer's side
  std::string subjectAltNames;       // X509v3 config syntax ("DNS:localhost,IP:127.0.0.1"); empty: none
};

struct KeyAndCertificate {
  Certificate certificate;
  PrivateKey key;
};

// The one self-signed certificate generator (DTLS identity and the demo WSS listener): a fresh ECDSA P-256 key,
// a random positive 127-bit serial, SHA-256 signature. Throws std::runtime_error with OpenSSL's errors.
// Thread: any.
KeyAndCertificate generateSelfSigned(const SelfSignedRequest& request);

struct PemCertificate {
  std::string certificate;  // PEM
  std::string privateKey;   // PEM (PKCS#8, unencrypted)
};
PemCertificate toPem(const KeyAndCertificate& kc);

}  // namespace rtcgate::crypto

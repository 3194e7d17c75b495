// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/dtls_certificate.h"

#include <stdexcept>

#include "rtcgate/config/config.h"
#include "rtcgate/crypto/certificate_files.h"
#include "rtcgate/crypto/openssl_error.h"
#include "rtcgate/crypto/self_signed_certificate.h"

namespace rtcgate::media {

std::string certificateFingerprint(X509* cert, const std::string& algorithm) {
  const EVP_MD* md = nullptr;
  if (algorithm == "sha-256") md = EVP_sha256();
  else if (algorithm == "sha-1") md = EVP_sha1();
  else if (algorithm == "sha-384") md = EVP_sha384();
  else if (algorithm == "sha-512") md = EVP_sha512();
  if (md == nullptr) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, md, digest, &len) != 1) return {};
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

DtlsCertificate::DtlsCertificate(CHandle<X509, X509_free> cert, CHandle<EVP_PKEY, EVP_PKEY_free> key)
    : cert_(std::move(cert)), key_(std::move(key)) {
  fingerprint_ = {"sha-256", certificateFingerprint(cert_.get(), "sha-256")};
}

std::shared_ptr<const DtlsCertificate> DtlsCertificate::generate() {
  crypto::SelfSignedRequest request;
  request.commonName = "rtcgate";
  request.validFor = std::chrono::days(30);
  request.backdate = std::chrono::days(1);  // against clock skew on the browser side
  auto kc = crypto::generateSelfSigned(request);
  return std::make_shared<const DtlsCertificate>(std::move(kc.certificate), std::move(kc.key));
}

std::shared_ptr<const DtlsCertificate> DtlsCertificate::load(const std::string& certFile, const std::string& keyFile) {
  auto files = crypto::readCertificateFiles(certFile, keyFile);
  if (!files.ok()) throw std::runtime_error("DTLS " + files.firstError());
  return std::make_shared<const DtlsCertificate>(std::move(files.pair.certificate), std::move(files.pair.key));
}

std::shared_ptr<const DtlsCertificate> DtlsCertificate::fromConfig(const config::Media& media) {
  if (!media.dtlsCertFile.empty()) return load(media.dtlsCertFile, media.dtlsKeyFile);
  return generate();
}

}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/dtls_certificate.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

#include "rtcgate/config/config.h"

namespace rtcgate::media {

namespace {

std::string opensslError() {
  char buf[256];
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + opensslError());
}

using FilePtr = CHandle<FILE, fclose>;

}  // namespace

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
  CHandle<EVP_PKEY, EVP_PKEY_free> key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation");
  CHandle<X509, X509_free> cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  // A random 64-bit serial: browsers cache nothing by it, but identical serials confuse some tools.
  CHandle<BIGNUM, BN_free> serial(BN_new());
  check(serial && BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1, "serial");
  check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr, "serial");
  // Backdated a day against clock skew on the browser side.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 86400);
  check(X509_set_pubkey(cert.get(), key.get()) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("rtcgate"), -1, -1, 0);
  check(X509_set_issuer_name(cert.get(), name) == 1, "X509_set_issuer_name");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");
  return std::make_shared<const DtlsCertificate>(std::move(cert), std::move(key));
}

std::shared_ptr<const DtlsCertificate> DtlsCertificate::load(const std::string& certFile, const std::string& keyFile) {
  FilePtr cf(fopen(certFile.c_str(), "r"));
  if (!cf) throw std::runtime_error("cannot open DTLS certificate file " + certFile);
  CHandle<X509, X509_free> cert(PEM_read_X509(cf.get(), nullptr, nullptr, nullptr));
  if (!cert) throw std::runtime_error("no PEM certificate in " + certFile + ": " + opensslError());
  FilePtr kf(fopen(keyFile.c_str(), "r"));
  if (!kf) throw std::runtime_error("cannot open DTLS key file " + keyFile);
  CHandle<EVP_PKEY, EVP_PKEY_free> key(PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr));
  if (!key) throw std::runtime_error("no PEM private key in " + keyFile + ": " + opensslError());
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    throw std::runtime_error("DTLS key " + keyFile + " does not match certificate " + certFile);
  return std::make_shared<const DtlsCertificate>(std::move(cert), std::move(key));
}

std::shared_ptr<const DtlsCertificate> DtlsCertificate::fromConfig(const config::Media& media) {
  if (!media.dtlsCertFile.empty()) return load(media.dtlsCertFile, media.dtlsKeyFile);
  return generate();
}

}  // namespace rtcgate::media

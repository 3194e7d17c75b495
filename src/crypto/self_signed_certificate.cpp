// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/crypto/self_signed_certificate.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "rtcgate/crypto/openssl_error.h"

namespace rtcgate::crypto {
namespace {

using Bio = CHandle<BIO, BIO_free_all>;

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

void addSubjectAltNames(X509* cert, const std::string& names) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  CHandle<X509_EXTENSION, X509_EXTENSION_free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, names.c_str()));
  checkOpenssl(ext != nullptr && X509_add_ext(cert, ext.get(), -1) == 1, "subjectAltName");
}

}  // namespace

KeyAndCertificate generateSelfSigned(const SelfSignedRequest& request) {
  PrivateKey key(EVP_EC_gen("P-256"));
  checkOpenssl(key != nullptr, "EC key generation");
  Certificate cert(X509_new());
  checkOpenssl(cert != nullptr, "X509_new");
  checkOpenssl(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  // Random, so two generated certificates never share issuer and serial (browsers and tools key caches on both).
  unsigned char serial[16];
  checkOpenssl(RAND_bytes(serial, sizeof(serial)) == 1, "RAND_bytes");
  serial[0] &= 0x7f;  // RFC 5280 §4.1.2.2: positive
  CHandle<BIGNUM, BN_free> bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  checkOpenssl(bn != nullptr && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) != nullptr, "serial");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -static_cast<long>(request.backdate.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(request.validFor.count()));
  checkOpenssl(X509_set_pubkey(cert.get(), key.get()) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  checkOpenssl(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                          reinterpret_cast<const unsigned char*>(request.commonName.c_str()), -1, -1,
                                          0) == 1,
               "subject");
  checkOpenssl(X509_set_issuer_name(cert.get(), name) == 1, "X509_set_issuer_name");
  if (!request.subjectAltNames.empty()) addSubjectAltNames(cert.get(), request.subjectAltNames);
  checkOpenssl(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");
  return {std::move(cert), std::move(key)};
}

PemCertificate toPem(const KeyAndCertificate& kc) {
  Bio certBio(BIO_new(BIO_s_mem()));
  Bio keyBio(BIO_new(BIO_s_mem()));
  checkOpenssl(certBio && keyBio, "BIO_new");
  checkOpenssl(PEM_write_bio_X509(certBio.get(), kc.certificate.get()) == 1, "PEM_write_bio_X509");
  checkOpenssl(PEM_write_bio_PrivateKey(keyBio.get(), kc.key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
               "PEM_write_bio_PrivateKey");
  return {bioText(certBio.get()), bioText(keyBio.get())};
}

}  // namespace rtcgate::crypto

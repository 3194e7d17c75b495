// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/crypto/self_signed_certificate.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "rtcgate/crypto/openssl_error.h"

namespace rtcgate::crypto {
namespace {

KeyAndCertificate generate(std::string subjectAltNames = {}) {
  SelfSignedRequest r;
  r.commonName = "test.example";
  r.validFor = std::chrono::days(30);
  r.backdate = std::chrono::days(1);
  r.subjectAltNames = std::move(subjectAltNames);
  return generateSelfSigned(r);
}

std::string commonName(X509* cert) {
  char buf[256]{};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

TEST(SelfSignedCertificate, IsAnEcdsaP256SelfSignedCertificate) {
  auto kc = generate();
  ASSERT_TRUE(kc.certificate && kc.key);
  EXPECT_EQ(EVP_PKEY_get_base_id(kc.key.get()), EVP_PKEY_EC);
  char group[64]{};
  size_t len = 0;
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(kc.key.get(), "group", group, sizeof group, &len), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_check_private_key(kc.certificate.get(), kc.key.get()), 1);
  EXPECT_EQ(X509_verify(kc.certificate.get(), kc.key.get()), 1);  // signed by its own key
  EXPECT_EQ(commonName(kc.certificate.get()), "test.example");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(kc.certificate.get()), X509_get_issuer_name(kc.certificate.get())), 0);
  EXPECT_EQ(X509_get_signature_nid(kc.certificate.get()), NID_ecdsa_with_SHA256);
}

TEST(SelfSignedCertificate, ValidityIsBackdatedAndBounded) {
  auto kc = generate();
  time_t now = time(nullptr);
  time_t almostADayAgo = now - 86400 + 60, inAMonth = now + 30 * 86400 + 60;
  EXPECT_LT(X509_cmp_time(X509_get0_notBefore(kc.certificate.get()), &almostADayAgo), 0);
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(kc.certificate.get()), &inAMonth), 0);
  time_t almostAMonth = now + 29 * 86400;
  EXPECT_GT(X509_cmp_time(X509_get0_notAfter(kc.certificate.get()), &almostAMonth), 0);
}

TEST(SelfSignedCertificate, SerialsDifferAndArePositive) {
  auto a = generate(), b = generate();
  const ASN1_INTEGER* sa = X509_get0_serialNumber(a.certificate.get());
  const ASN1_INTEGER* sb = X509_get0_serialNumber(b.certificate.get());
  EXPECT_NE(ASN1_INTEGER_cmp(sa, sb), 0);
  CHandle<BIGNUM, BN_free> bn(ASN1_INTEGER_to_BN(sa, nullptr));
  ASSERT_TRUE(bn);
  EXPECT_FALSE(BN_is_negative(bn.get()));
}

TEST(SelfSignedCertificate, SubjectAltNamesOnlyWhenAsked) {
  auto plain = generate();
  EXPECT_LT(X509_get_ext_by_NID(plain.certificate.get(), NID_subject_alt_name, -1), 0);
  auto withSan = generate("DNS:localhost,IP:127.0.0.1");
  EXPECT_EQ(X509_check_host(withSan.certificate.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(withSan.certificate.get(), "127.0.0.1", 0), 1);
  EXPECT_THROW(generate("NOT-A-KIND:x"), std::runtime_error);
}

TEST(SelfSignedCertificate, PemRoundTrips) {
  auto kc = generate();
  auto pem = toPem(kc);
  EXPECT_EQ(pem.certificate.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_EQ(pem.privateKey.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8
  CHandle<BIO, BIO_free_all> certBio(BIO_new_mem_buf(pem.certificate.data(), static_cast<int>(pem.certificate.size())));
  CHandle<BIO, BIO_free_all> keyBio(BIO_new_mem_buf(pem.privateKey.data(), static_cast<int>(pem.privateKey.size())));
  Certificate cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
  PrivateKey key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_cmp(cert.get(), kc.certificate.get()), 0);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST(OpensslError, DrainsTheQueue) {
  EXPECT_EQ(drainOpensslErrors(), "");
  EXPECT_NO_THROW(checkOpenssl(true, "fine"));
  CHandle<BIO, BIO_free_all> empty(BIO_new_mem_buf("x", 1));
  EXPECT_EQ(PEM_read_bio_X509(empty.get(), nullptr, nullptr, nullptr), nullptr);  // queues an error
  try {
    checkOpenssl(false, "reading");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("reading: ", 0), 0u);
    EXPECT_NE(std::string(e.what()), "reading: unknown OpenSSL error");
  }
  EXPECT_EQ(drainOpensslErrors(), "");
}

}  // namespace
}  // namespace rtcgate::crypto

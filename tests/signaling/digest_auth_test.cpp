// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/digest_auth.h"

#include <gtest/gtest.h>

namespace rtcgate::signaling {
namespace {

TEST(DigestAuth, Rfc2617Md5Vector) {
  // RFC 2617 3.5.
  auto ha1 = digestHa1(DigestAlgorithm::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(digestResponse(DigestAlgorithm::Md5, ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b",
                           "auth", "GET", "/dir/index.html"),
            "6629fae49393a05397450978507c4ef1");
}

TEST(DigestAuth, Rfc7616Sha256AndMd5Vectors) {
  // RFC 7616 3.9.1.
  const char* nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  const char* cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  auto sha = digestHa1(DigestAlgorithm::Sha256, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(digestResponse(DigestAlgorithm::Sha256, sha, nonce, "00000001", cnonce, "auth", "GET", "/dir/index.html"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  auto md5 = digestHa1(DigestAlgorithm::Md5, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(digestResponse(DigestAlgorithm::Md5, md5, nonce, "00000001", cnonce, "auth", "GET", "/dir/index.html"),
            "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(DigestAuth, ParsesQuotedParametersAndRejectsIncompleteOnes) {
  const char* params[] = {"username=\"alice\"", "realm=\"rtcgate\"", "nonce=\"n1\"", "uri=\"sip:x\"",
                          "response=\"abc\"", "algorithm=SHA-256", "qop=auth", "nc=00000001", "cnonce=\"c\"",
                          nullptr};
  auto c = parseDigestParams(params);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->algorithm, DigestAlgorithm::Sha256);
  EXPECT_EQ(c->cnonce, "c");
  const char* noResponse[] = {"username=\"alice\"", "nonce=\"n1\"", "uri=\"sip:x\"", nullptr};
  EXPECT_FALSE(parseDigestParams(noResponse));
  const char* badAlg[] = {"username=a", "nonce=n", "uri=u", "response=r", "algorithm=SHA-512-256", nullptr};
  EXPECT_FALSE(parseDigestParams(badAlg));
  const char* qopWithoutCnonce[] = {"username=a", "nonce=n", "uri=u", "response=r", "qop=auth", nullptr};
  EXPECT_FALSE(parseDigestParams(qopWithoutCnonce));
}

TEST(NonceSigner, ValidThenStaleAndForgeriesInvalid) {
  NonceSigner signer("key-1", std::chrono::seconds(300));
  auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  auto nonce = signer.issue(t0);
  EXPECT_EQ(signer.check(nonce, t0), NonceSigner::Check::Valid);
  EXPECT_EQ(signer.check(nonce, t0 + std::chrono::seconds(300)), NonceSigner::Check::Valid);
  EXPECT_EQ(signer.check(nonce, t0 + std::chrono::seconds(301)), NonceSigner::Check::Stale);
  EXPECT_EQ(NonceSigner("key-2", std::chrono::seconds(300)).check(nonce, t0), NonceSigner::Check::Invalid);
  std::string tampered = "1800000000" + nonce.substr(nonce.find('.'));
  EXPECT_EQ(signer.check(tampered, t0), NonceSigner::Check::Invalid);
  EXPECT_EQ(signer.check("", t0), NonceSigner::Check::Invalid);
  EXPECT_EQ(signer.check("abc.def", t0), NonceSigner::Check::Invalid);
  EXPECT_EQ(signer.check("99999999999999999999999.x", t0), NonceSigner::Check::Invalid);
  EXPECT_NE(signer.issue(t0), signer.issue(t0));  // unique within one second (replay tracking is per nonce)
}

TEST(Base64Url, Rfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64UrlEncode(""), "");
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
}

}  // namespace
}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
// DTLS-SRTP between two DtlsTransports wired back to back in memory (no sockets): fingerprint checks, roles,
// every SRTP profile, key export symmetry, and SrtpSession auth/replay verdicts.
#include <gtest/gtest.h>

#include <deque>

#include "rtcgate/media/dtls_transport.h"
#include "support/test_support.h"

namespace rtcgate::media {
namespace {

using namespace std::chrono_literals;

struct Endpoint {
  std::unique_ptr<DtlsTransport> dtls;
  std::optional<DtlsSrtpKeys> keys;
  std::string failure;
};

// Two transports on one loop; datagrams are queued and delivered from the loop (never re-entrantly).
struct BackToBack {
  EventLoop loop{"dtls-test"};
  Endpoint a, b;
  std::deque<std::pair<Endpoint*, std::vector<uint8_t>>> inFlight;
  bool dropAll = false;

  BackToBack(std::shared_ptr<const DtlsCertificate> certA, std::shared_ptr<const DtlsCertificate> certB,
             std::vector<SrtpProfile> profilesA, std::vector<SrtpProfile> profilesB,
             std::chrono::milliseconds timeout = 5s) {
    loop.adoptCurrentThread();
    a.dtls = make(certA, profilesA, a, b, timeout);
    b.dtls = make(certB, profilesB, b, a, timeout);
  }

  std::unique_ptr<DtlsTransport> make(std::shared_ptr<const DtlsCertificate> cert, std::vector<SrtpProfile> profiles,
                                      Endpoint& self, Endpoint& peer, std::chrono::milliseconds timeout) {
    DtlsTransport::Callbacks cb;
    cb.send = [this, &peer](const uint8_t* d, size_t n) {
      if (dropAll) return;
      inFlight.emplace_back(&peer, std::vector<uint8_t>(d, d + n));
      loop.post([this] {
        auto [to, data] = std::move(inFlight.front());
        inFlight.pop_front();
        to->dtls->handlePacket(data.data(), data.size());
      });
    };
    cb.connected = [&self](const DtlsSrtpKeys& k) { self.keys = k; };
    cb.failed = [&self](const std::string& r) { self.failure = r; };
    return std::make_unique<DtlsTransport>(loop, std::move(cert), std::move(profiles), timeout, std::move(cb));
  }

  bool run(std::chrono::milliseconds timeout = 5s) {
    return test::pumpUntil(loop, [&] {
      return (a.keys && b.keys) || !a.failure.empty() || !b.failure.empty();
    }, timeout);
  }
};

const std::vector<SrtpProfile> kAll = {SrtpProfile::AeadAes256Gcm, SrtpProfile::AeadAes128Gcm,
                                       SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AesCm128HmacSha1_32};

std::vector<uint8_t> rtp(uint16_t seq) {
  std::vector<uint8_t> p(12 + 160, 0x5a);
  p[0] = 0x80;
  p[1] = 0;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  p[11] = 7;
  return p;
}

TEST(DtlsCertificateTest, GeneratedIsEcdsaP256WithSha256Fingerprint) {
  auto cert = DtlsCertificate::generate();
  EXPECT_EQ(EVP_PKEY_get_base_id(cert->key()), EVP_PKEY_EC);
  EXPECT_EQ(cert->fingerprint().algorithm, "sha-256");
  EXPECT_EQ(cert->fingerprint().value.size(), 32u * 3 - 1);
  EXPECT_EQ(certificateFingerprint(cert->x509(), "sha-256"), cert->fingerprint().value);
  EXPECT_EQ(certificateFingerprint(cert->x509(), "md5"), "");
}

TEST(DtlsCertificateTest, LoadsPemFilesAndRejectsMismatchedKey) {
  test::TempDir dir;
  auto key = dir.path() + "/key.pem", crt = dir.path() + "/cert.pem";
  ASSERT_EQ(std::system(("openssl ecparam -name prime256v1 -genkey -noout -out " + key +
                         " && openssl req -new -x509 -key " + key + " -out " + crt +
                         " -days 2 -subj /CN=test 2>/dev/null").c_str()), 0);
  auto cert = DtlsCertificate::load(crt, key);
  EXPECT_EQ(cert->fingerprint().value.size(), 95u);
  auto other = dir.path() + "/other.pem";
  ASSERT_EQ(std::system(("openssl ecparam -name prime256v1 -genkey -noout -out " + other).c_str()), 0);
  EXPECT_THROW(DtlsCertificate::load(crt, other), std::runtime_error);
  EXPECT_THROW(DtlsCertificate::load(dir.path() + "/missing.pem", key), std::runtime_error);
}

class DtlsProfiles : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(DtlsProfiles, HandshakeExportsMatchingKeysAndSrtpRoundTrips) {
  auto certA = DtlsCertificate::generate(), certB = DtlsCertificate::generate();
  BackToBack t(certA, certB, {GetParam()}, kAll);
  t.a.dtls->setRemoteFingerprints({certB->fingerprint()});
  t.b.dtls->setRemoteFingerprints({certA->fingerprint()});
  t.b.dtls->start(DtlsRole::Server);
  t.a.dtls->start(DtlsRole::Client);
  ASSERT_TRUE(t.run()) << t.a.failure << t.b.failure;
  ASSERT_TRUE(t.a.keys && t.b.keys) << t.a.failure << " / " << t.b.failure;
  EXPECT_EQ(t.a.keys->profile, GetParam());
  EXPECT_EQ(t.a.keys->localKeySalt, t.b.keys->remoteKeySalt);
  EXPECT_EQ(t.a.keys->remoteKeySalt, t.b.keys->localKeySalt);
  EXPECT_NE(t.a.keys->localKeySalt, t.a.keys->remoteKeySalt);
  EXPECT_EQ(t.a.keys->localKeySalt.size(), srtpKeyLength(GetParam()) + srtpSaltLength(GetParam()));

  SrtpSession sa(t.a.keys->profile, t.a.keys->localKeySalt, t.a.keys->remoteKeySalt);
  SrtpSession sb(t.b.keys->profile, t.b.keys->localKeySalt, t.b.keys->remoteKeySalt);
  auto plain = rtp(1);
  std::vector<uint8_t> buf(plain.size() + SrtpSession::kMaxOverhead);
  std::copy(plain.begin(), plain.end(), buf.begin());
  size_t len = plain.size();
  ASSERT_EQ(sa.protectRtp(buf.data(), len, buf.size()), SrtpStatus::Ok);
  EXPECT_GT(len, plain.size());
  auto wire = std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<long>(len));
  ASSERT_EQ(sb.unprotectRtp(buf.data(), len), SrtpStatus::Ok);
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<long>(len)), plain);
  // The same packet again is a replay; a flipped bit fails authentication.
  auto replay = wire;
  size_t rl = replay.size();
  EXPECT_EQ(sb.unprotectRtp(replay.data(), rl), SrtpStatus::ReplayFail);
  auto plain2 = rtp(2);
  std::copy(plain2.begin(), plain2.end(), buf.begin());
  len = plain2.size();
  ASSERT_EQ(sa.protectRtp(buf.data(), len, buf.size()), SrtpStatus::Ok);
  buf[20] ^= 1;
  EXPECT_EQ(sb.unprotectRtp(buf.data(), len), SrtpStatus::AuthFail);
  // SRTCP both ways.
  std::vector<uint8_t> rr = {0x80, 201, 0, 1, 0, 0, 0, 9};
  std::vector<uint8_t> cbuf(rr.size() + SrtpSession::kMaxOverhead);
  std::copy(rr.begin(), rr.end(), cbuf.begin());
  size_t cl = rr.size();
  ASSERT_EQ(sb.protectRtcp(cbuf.data(), cl, cbuf.size()), SrtpStatus::Ok);
  ASSERT_EQ(sa.unprotectRtcp(cbuf.data(), cl), SrtpStatus::Ok);
  EXPECT_EQ(std::vector<uint8_t>(cbuf.begin(), cbuf.begin() + static_cast<long>(cl)), rr);
}

INSTANTIATE_TEST_SUITE_P(Every, DtlsProfiles,
                         ::testing::Values(SrtpProfile::AeadAes256Gcm, SrtpProfile::AeadAes128Gcm,
                                           SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AesCm128HmacSha1_32),
                         [](const auto& p) { return std::string(srtpProfileName(p.param)); });

TEST(DtlsTransportTest, ClientRejectsServerWhoseFingerprintDiffers) {
  auto certA = DtlsCertificate::generate(), certB = DtlsCertificate::generate(), other = DtlsCertificate::generate();
  BackToBack t(certA, certB, kAll, kAll);
  t.a.dtls->setRemoteFingerprints({other->fingerprint()});
  t.b.dtls->setRemoteFingerprints({certA->fingerprint()});
  t.b.dtls->start(DtlsRole::Server);
  t.a.dtls->start(DtlsRole::Client);
  t.run();
  EXPECT_EQ(t.a.failure, "DTLS peer certificate does not match the SDP fingerprint");
  EXPECT_FALSE(t.a.keys);
  EXPECT_FALSE(t.b.keys);
}

TEST(DtlsTransportTest, ServerRejectsClientWhoseFingerprintDiffers) {
  auto certA = DtlsCertificate::generate(), certB = DtlsCertificate::generate(), other = DtlsCertificate::generate();
  BackToBack t(certA, certB, kAll, kAll);
  t.a.dtls->setRemoteFingerprints({certB->fingerprint()});
  t.b.dtls->setRemoteFingerprints({other->fingerprint()});
  t.b.dtls->start(DtlsRole::Server);
  t.a.dtls->start(DtlsRole::Client);
  test::pumpUntil(t.loop, [&] { return !t.b.failure.empty(); }, 5s);
  EXPECT_EQ(t.b.failure, "DTLS peer certificate does not match the SDP fingerprint");
  EXPECT_FALSE(t.b.keys);
}

TEST(DtlsTransportTest, NoCommonSrtpProfileFails) {
  auto certA = DtlsCertificate::generate(), certB = DtlsCertificate::generate();
  BackToBack t(certA, certB, {SrtpProfile::AeadAes256Gcm}, {SrtpProfile::AesCm128HmacSha1_80});
  t.a.dtls->setRemoteFingerprints({certB->fingerprint()});
  t.b.dtls->setRemoteFingerprints({certA->fingerprint()});
  t.b.dtls->start(DtlsRole::Server);
  t.a.dtls->start(DtlsRole::Client);
  t.run();
  EXPECT_FALSE(t.a.keys && t.b.keys);
  EXPECT_FALSE(t.a.failure.empty() && t.b.failure.empty());
}

TEST(DtlsTransportTest, RetransmitsLostFlightsAndMeetsTheDeadline) {
  auto certA = DtlsCertificate::generate(), certB = DtlsCertificate::generate();
  BackToBack t(certA, certB, kAll, kAll, 1500ms);
  t.a.dtls->setRemoteFingerprints({certB->fingerprint()});
  t.b.dtls->setRemoteFingerprints({certA->fingerprint()});
  t.b.dtls->start(DtlsRole::Server);
  // The first ClientHello is lost; OpenSSL's 1 s retransmission timer (driven by our Timer) must resend it.
  t.dropAll = true;
  t.a.dtls->start(DtlsRole::Client);
  t.dropAll = false;
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(t.run(4s));
  EXPECT_TRUE(t.a.keys && t.b.keys) << t.a.failure;
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);

  // Now a peer that never answers: the handshake deadline fails the client with a clear reason.
  BackToBack silent(certA, certB, kAll, kAll, 700ms);
  silent.dropAll = true;
  silent.a.dtls->setRemoteFingerprints({certB->fingerprint()});
  started = std::chrono::steady_clock::now();
  silent.a.dtls->start(DtlsRole::Client);
  ASSERT_TRUE(test::pumpUntil(silent.loop, [&] { return !silent.a.failure.empty(); }, 3s));
  EXPECT_EQ(silent.a.failure, "DTLS handshake timed out");
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 650ms);
  EXPECT_LT(took, 1500ms);
}

}  // namespace
}  // namespace rtcgate::media

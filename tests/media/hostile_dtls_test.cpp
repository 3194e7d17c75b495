// SPDX-License-Identifier: Apache-2.0
// Component tests for the hostile-input catalogue's DTLS item (reliability-security.md §5 item 31;
// tests/component/hostile_catalogue.md): a real BrowserLeg (libnice, OpenSSL, libsrtp2) on 127.0.0.1, and a
// hostile browser made of a UDP socket that does ICE by hand (STUN checks with the right credentials) and then
// runs an OpenSSL DTLS client (the leg is the server) or server (the leg is the client) configured as an attacker
// would: DTLS 1.0 only, no use_srtp, only NULL SRTP profiles, only non-PFS suites. Spoofed records (epoch + 1, a huge sequence number) are sent into a
// live session between two legs from the peer leg's own socket.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

#include "hostile_peer.h"

namespace rtcgate::media {
namespace {

using namespace std::chrono_literals;
using namespace test;

using SslCtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using SslPtr = std::unique_ptr<SSL, decltype(&SSL_free)>;

// The hostile browser: one UDP socket on 127.0.0.1 that answers the leg's ICE checks and nominates the pair as
// the controlling agent, then speaks DTLS through an OpenSSL client with memory BIOs (STUN and DTLS share the
// socket, RFC 7983). Thread: the test thread only.
class HostileBrowser {
public:
  static constexpr const char* kUfrag = "hstl";
  static constexpr const char* kPwd = "hostile-password-0123456789";

  explicit HostileBrowser(std::shared_ptr<const DtlsCertificate> cert) : cert_(std::move(cert)) {
    sockaddr_in a{};
    socklen_t len = sizeof(a);
    ::getsockname(socket_.fd(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }

  // The offer a browser would send: setup:active makes the leg the DTLS server; actpass (what Chrome offers) makes
  // it answer active, the DTLS client (RFC 5763 5).
  sdp::TransportParams offer(sdp::Setup setup = sdp::Setup::Active) const {
    sdp::TransportParams t;
    t.iceUfrag = kUfrag;
    t.icePwd = kPwd;
    t.rtcpMux = true;
    t.setup = setup;
    t.fingerprints.push_back(cert_->fingerprint());
    sdp::IceCandidate c;
    c.foundation = "1";
    c.priority = 2130706431;
    c.address = "127.0.0.1";
    c.port = port_;
    t.candidates.push_back(c);
    return t;
  }

  // ICE toward the leg's answer, until `connected()` says so (bounded).
  bool connectIce(const sdp::TransportParams& answer, const std::function<bool()>& connected) {
    legPort_ = answer.candidates.at(0).port;
    legUser_ = answer.iceUfrag + ":" + kUfrag;
    legPwd_ = answer.icePwd;
    for (int i = 0; i < 100 && !connected(); ++i) {
      StunRequest r{legUser_, legPwd_, {}, true};
      socket_.send(legPort_, bindingRequest(r));
      pump(50ms);
    }
    return connected();
  }

  // Reads what the leg sent for up to `timeout`: answers its ICE checks, feeds DTLS to the client. Returns the
  // number of DTLS datagrams received.
  int pump(std::chrono::milliseconds timeout) {
    int dtls = 0;
    auto until = std::chrono::steady_clock::now() + timeout;
    for (int i = 0; i < 1000; ++i) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      auto d = socket_.receive(std::max(left, 0ms));
      if (!d) break;
      if (d->size() >= 20 && (*d)[0] == 0x00 && (*d)[1] == 0x01) {
        socket_.send(legPort_, bindingSuccess(*d, legPort_, kPwd));  // the leg's check (or consent) of us
      } else if (!d->empty() && (*d)[0] >= 20 && (*d)[0] <= 63) {
        ++dtls;
        if (ssl_) BIO_write(SSL_get_rbio(ssl_.get()), d->data(), static_cast<int>(d->size()));
        received_.push_back(*d);
      }
    }
    return dtls;
  }

  // Runs the DTLS client handshake with `ctx` until it completes or fails (bounded). Returns SSL_do_handshake's
  // last result: 1 done, <= 0 failed or still pending.
  int handshake(SSL_CTX* ctx, bool server = false) {
    ssl_.reset(SSL_new(ctx));
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl_.get(), rbio, wbio);
    SSL_set_options(ssl_.get(), SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(ssl_.get(), 1200);
    if (server) {
      SSL_set_accept_state(ssl_.get());
      for (const auto& d : received_) BIO_write(rbio, d.data(), static_cast<int>(d.size()));  // the ClientHello
    } else {
      SSL_set_connect_state(ssl_.get());
    }
    int rc = 0;
    for (int i = 0; i < 40; ++i) {
      rc = SSL_do_handshake(ssl_.get());
      flush();
      if (rc == 1) break;
      const int err = SSL_get_error(ssl_.get(), rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        lastError_ = err;
        break;
      }
      pump(100ms);
    }
    return rc;
  }

  // A plain (unprotected) RTP packet straight from the socket: no plain-RTP fallback may accept it.
  void sendPlain(const std::vector<uint8_t>& d) { socket_.send(legPort_, d); }

  // Edits each datagram the client sends (before the leg sees it).
  void rewriteOutgoing(std::function<void(std::vector<uint8_t>&)> fn) { rewrite_ = std::move(fn); }

  // Whether the leg's ServerHello (epoch 0, in clear) carries the use_srtp extension (RFC 5764 4.1.1); nullopt:
  // no ServerHello seen.
  std::optional<bool> serverHelloHasUseSrtp() const {
    for (const auto& d : received_) {
      // Record header 13 bytes, handshake header 12 (type 2 = ServerHello), version 2, random 32.
      if (d.size() < 13 + 12 + 35 || d[0] != 22 || d[13] != 2) continue;
      size_t at = 13 + 12 + 34;
      at += 1 + d[at];  // session id
      at += 2 + 1;      // cipher suite, compression
      if (at + 2 > d.size()) return false;
      const size_t end = std::min(d.size(), at + 2 + (d[at] << 8 | d[at + 1]));
      for (at += 2; at + 4 <= end; at += 4 + (d[at + 2] << 8 | d[at + 3]))
        if ((d[at] << 8 | d[at + 1]) == 14) return true;
      return false;
    }
    return std::nullopt;
  }

  size_t dtlsReceived() const { return received_.size(); }
  SSL* ssl() const { return ssl_.get(); }
  int lastError() const { return lastError_; }
  // The alert the leg sent, as OpenSSL's client recorded it (0: none).
  int alertReceived() const {
    // Alert records from the leg: content type 21. Epoch 0 (before ChangeCipherSpec) carries level and description
    // in clear after the 13-byte header.
    for (const auto& d : received_)
      if (d.size() >= 15 && d[0] == 21 && d[3] == 0 && d[4] == 0) return d[14];
    return -1;
  }

private:
  void flush() {
    BIO* wbio = SSL_get_wbio(ssl_.get());
    std::vector<uint8_t> buf(4096);
    for (int i = 0; i < 100 && BIO_ctrl_pending(wbio) > 0; ++i) {
      const int n = BIO_read(wbio, buf.data(), static_cast<int>(buf.size()));
      if (n <= 0) break;
      std::vector<uint8_t> d(buf.begin(), buf.begin() + n);
      if (rewrite_) rewrite_(d);
      socket_.send(legPort_, d);
    }
  }

  std::shared_ptr<const DtlsCertificate> cert_;
  Stranger socket_;
  uint16_t port_ = 0, legPort_ = 0;
  std::string legUser_, legPwd_;
  SslPtr ssl_{nullptr, &SSL_free};
  int lastError_ = 0;
  std::vector<std::vector<uint8_t>> received_;
  std::function<void(std::vector<uint8_t>&)> rewrite_;
};

// An OpenSSL DTLS context (DTLS_client_method or DTLS_server_method) with the hostile browser's certificate,
// offering or accepting `srtpProfiles` in use_srtp (nullptr: no use_srtp at all); `tweak` makes it hostile otherwise.
SslCtxPtr dtlsContext(const SSL_METHOD* method, const DtlsCertificate& cert, const char* srtpProfiles,
                      const std::function<void(SSL_CTX*)>& tweak) {
  SslCtxPtr ctx(SSL_CTX_new(method), &SSL_CTX_free);
  SSL_CTX_use_certificate(ctx.get(), cert.x509());
  SSL_CTX_use_PrivateKey(ctx.get(), cert.key());
  // A server must ask for the client's certificate (the leg's fingerprint check needs none of ours to pass).
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_set_security_level(ctx.get(), 0);  // let the client offer what an attacker would
  // Returns 0 on success (OpenSSL quirk).
  if (srtpProfiles != nullptr) {
    EXPECT_EQ(SSL_CTX_set_tlsext_use_srtp(ctx.get(), srtpProfiles), 0) << srtpProfiles;
  }
  if (tweak) tweak(ctx.get());
  return ctx;
}

constexpr const char* kBrowserProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

// OpenSSL 3.0 cannot name the NULL-cipher SRTP profiles (RFC 5764 4.1.2: SRTP_NULL_HMAC_SHA1_80 = 0x0005,
// SRTP_NULL_HMAC_SHA1_32 = 0x0006) and refuses a custom extension of a type it handles, so the client offers
// SRTP_AES128_CM_SHA1_80 and _32 (0x0001, 0x0002) and the test rewrites them to 0x0005, 0x0006 on the wire. The
// changed ClientHello no longer matches the client's own transcript, so the leg refuses the client's
// CertificateVerify (bad signature) whatever it chose; what shows its choice is its ServerHello: no use_srtp
// extension, no NULL profile selected.
void nullProfilesOnTheWire(std::vector<uint8_t>& d) {
  static const uint8_t offered[] = {0x00, 0x0e, 0x00, 0x07, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02, 0x00};
  auto at = std::search(d.begin(), d.end(), std::begin(offered), std::end(offered));
  if (at == d.end()) return;
  at[7] = 0x05;
  at[9] = 0x06;
}

// A leg answering the hostile browser's offer (with `setup`), connected to it by ICE: what both DTLS directions
// start from. The leg's DTLS deadline is 3 s, a bound should the leg wait instead of failing.
struct HostileSession {
  Metrics metrics;
  LegHarness leg{"media-dtls"};
  std::shared_ptr<const DtlsCertificate> browserCert = DtlsCertificate::generate();
  HostileBrowser browser{browserCert};
  sdp::TransportParams answer;

  void connect(sdp::Setup setup) {
    auto cfg = loopbackConfig();
    cfg.media.dtlsHandshakeTimeoutMs = 3000;
    leg.create(LegRole::Answerer, context(metrics, cfg));
    std::string error;
    ASSERT_TRUE(leg.run([&] {
      bool ok = leg.leg->setRemoteDescription(browser.offer(setup), &error);
      leg.leg->start();
      return ok;
    })) << error;
    ASSERT_TRUE(leg.waitFor([&] { return leg.local.has_value(); }, 5s));
    answer = *leg.local;
    ASSERT_TRUE(browser.connectIce(answer, [&] {
      return leg.run([&] { return leg.leg->stats().iceRemoteAddress; }) != "";
    }));
  }
  std::atomic<uint64_t>& failed() { return metrics.counter("rtcgate_browser_legs_failed_total", ""); }
  // After the leg reported a failure: it names `reason`, the leg never connected, derived no SRTP keys.
  void expectFailedWithoutKeys(const char* reason) {
    ASSERT_TRUE(leg.waitFor([&] { return !leg.failure.empty(); }, 5s));
    {
      std::lock_guard lock(leg.mutex());  // the leg's thread writes these
      EXPECT_NE(leg.failure.find(reason), std::string::npos) << leg.failure;
      EXPECT_FALSE(leg.connected);
    }
    auto s = leg.run([&] { return leg.leg->stats(); });
    EXPECT_EQ(s.srtpProfile, "");  // no SRTP keys were derived
    EXPECT_EQ(s.state, LegState::Failed);
  }
};

struct HostileCase {
  const char* name;
  bool legIsServer;          // the browser offers setup:active (the leg serves) or actpass (the leg answers active)
  const char* srtpProfiles;  // the hostile side's use_srtp (nullptr: none offered / the extension ignored)
  std::function<void(SSL_CTX*)> tweak;
  std::function<void(std::vector<uint8_t>&)> rewrite;
  bool handshakeCompletes;  // from the hostile side: OpenSSL ignores a use_srtp it cannot satisfy
  int alert;                // TLS alert description the leg sends in clear (-1: not asserted)
  const char* failure;      // part of the leg's failure reason
};

// gtest prints the parameter in test names (ctest -R): the case's name, not its bytes.
void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

class HostileDtlsPeer : public ::testing::TestWithParam<HostileCase> {};

// Item 31: the handshake fails (alert, or DTLS completes without SRTP), the leg fails and is counted, no SRTP
// keys exist, and plain RTP from the same address is not taken instead.
TEST_P(HostileDtlsPeer, FailsTheLegWithoutSrtpKeys) {
  const auto& c = GetParam();
  HostileSession h;
  h.connect(c.legIsServer ? sdp::Setup::Active : sdp::Setup::ActPass);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ASSERT_EQ(h.answer.setup, c.legIsServer ? sdp::Setup::Passive : sdp::Setup::Active);
  // The leg as client sends its ClientHello once ICE is up: the hostile server starts from it.
  for (int i = 0; i < 50 && !c.legIsServer && h.browser.dtlsReceived() == 0; ++i) h.browser.pump(100ms);
  const auto failedBefore = h.failed().load();

  auto ctx = dtlsContext(c.legIsServer ? DTLS_client_method() : DTLS_server_method(), *h.browserCert, c.srtpProfiles,
                         c.tweak);
  if (c.rewrite) h.browser.rewriteOutgoing(c.rewrite);
  const int rc = h.browser.handshake(ctx.get(), !c.legIsServer);
  EXPECT_EQ(rc == 1, c.handshakeCompletes) << "SSL error " << h.browser.lastError();
  h.expectFailedWithoutKeys(c.failure);
  EXPECT_EQ(h.leg.run([&] { return h.leg.leg->stats().dtlsRole; }), c.legIsServer ? "server" : "client");
  if (c.alert >= 0) {
    h.browser.pump(0ms);  // sent before the leg reported its failure: already queued
    EXPECT_EQ(h.browser.alertReceived(), c.alert);
  }
  if (c.legIsServer && (c.srtpProfiles == nullptr || c.rewrite)) {  // the leg answered, and selected no profile
    ASSERT_TRUE(h.browser.serverHelloHasUseSrtp().has_value());
    EXPECT_FALSE(*h.browser.serverHelloHasUseSrtp());
  }
  EXPECT_EQ(h.failed().load(), failedBefore + 1);
  // No plain-RTP fallback: an unprotected packet from the browser's address reaches nobody.
  h.browser.sendPlain(test::rtpPacket(111, 1, 0, 0x99, 0x42));
  h.browser.pump(100ms);
  std::lock_guard lock(h.leg.mutex());
  EXPECT_TRUE(h.leg.rtp.empty());
}

void dtls10Only(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, DTLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, DTLS1_VERSION);
}
void nonPfsSuitesOnly(SSL_CTX* ctx) { SSL_CTX_set_cipher_list(ctx, "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA"); }

INSTANTIATE_TEST_SUITE_P(
    Item31, HostileDtlsPeer,
    ::testing::Values(
        // The leg as DTLS server, against hostile clients.
        // RFC 8827 6.5: DTLS 1.2 only. OpenSSL answers a 1.0-only ClientHello with protocol_version (70).
        HostileCase{"ClientDtls10Only", true, kBrowserProfiles, dtls10Only, nullptr, false, 70, "DTLS handshake failed"},
        // No use_srtp at all: DTLS completes, but there are no SRTP keys to use (RFC 5764 4.1.1), so the leg fails.
        HostileCase{"ClientNoUseSrtp", true, nullptr, nullptr, nullptr, true, -1, "without a common SRTP profile"},
        // Only the NULL-cipher profiles (see nullProfilesOnTheWire).
        HostileCase{"ClientOnlyNullSrtpProfiles", true, "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32", nullptr,
                    nullProfilesOnTheWire, false, -1, "DTLS handshake failed"},
        // Only static-RSA (non-PFS) suites: nothing in common with the leg's ECDHE list: handshake_failure (40).
        HostileCase{"ClientOnlyNonPfsSuites", true, kBrowserProfiles, nonPfsSuitesOnly, nullptr, false, 40,
                    "DTLS handshake failed"},
        // The leg as DTLS client (it answers every browser offer active: every agent-originated call), against
        // hostile servers. A server answering DTLS 1.0 to the leg's 1.2-only ClientHello is refused.
        HostileCase{"ServerDtls10Only", false, kBrowserProfiles, dtls10Only, nullptr, false, -1,
                    "unsupported protocol"},
        // A server that ignores use_srtp: DTLS completes without SRTP keys, the leg fails.
        HostileCase{"ServerNoUseSrtp", false, nullptr, nullptr, nullptr, true, -1, "without a common SRTP profile"},
        // A server with only non-PFS suites: none in common, it sends handshake_failure.
        HostileCase{"ServerOnlyNonPfsSuites", false, kBrowserProfiles, nonPfsSuitesOnly, nullptr, false, -1,
                    "alert handshake failure"}),
    [](const ::testing::TestParamInfo<HostileCase>& param) { return std::string(param.param.name); });

// Item 31, spoofed records (CVE-2016-2181 class): from the peer's own address, a record for epoch 2 (one ahead)
// and one for the current epoch with a sequence number near 2^48, both with junk for a MAC. They must change
// nothing: media flows both ways afterwards, and the peer's genuine close_notify (a small sequence number) is still
// accepted, which it would not be had the replay window moved to the spoofed number.
TEST(HostileDtls, SpoofedEpochAndSequenceRecordsLeaveTheSessionAlone) {
  Pair p;
  const int peerFd = p.connectAndFindPeerSocket();
  ASSERT_GE(peerFd, 0);
  auto record = [](uint8_t type, uint16_t epoch, uint64_t seq) {
    std::vector<uint8_t> r = {type, 0xFE, 0xFD, static_cast<uint8_t>(epoch >> 8), static_cast<uint8_t>(epoch)};
    for (int i = 5; i >= 0; --i) r.push_back(static_cast<uint8_t>(seq >> (8 * i)));
    r.push_back(0);
    r.push_back(48);
    for (int i = 0; i < 48; ++i) r.push_back(static_cast<uint8_t>(0xA5 ^ i));
    return r;
  };
  const std::vector<std::vector<uint8_t>> spoofed = {
      record(23, 2, 1),                  // application data, next epoch
      record(21, 2, 0xFFFFFFFFFFFFull),  // alert, next epoch, the largest sequence number
      record(23, 1, 0xFFFFFFFFFFF0ull),  // application data, current epoch, sequence near 2^48
      record(21, 1, 0xFFFFFFFFFFF1ull),  // alert, current epoch
      record(20, 2, 0),                  // ChangeCipherSpec into epoch 2
      record(22, 2, 5),                  // handshake (renegotiation attempt) in epoch 2
  };
  for (const auto& r : spoofed) sendFrom(peerFd, p.answererPort(), r);
  EXPECT_TRUE(mediaFlows(p.offerer, p.answerer, 0x51));
  EXPECT_TRUE(mediaFlows(p.answerer, p.offerer, 0x52));
  auto s = p.answererStats();
  EXPECT_EQ(s.state, LegState::Connected);
  EXPECT_EQ(s.dtlsState, DtlsState::Connected);
  {
    std::lock_guard lock(p.answerer.mutex());
    EXPECT_TRUE(p.answerer.failure.empty()) << p.answerer.failure;
    EXPECT_FALSE(p.answerer.closedByPeer);
  }

  p.offerer.run([&] {
    auto* leg = p.offerer.leg.release();
    leg->close([leg] { delete leg; });
  });
  ASSERT_TRUE(p.answerer.waitFor([&] { return p.answerer.closedByPeer || !p.answerer.failure.empty(); }, 5s));
  std::lock_guard lock(p.answerer.mutex());
  EXPECT_TRUE(p.answerer.closedByPeer) << p.answerer.failure;
}

}  // namespace
}  // namespace rtcgate::media

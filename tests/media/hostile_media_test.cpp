// SPDX-License-Identifier: Apache-2.0
// Component tests for the hostile-input catalogue's media items (reliability-security.md §5 items 23, 24, 27, 33;
// tests/component/hostile_catalogue.md): real BrowserLegs with real libnice, OpenSSL and libsrtp2 on 127.0.0.1,
// and hostile datagrams from real UDP sockets. "From the right source" means from the legitimate peer leg's own
// libnice socket: the test finds that descriptor in this process (/proc/self/fd) and sends on it, so the datagram
// carries exactly the address the leg has selected.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <iterator>

#include "leg_harness.h"
#include "rtcgate/media/browser_leg.h"

namespace rtcgate::media {
namespace {

using namespace std::chrono_literals;
using test::LegHarness;

std::shared_ptr<const DtlsCertificate> sharedCert() {
  static auto cert = DtlsCertificate::generate();
  return cert;
}

config::Config loopbackConfig() {
  config::Config c;
  c.ice.candidates.allowLoopback = true;
  c.media.icePortMin = 0;
  c.media.icePortMax = 0;
  return c;
}

MediaContext context(Metrics& metrics, const config::Config& cfg) {
  MediaContext ctx;
  ctx.config = std::make_shared<const config::Config>(cfg);
  ctx.certificate = sharedCert();
  ctx.metrics = &metrics;
  ctx.localAddressesOverride = {{"lo", "127.0.0.1", false, true}};
  return ctx;
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// The UDP socket of this process bound to 127.0.0.1:port (a libnice candidate's socket), or -1.
int udpSocketBoundTo(uint16_t port) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  for (int i = 0; i < 4096 && found < 0; ++i) {
    dirent* e = ::readdir(dir);
    if (e == nullptr) break;
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    sockaddr_in a{};
    socklen_t len = sizeof(a);
    int type = 0;
    socklen_t tlen = sizeof(type);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET) continue;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_DGRAM) continue;
    if (ntohs(a.sin_port) == port) found = fd;
  }
  ::closedir(dir);
  return found;
}

void sendFrom(int fd, uint16_t toPort, const std::vector<uint8_t>& d) {
  auto to = loopback(toPort);
  ASSERT_EQ(::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
            static_cast<ssize_t>(d.size()));
}

// A stranger on 127.0.0.1 (not a candidate of anybody) that sends datagrams and reads what comes back.
class Stranger {
public:
  Stranger() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto a = loopback(0);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  ~Stranger() { ::close(fd_); }
  int fd() const { return fd_; }
  void send(uint16_t port, const std::vector<uint8_t>& d) const { sendFrom(fd_, port, d); }
  // The next datagram within `timeout`, or nullopt.
  std::optional<std::vector<uint8_t>> receive(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    std::vector<uint8_t> buf(2048);
    const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    return buf;
  }

private:
  int fd_ = -1;
};

// --- STUN (RFC 5389) -----------------------------------------------------------------------------------------

constexpr uint32_t kMagicCookie = 0x2112A442;

uint32_t crc32(const uint8_t* d, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= d[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}

void appendAttr(std::vector<uint8_t>& m, uint16_t type, const std::vector<uint8_t>& value) {
  const size_t at = m.size();
  m.resize(at + 4);
  put16(m, at, type);
  put16(m, at + 2, static_cast<uint16_t>(value.size()));
  m.insert(m.end(), value.begin(), value.end());
  while (m.size() % 4 != 0) m.push_back(0);
}

struct StunRequest {
  std::optional<std::string> username;  // USERNAME "recipientUfrag:senderUfrag"
  std::optional<std::string> key;       // MESSAGE-INTEGRITY key (the recipient's ICE password); none: no MI
  std::array<uint8_t, 12> transaction{};
};

// An ICE Binding request (RFC 8445 7.1): USERNAME, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY, FINGERPRINT.
std::vector<uint8_t> bindingRequest(StunRequest& r) {
  RAND_bytes(r.transaction.data(), static_cast<int>(r.transaction.size()));
  std::vector<uint8_t> m(20, 0);
  m[1] = 0x01;  // Binding request
  for (int i = 0; i < 4; ++i) m[4 + i] = static_cast<uint8_t>(kMagicCookie >> (24 - 8 * i));
  for (size_t i = 0; i < r.transaction.size(); ++i) m[8 + i] = r.transaction[i];
  if (r.username) appendAttr(m, 0x0006, std::vector<uint8_t>(r.username->begin(), r.username->end()));
  appendAttr(m, 0x0024, {0x6e, 0x00, 0x01, 0xff});                       // PRIORITY
  appendAttr(m, 0x802A, {1, 2, 3, 4, 5, 6, 7, 8});                        // ICE-CONTROLLING tie-breaker
  if (r.key) {
    // RFC 5389 15.4: the length field counts MESSAGE-INTEGRITY itself when the HMAC is computed.
    put16(m, 2, static_cast<uint16_t>(m.size() - 20 + 24));
    unsigned int len = 0;
    std::array<uint8_t, 20> mac{};
    HMAC(EVP_sha1(), r.key->data(), static_cast<int>(r.key->size()), m.data(), m.size(), mac.data(), &len);
    appendAttr(m, 0x0008, std::vector<uint8_t>(mac.begin(), mac.end()));
  }
  put16(m, 2, static_cast<uint16_t>(m.size() - 20 + 8));  // RFC 5389 15.5: FINGERPRINT counted too
  const uint32_t fp = crc32(m.data(), m.size()) ^ 0x5354554Eu;
  appendAttr(m, 0x8028, {static_cast<uint8_t>(fp >> 24), static_cast<uint8_t>(fp >> 16), static_cast<uint8_t>(fp >> 8),
                         static_cast<uint8_t>(fp)});
  return m;
}

struct StunAnswer {
  uint16_t type = 0;       // 0x0101 success, 0x0111 error
  int errorCode = 0;       // ERROR-CODE class*100 + number
};

std::optional<StunAnswer> parseAnswer(const std::vector<uint8_t>& d, const std::array<uint8_t, 12>& transaction) {
  if (d.size() < 20 || !std::equal(transaction.begin(), transaction.end(), d.begin() + 8)) return std::nullopt;
  StunAnswer a;
  a.type = static_cast<uint16_t>(d[0] << 8 | d[1]);
  for (size_t at = 20; at + 4 <= d.size();) {
    const uint16_t type = static_cast<uint16_t>(d[at] << 8 | d[at + 1]);
    const uint16_t len = static_cast<uint16_t>(d[at + 2] << 8 | d[at + 3]);
    if (type == 0x0009 && len >= 4 && at + 8 <= d.size()) a.errorCode = (d[at + 6] & 7) * 100 + d[at + 7];
    at += 4 + ((len + 3u) & ~3u);
  }
  return a;
}

// Waits until everything sent to the leg so far has been handled: a valid Binding request from `fencer`, sent
// after it, is answered. Loopback UDP delivers each sendto() into the receiving socket's queue before it returns,
// and libnice reads that queue and answers on one thread in order, so answers to earlier datagrams (to anybody)
// are queued before the fence's answer arrives. Returns the fence's answer.
std::optional<StunAnswer> fence(const Stranger& fencer, uint16_t port, const std::string& user, const std::string& key) {
  StunRequest r{user, key, {}};
  fencer.send(port, bindingRequest(r));
  for (int i = 0; i < 50; ++i) {  // bounded: libnice also sends its own triggered checks to the fencer
    auto d = fencer.receive(5s);
    if (!d) return std::nullopt;
    if (auto a = parseAnswer(*d, r.transaction)) return a;
  }
  return std::nullopt;
}

// Every datagram already waiting on `s`, without blocking.
std::vector<std::vector<uint8_t>> drain(const Stranger& s) {
  std::vector<std::vector<uint8_t>> out;
  for (int i = 0; i < 1000; ++i) {
    auto d = s.receive(0ms);
    if (!d) break;
    out.push_back(std::move(*d));
  }
  return out;
}

std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Pair {
  Metrics metrics;
  LegHarness offerer{"media-A"};
  LegHarness answerer{"media-B"};
  sdp::TransportParams offer, answer;

  void negotiate() {
    const auto cfg = loopbackConfig();
    offerer.create(LegRole::Offerer, context(metrics, cfg));
    answerer.create(LegRole::Answerer, context(metrics, cfg));
    offerer.run([&] { offerer.leg->start(); });
    ASSERT_TRUE(offerer.waitFor([&] { return offerer.local.has_value(); }, 5s));
    offer = *offerer.local;
    std::string error;
    ASSERT_TRUE(answerer.run([&] {
      bool ok = answerer.leg->setRemoteDescription(offer, &error);
      answerer.leg->start();
      return ok;
    })) << error;
    ASSERT_TRUE(answerer.waitFor([&] { return answerer.local.has_value(); }, 5s));
    answer = *answerer.local;
    ASSERT_TRUE(offerer.run([&] { return offerer.leg->setRemoteDescription(answer, &error); })) << error;
  }
  bool bothConnected() {
    return offerer.waitFor([&] { return offerer.connected; }, 10s) &&
           answerer.waitFor([&] { return answerer.connected; }, 10s);
  }
  uint16_t answererPort() const { return answer.candidates.at(0).port; }
  uint16_t offererPort() const { return offer.candidates.at(0).port; }
  LegStats answererStats() { return answerer.run([&] { return answerer.leg->stats(); }); }
};

// Sends n RTP packets from `from` and waits until `to` has decrypted them all.
bool mediaFlows(LegHarness& from, LegHarness& to, uint8_t fill, int n = 5) {
  size_t before = 0;
  {
    std::lock_guard lock(to.mutex());
    before = to.rtp.size();
  }
  from.run([&] {
    static uint16_t seq = 1000;  // strictly increasing, or the receiver's replay window drops repeats
    for (int i = 0; i < n; ++i, ++seq) {
      auto p = test::rtpPacket(111, seq, 960u * seq, 0x1234u, fill);
      from.leg->sendRtp(p.data(), p.size());
    }
  });
  return to.waitFor([&] { return to.rtp.size() >= before + static_cast<size_t>(n); }, 5s);
}

uint64_t metric(Metrics& m, const std::string& name) {
  const auto text = m.renderPrometheus();
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(text.substr(at + name.size() + 2));
}

// Items 23 and 24: Binding requests with no MESSAGE-INTEGRITY, the wrong password, the wrong USERNAME, and
// malformed STUN, from an attacker that never authenticates, first while the leg is still checking, then once it is
// connected; malformed STUN from the selected peer's own address too.
TEST(HostileMedia, BadStunGetsAnErrorOrNothingAndNeitherMovesNorStopsTheLeg) {
  Pair p;
  p.negotiate();
  Stranger attacker, fencer;
  const uint16_t port = p.answererPort();
  const std::string user = p.answer.iceUfrag + ":" + p.offer.iceUfrag;
  const std::string key = p.answer.icePwd;

  // RFC 5769 2.1 (a USERNAME no leg has) and malformed copies of it.
  auto vector = readFile(std::string(RTCGATE_SOURCE_DIR) + "/fuzz/corpus/media_packet/rfc5769_2_1_request.bin");
  ASSERT_EQ(vector.size(), 108u);
  std::array<uint8_t, 12> vectorTx{};
  std::copy(vector.begin() + 8, vector.begin() + 20, vectorTx.begin());
  auto lengthBeyond = vector;
  put16(lengthBeyond, 2, 400);  // more than the datagram holds
  auto lengthNotFour = vector;
  put16(lengthNotFour, 2, 87);
  auto attrOverrun = vector;
  put16(attrOverrun, 22, 0x0400);  // the first attribute (SOFTWARE) claims 1 KiB
  const std::vector<std::pair<const char*, std::vector<uint8_t>>> malformed = {
      {"truncated header", std::vector<uint8_t>(vector.begin(), vector.begin() + 12)},
      {"length beyond the datagram", lengthBeyond},
      {"length not a multiple of 4", lengthNotFour},
      {"attribute length beyond the message", attrOverrun},
  };

  auto hostile = [&](const char* phase) {
    SCOPED_TRACE(phase);
    // RFC 5389 10.1.2: no MESSAGE-INTEGRITY/USERNAME → 400; RFC 8445 7.3 / RFC 5389 10.1.2: a USERNAME that is not
    // the leg's, or a MESSAGE-INTEGRITY that does not verify → 401. libnice 0.1.21 does exactly that.
    struct Case {
      const char* what;
      StunRequest request;
      int expectedError;
    };
    std::vector<Case> cases = {
        {"no USERNAME, no MESSAGE-INTEGRITY", {std::nullopt, std::nullopt, {}}, 400},
        {"USERNAME, no MESSAGE-INTEGRITY", {user, std::nullopt, {}}, 400},
        {"wrong password", {user, std::string("wrong-password-0123456"), {}}, 401},
        {"wrong USERNAME", {"zzzz:" + p.offer.iceUfrag, key, {}}, 401},
    };
    for (auto& c : cases) {
      SCOPED_TRACE(c.what);
      attacker.send(port, bindingRequest(c.request));
      auto f = fence(fencer, port, user, key);
      ASSERT_TRUE(f.has_value());
      EXPECT_EQ(f->type, 0x0101);
      auto got = drain(attacker);
      ASSERT_EQ(got.size(), 1u);  // the error answer, and no triggered check toward the attacker
      auto a = parseAnswer(got[0], c.request.transaction);
      ASSERT_TRUE(a.has_value());
      EXPECT_EQ(a->type, 0x0111);
      EXPECT_EQ(a->errorCode, c.expectedError);
    }
    for (const auto& [what, bytes] : malformed) {
      SCOPED_TRACE(what);
      attacker.send(port, bytes);
      ASSERT_TRUE(fence(fencer, port, user, key).has_value());
      EXPECT_TRUE(drain(attacker).empty());  // no answer; not STUN for libnice, and data from nobody it knows
    }
    attacker.send(port, vector);
    ASSERT_TRUE(fence(fencer, port, user, key).has_value());
    auto got = drain(attacker);
    ASSERT_EQ(got.size(), 1u);
    auto a = parseAnswer(got[0], vectorTx);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->type, 0x0111);
    EXPECT_EQ(a->errorCode, 401);
  };

  hostile("checking");
  ASSERT_TRUE(p.bothConnected());
  auto before = p.answererStats();
  EXPECT_EQ(before.iceRemoteAddress, "127.0.0.1:" + std::to_string(p.offererPort()));
  hostile("connected");
  EXPECT_EQ(p.answererStats().demuxUnknown, 0u);  // none of the attacker's datagrams reached the leg

  // From the selected peer's address, libnice's STUN parser refuses the malformed copies and hands them to the
  // leg as data: counted there as neither DTLS, RTP nor RTCP.
  const int peerFd = udpSocketBoundTo(p.offererPort());
  ASSERT_GE(peerFd, 0);
  for (const auto& m : malformed) sendFrom(peerFd, port, m.second);
  ASSERT_TRUE(fence(fencer, port, user, key).has_value());
  auto after = p.answererStats();
  EXPECT_EQ(after.demuxUnknown, malformed.size());
  EXPECT_EQ(after.state, LegState::Connected);
  EXPECT_EQ(after.iceRemoteAddress, before.iceRemoteAddress);
  EXPECT_EQ(after.droppedBeforeDtls, 0u);
  EXPECT_TRUE(mediaFlows(p.offerer, p.answerer, 0x11));
  EXPECT_TRUE(mediaFlows(p.answerer, p.offerer, 0x22));
}

// Item 27: datagrams outside the RFC 7983 ranges, and 0- and 1-byte datagrams, from the selected peer's own
// address are dropped and counted; from a stranger libnice drops them before the leg; the leg keeps working.
TEST(HostileMedia, DatagramsOutsideRfc7983AreDroppedAndCounted) {
  Pair p;
  p.negotiate();
  ASSERT_TRUE(p.bothConnected());
  const int peerFd = udpSocketBoundTo(p.offererPort());
  ASSERT_GE(peerFd, 0);
  const std::vector<std::vector<uint8_t>> junk = {
      {0x80},                          // 1 byte (would be RTP)
      {0x16},                          // 1 byte (would be DTLS)
      std::vector<uint8_t>(40, 0x04),  // 4..19: reserved
      std::vector<uint8_t>(40, 0x50),  // 64..79: TURN channel, and there is no TURN on this path
      std::vector<uint8_t>(40, 0x7F),  // 80..127
      std::vector<uint8_t>(40, 0xFF),  // 192..255
  };
  for (const auto& d : junk) sendFrom(peerFd, p.answererPort(), d);
  // A 0-byte datagram: libnice 0.1.21 reads it as "nothing received" and never calls the leg (the leg would count
  // it: classifyPacket calls anything under 2 bytes unknown).
  sendFrom(peerFd, p.answererPort(), {});
  // Media sent after the junk on the same socket pair is handled after it: once it is in, the junk was handled.
  EXPECT_TRUE(mediaFlows(p.offerer, p.answerer, 0x33));
  auto s = p.answererStats();
  EXPECT_EQ(s.demuxUnknown, junk.size());
  EXPECT_EQ(metric(p.metrics, "rtcgate_media_demux_unknown_total"), junk.size());

  // From an address libnice has not validated: dropped by libnice before the leg (not counted by rtcgate).
  Stranger stranger;
  for (const auto& d : junk) stranger.send(p.answererPort(), d);
  stranger.send(p.answererPort(), {});
  EXPECT_TRUE(mediaFlows(p.offerer, p.answerer, 0x34));
  s = p.answererStats();
  EXPECT_EQ(s.demuxUnknown, junk.size());
  EXPECT_EQ(s.srtpAuthFailures, 0u);
  EXPECT_EQ(s.rtpPacketsReceived, 10u);
  EXPECT_EQ(s.state, LegState::Connected);
  EXPECT_EQ(s.iceRemoteAddress, "127.0.0.1:" + std::to_string(p.offererPort()));
  EXPECT_TRUE(mediaFlows(p.answerer, p.offerer, 0x44));
}

// Item 33: SRTP with a wrong tag, a truncated tag, or no payload and no tag, from the selected peer's address:
// dropped before anything is delivered and counted; from a stranger: dropped by libnice; the remote address stays.
TEST(HostileMedia, ForgedSrtpIsCountedAndNeverMovesTheRemoteAddress) {
  Pair p;
  p.negotiate();
  ASSERT_TRUE(p.bothConnected());
  const int peerFd = udpSocketBoundTo(p.offererPort());
  ASSERT_GE(peerFd, 0);
  auto wrongTag = test::rtpPacket(111, 5000, 0, 0x1234u, 0x55);
  wrongTag.insert(wrongTag.end(), 16, 0xAB);  // a tag of junk (AEAD_AES_256_GCM: 16 bytes)
  auto truncatedTag = test::rtpPacket(111, 5001, 960, 0x1234u, 0x55);
  truncatedTag.insert(truncatedTag.end(), 4, 0xAB);
  auto headerOnly = test::rtpPacket(111, 5002, 1920, 0x1234u, 0x55, 0);  // 12 bytes: no payload, no tag
  auto tiny = std::vector<uint8_t>{0x80, 0x6f, 0x13, 0x8b, 0, 0, 0, 0};  // 8 bytes: less than an RTP header
  const std::vector<std::vector<uint8_t>> forged = {wrongTag, truncatedTag, headerOnly, tiny};
  for (const auto& d : forged) sendFrom(peerFd, p.answererPort(), d);
  Stranger stranger;
  for (const auto& d : forged) stranger.send(p.answererPort(), d);
  EXPECT_TRUE(mediaFlows(p.offerer, p.answerer, 0x66, 3));
  {
    std::lock_guard lock(p.answerer.mutex());
    EXPECT_EQ(p.answerer.rtp.size(), 3u);  // only the real packets were delivered
  }
  auto s = p.answererStats();
  EXPECT_EQ(s.srtpAuthFailures, forged.size());  // the peer's four; the stranger's never reached the leg
  EXPECT_EQ(metric(p.metrics, "rtcgate_srtp_auth_failures_total"), forged.size());
  EXPECT_EQ(s.srtpReplayFailures, 0u);
  EXPECT_EQ(s.rtpPacketsReceived, 3u);
  EXPECT_EQ(s.state, LegState::Connected);
  EXPECT_EQ(s.iceRemoteAddress, "127.0.0.1:" + std::to_string(p.offererPort()));
  EXPECT_TRUE(mediaFlows(p.answerer, p.offerer, 0x77));
}

}  // namespace
}  // namespace rtcgate::media

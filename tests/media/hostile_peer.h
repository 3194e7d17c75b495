// SPDX-License-Identifier: Apache-2.0
#pragma once
// What the hostile-input component tests (hostile_media_test.cpp, hostile_dtls_test.cpp) share: real BrowserLegs
// on 127.0.0.1, strangers with real UDP sockets, a STUN (RFC 5389) message builder for ICE checks, and a way to
// send from a peer leg's own libnice socket.
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

namespace rtcgate::media::test {

using namespace std::chrono_literals;

inline std::shared_ptr<const DtlsCertificate> sharedCert() {
  static auto cert = DtlsCertificate::generate();
  return cert;
}

inline config::Config loopbackConfig() {
  config::Config c;
  c.ice.candidates.allowLoopback = true;
  c.media.icePortMin = 0;
  c.media.icePortMax = 0;
  return c;
}

inline MediaContext context(Metrics& metrics, const config::Config& cfg) {
  MediaContext ctx;
  ctx.config = std::make_shared<const config::Config>(cfg);
  ctx.certificate = sharedCert();
  ctx.metrics = &metrics;
  ctx.localAddressesOverride = {{"lo", "127.0.0.1", false, true}};
  return ctx;
}

inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// The UDP socket of this process bound to 127.0.0.1:port (a libnice candidate's socket), or -1.
inline int udpSocketBoundTo(uint16_t port) {
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

inline void sendFrom(int fd, uint16_t toPort, const std::vector<uint8_t>& d) {
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

inline constexpr uint32_t kMagicCookie = 0x2112A442;

inline uint32_t crc32(const uint8_t* d, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= d[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

inline void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}

inline void appendAttr(std::vector<uint8_t>& m, uint16_t type, const std::vector<uint8_t>& value) {
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
  bool useCandidate = false;            // RFC 8445 7.1.2: nominate the pair (controlling side)
};

// A STUN message of `type` with `attrs` (type, value), then MESSAGE-INTEGRITY keyed with `key` if any, then
// FINGERPRINT.
inline std::vector<uint8_t> stunMessage(uint16_t type, const std::array<uint8_t, 12>& transaction,
                                 const std::vector<std::pair<uint16_t, std::vector<uint8_t>>>& attrs,
                                 const std::optional<std::string>& key) {
  std::vector<uint8_t> m(20, 0);
  put16(m, 0, type);
  for (int i = 0; i < 4; ++i) m[4 + i] = static_cast<uint8_t>(kMagicCookie >> (24 - 8 * i));
  for (size_t i = 0; i < transaction.size(); ++i) m[8 + i] = transaction[i];
  for (const auto& [t, v] : attrs) appendAttr(m, t, v);
  if (key) {
    // RFC 5389 15.4: the length field counts MESSAGE-INTEGRITY itself when the HMAC is computed.
    put16(m, 2, static_cast<uint16_t>(m.size() - 20 + 24));
    unsigned int len = 0;
    std::array<uint8_t, 20> mac{};
    HMAC(EVP_sha1(), key->data(), static_cast<int>(key->size()), m.data(), m.size(), mac.data(), &len);
    appendAttr(m, 0x0008, std::vector<uint8_t>(mac.begin(), mac.end()));
  }
  put16(m, 2, static_cast<uint16_t>(m.size() - 20 + 8));  // RFC 5389 15.5: FINGERPRINT counted too
  const uint32_t fp = crc32(m.data(), m.size()) ^ 0x5354554Eu;
  appendAttr(m, 0x8028, {static_cast<uint8_t>(fp >> 24), static_cast<uint8_t>(fp >> 16), static_cast<uint8_t>(fp >> 8),
                         static_cast<uint8_t>(fp)});
  return m;
}

// An ICE Binding request (RFC 8445 7.1): USERNAME, PRIORITY, ICE-CONTROLLING[, USE-CANDIDATE], MESSAGE-INTEGRITY,
// FINGERPRINT.
inline std::vector<uint8_t> bindingRequest(StunRequest& r) {
  RAND_bytes(r.transaction.data(), static_cast<int>(r.transaction.size()));
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> attrs;
  if (r.username) attrs.push_back({0x0006, std::vector<uint8_t>(r.username->begin(), r.username->end())});
  attrs.push_back({0x0024, {0x6e, 0x00, 0x01, 0xff}});          // PRIORITY
  attrs.push_back({0x802A, {1, 2, 3, 4, 5, 6, 7, 8}});          // ICE-CONTROLLING tie-breaker
  if (r.useCandidate) attrs.push_back({0x0025, {}});            // USE-CANDIDATE
  return stunMessage(0x0001, r.transaction, attrs, r.key);
}

// A Binding success response to `request` from 127.0.0.1:`fromPort` (XOR-MAPPED-ADDRESS), keyed with `key`.
inline std::vector<uint8_t> bindingSuccess(const std::vector<uint8_t>& request, uint16_t fromPort, const std::string& key) {
  std::array<uint8_t, 12> tx{};
  std::copy(request.begin() + 8, request.begin() + 20, tx.begin());
  const uint16_t xport = fromPort ^ static_cast<uint16_t>(kMagicCookie >> 16);
  const uint32_t xaddr = 0x7F000001u ^ kMagicCookie;
  std::vector<uint8_t> xma = {0, 0x01, static_cast<uint8_t>(xport >> 8), static_cast<uint8_t>(xport),
                              static_cast<uint8_t>(xaddr >> 24), static_cast<uint8_t>(xaddr >> 16),
                              static_cast<uint8_t>(xaddr >> 8), static_cast<uint8_t>(xaddr)};
  return stunMessage(0x0101, tx, {{0x0020, xma}}, key);
}

struct StunAnswer {
  uint16_t type = 0;       // 0x0101 success, 0x0111 error
  int errorCode = 0;       // ERROR-CODE class*100 + number
};

inline std::optional<StunAnswer> parseAnswer(const std::vector<uint8_t>& d, const std::array<uint8_t, 12>& transaction) {
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
inline std::optional<StunAnswer> fence(const Stranger& fencer, uint16_t port, const std::string& user, const std::string& key) {
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
inline std::vector<std::vector<uint8_t>> drain(const Stranger& s) {
  std::vector<std::vector<uint8_t>> out;
  for (int i = 0; i < 1000; ++i) {
    auto d = s.receive(0ms);
    if (!d) break;
    out.push_back(std::move(*d));
  }
  return out;
}

inline std::vector<uint8_t> readFile(const std::string& path) {
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
    negotiateLegs(offerer, answerer, offer, answer);
  }
  bool bothConnected() {
    return offerer.waitFor([&] { return offerer.connected; }, 10s) &&
           answerer.waitFor([&] { return answerer.connected; }, 10s);
  }
  // Negotiates, waits for both legs to connect, and returns the offerer's libnice socket (-1 on failure): what the
  // hostile tests send "from the peer's address" on.
  int connectAndFindPeerSocket() {
    negotiate();
    if (::testing::Test::HasFatalFailure() || !bothConnected()) return -1;
    return udpSocketBoundTo(offererPort());
  }
  uint16_t answererPort() const { return answer.candidates.at(0).port; }
  uint16_t offererPort() const { return offer.candidates.at(0).port; }
  LegStats answererStats() { return answerer.run([&] { return answerer.leg->stats(); }); }
};

// Sends n RTP packets from `from` and waits until `to` has decrypted them all.
inline bool mediaFlows(LegHarness& from, LegHarness& to, uint8_t fill, int n = 5) {
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

inline uint64_t metric(Metrics& m, const std::string& name) {
  const auto text = m.renderPrometheus();
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(text.substr(at + name.size() + 2));
}

}  // namespace rtcgate::media::test

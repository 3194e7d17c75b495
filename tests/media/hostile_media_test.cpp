// SPDX-License-Identifier: Apache-2.0
// Component tests for the hostile-input catalogue's media items (reliability-security.md §5 items 23, 24, 27, 33;
// tests/component/hostile_catalogue.md): real BrowserLegs with real libnice, OpenSSL and libsrtp2 on 127.0.0.1,
// and hostile datagrams from real UDP sockets. "From the right source" means from the legitimate peer leg's own
// libnice socket: the test finds that descriptor in this process (/proc/self/fd) and sends on it, so the datagram
// carries exactly the address the leg has selected.
#include "hostile_peer.h"

namespace rtcgate::media {
namespace {

using namespace std::chrono_literals;
using namespace test;

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
  const int peerFd = p.connectAndFindPeerSocket();
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
  const int peerFd = p.connectAndFindPeerSocket();
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

// SPDX-License-Identifier: Apache-2.0
// Target: SRTP/SRTCP unprotect (SrtpSession over libsrtp2) for every profile rtcgate negotiates. Byte 0 selects
// the profile (bits 0-1), RTP or RTCP (bit 2) and the mode (bit 3):
//  raw:   the rest of the input is one received datagram, unprotected as it comes (almost always an auth failure);
//  valid: the rest is [n & 3][n x (offset, xor)][payload]: a packet with that payload is protected by the peer's
//         session, n bytes of it are flipped, then unprotected, so the fuzzer reaches the code past the auth check
//         (with n == 0 the round trip must give back the packet exactly).
// The sessions are created per input: libsrtp's replay window and its per-SSRC streams (ssrc_any_inbound clones
// one per SSRC seen) would otherwise make results depend on earlier inputs and grow without bound.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_support.h"
#include "rtcgate/media/srtp_session.h"

namespace {

using namespace rtcgate::media;

constexpr std::array kProfiles = {SrtpProfile::AeadAes256Gcm, SrtpProfile::AeadAes128Gcm,
                                  SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AesCm128HmacSha1_32};
constexpr size_t kMaxPayload = 1200;

// Master key + salt of each side (the longest profile needs 32 + 12 bytes); fixed, the fuzzer needs no secrets.
std::array<uint8_t, 44> keyOf(uint8_t fill) {
  std::array<uint8_t, 44> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(fill + i * 7);
  return k;
}

std::span<const uint8_t> keySalt(const std::array<uint8_t, 44>& k, SrtpProfile p) {
  return {k.data(), srtpKeyLength(p) + srtpSaltLength(p)};
}

// RTP (RFC 3550 §5.1) or RTCP SR (§6.4.1) header followed by the payload; RTCP padded to 32-bit words.
std::vector<uint8_t> plainPacket(bool rtcp, const uint8_t* payload, size_t len) {
  std::vector<uint8_t> p;
  if (!rtcp) {
    p = {0x80, 0x00, 0x12, 0x34, 0x00, 0x00, 0x03, 0x20, 0xde, 0xad, 0xbe, 0xef};
    p.insert(p.end(), payload, payload + len);
  } else {
    p = {0x80, 200, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef};
    p.insert(p.end(), payload, payload + len);
    p.resize((p.size() + 3) / 4 * 4, 0);
    const size_t words = p.size() / 4 - 1;
    p[2] = static_cast<uint8_t>(words >> 8);
    p[3] = static_cast<uint8_t>(words);
  }
  return p;
}

void fail(const char* what) {
  std::fprintf(stderr, "srtp_unprotect: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rtcgate::fuzz::silenceLogs();
  if (size < 1) return 0;
  const SrtpProfile profile = kProfiles[data[0] & 3];
  const bool rtcp = (data[0] & 4) != 0;
  const bool valid = (data[0] & 8) != 0;
  ++data;
  --size;
  static const auto kOurs = keyOf(0x11);
  static const auto kPeers = keyOf(0x5a);
  SrtpSession ours(profile, keySalt(kOurs, profile), keySalt(kPeers, profile));

  if (!valid) {
    std::vector<uint8_t> buf(data, data + size);
    size_t len = buf.size();
    if (rtcp)
      ours.unprotectRtcp(buf.data(), len);
    else
      ours.unprotectRtp(buf.data(), len);
    if (len > size) fail("unprotect grew the packet");
    return 0;
  }

  if (size < 1) return 0;
  const size_t flips = data[0] & 3;
  if (size < 1 + 2 * flips) return 0;
  const uint8_t* flip = data + 1;
  const uint8_t* payload = flip + 2 * flips;
  const size_t payloadLen = std::min(size - 1 - 2 * flips, kMaxPayload);

  SrtpSession peer(profile, keySalt(kPeers, profile), keySalt(kOurs, profile));
  const std::vector<uint8_t> plain = plainPacket(rtcp, payload, payloadLen);
  std::vector<uint8_t> buf(plain.size() + SrtpSession::kMaxOverhead);
  std::memcpy(buf.data(), plain.data(), plain.size());
  size_t len = plain.size();
  const SrtpStatus sent =
      rtcp ? peer.protectRtcp(buf.data(), len, buf.size()) : peer.protectRtp(buf.data(), len, buf.size());
  if (sent != SrtpStatus::Ok) fail("protect of a well-formed packet failed");
  for (size_t i = 0; i < flips; ++i) buf[flip[2 * i] % len] ^= flip[2 * i + 1];
  buf.resize(len);  // exactly the datagram, so ASan sees a read past its end
  const SrtpStatus got = rtcp ? ours.unprotectRtcp(buf.data(), len) : ours.unprotectRtp(buf.data(), len);
  bool unchanged = true;
  for (size_t i = 0; i < flips; ++i) unchanged = unchanged && flip[2 * i + 1] == 0;
  if (unchanged) {
    if (got != SrtpStatus::Ok) fail("unprotect of an intact packet failed");
    if (len != plain.size() || std::memcmp(buf.data(), plain.data(), len) != 0) fail("round trip changed the packet");
  }
  return 0;
}

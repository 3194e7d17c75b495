// SPDX-License-Identifier: Apache-2.0
// The PROXY protocol header parser (haproxy's proxy-protocol.txt, v1 and v2) on whole, partial and hostile input.
#include "rtcgate/signaling/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtcgate::signaling {
namespace {

using Status = ProxyHeader::Status;

const std::string kSig("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A", 12);
const std::string kClientHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);

// A v2 header: version/command byte, family/transport byte, then the address block (and TLVs) as given.
std::string v2(uint8_t verCmd, uint8_t famProto, const std::string& block) {
  std::string h = kSig;
  h += static_cast<char>(verCmd);
  h += static_cast<char>(famProto);
  h += static_cast<char>(block.size() >> 8);
  h += static_cast<char>(block.size() & 0xFF);
  return h + block;
}

std::string tcp4Block() {
  // 203.0.113.7:50000 -> 192.0.2.10:8443
  return std::string("\xCB\x00\x71\x07\xC0\x00\x02\x0A\xC3\x50\x20\xFB", 12);
}

TEST(ProxyProtocol, V2Tcp4GivesTheSourceAndStopsBeforeTheClientHello) {
  const std::string header = v2(0x21, 0x11, tcp4Block());
  auto h = parseProxyHeader(header + kClientHello);
  ASSERT_EQ(h.status, Status::Done);
  EXPECT_EQ(h.length, header.size());
  ASSERT_TRUE(h.source);
  EXPECT_EQ(h.source->toString(), "203.0.113.7");
}

TEST(ProxyProtocol, V2Tcp6AndTlvsWithinTheBound) {
  std::string block(36, '\0');
  block[0] = '\x20';
  block[1] = '\x01';
  block[2] = '\x0d';
  block[3] = '\xb8';
  block[15] = '\x05';
  block += std::string("\x04\x00\x03" "abc", 6);  // a NOOP TLV
  auto h = parseProxyHeader(v2(0x21, 0x21, block));
  ASSERT_EQ(h.status, Status::Done);
  EXPECT_EQ(h.length, 16 + block.size());
  ASSERT_TRUE(h.source);
  EXPECT_EQ(h.source->toString(), "2001:db8::5");
}

TEST(ProxyProtocol, V2LocalKeepsTheProxysAddress) {
  auto h = parseProxyHeader(v2(0x20, 0x00, ""));
  ASSERT_EQ(h.status, Status::Done);
  EXPECT_EQ(h.length, 16u);
  EXPECT_FALSE(h.source);
  // LOCAL with an address block: the block is skipped, its address ignored.
  h = parseProxyHeader(v2(0x20, 0x11, tcp4Block()));
  ASSERT_EQ(h.status, Status::Done);
  EXPECT_EQ(h.length, 28u);
  EXPECT_FALSE(h.source);
}

TEST(ProxyProtocol, EveryPrefixOfAValidHeaderAsksForMore) {
  const std::vector<std::string> headers{v2(0x21, 0x11, tcp4Block()), "PROXY TCP4 203.0.113.7 192.0.2.10 50000 8443\r\n"};
  for (const std::string& header : headers) {
    for (size_t n = 1; n < header.size(); ++n)
      EXPECT_EQ(parseProxyHeader(header.substr(0, n)).status, Status::NeedMore) << n;
    EXPECT_EQ(parseProxyHeader(header).status, Status::Done);
  }
}

TEST(ProxyProtocol, V2HostileHeadersAreRefusedWithTheirReason) {
  EXPECT_STREQ(parseProxyHeader(std::string("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0B", 12)).reason,
               "bad_signature");
  EXPECT_EQ(parseProxyHeader(std::string("\x0D\x0A\x0D\x0B", 4)).status, Status::Invalid);
  EXPECT_STREQ(parseProxyHeader(v2(0x11, 0x11, tcp4Block())).reason, "bad_version");
  EXPECT_STREQ(parseProxyHeader(v2(0x22, 0x11, tcp4Block())).reason, "bad_command");
  EXPECT_STREQ(parseProxyHeader(v2(0x21, 0x41, tcp4Block())).reason, "bad_family");
  EXPECT_STREQ(parseProxyHeader(v2(0x21, 0x31, std::string(216, 'x'))).reason, "bad_family");  // UNIX
  EXPECT_STREQ(parseProxyHeader(v2(0x21, 0x12, tcp4Block())).reason, "bad_family");              // UDP
  EXPECT_STREQ(parseProxyHeader(v2(0x21, 0x11, tcp4Block().substr(0, 8))).reason, "bad_address");
  EXPECT_STREQ(parseProxyHeader(v2(0x21, 0x21, tcp4Block())).reason, "bad_address");  // IPv6 in 12 bytes
  // Over the bound: refused from the 16 fixed bytes, before any of the payload is read.
  std::string huge = v2(0x21, 0x11, std::string(kProxyV2MaxPayloadBytes + 1, '\0')).substr(0, 16);
  auto h = parseProxyHeader(huge);
  EXPECT_EQ(h.status, Status::Invalid);
  EXPECT_STREQ(h.reason, "too_long");
  EXPECT_EQ(parseProxyHeader(v2(0x21, 0x11, std::string(kProxyV2MaxPayloadBytes, '\0'))).status, Status::Done);
}

TEST(ProxyProtocol, V1Lines) {
  auto h = parseProxyHeader("PROXY TCP4 203.0.113.7 192.0.2.10 50000 8443\r\n" + kClientHello);
  ASSERT_EQ(h.status, Status::Done);
  EXPECT_EQ(h.length, 46u);
  EXPECT_EQ(h.source->toString(), "203.0.113.7");
  h = parseProxyHeader("PROXY TCP6 2001:db8::5 2001:db8::1 50000 8443\r\n");
  ASSERT_EQ(h.status, Status::Done);
  EXPECT_EQ(h.source->toString(), "2001:db8::5");
  h = parseProxyHeader("PROXY UNKNOWN ffff:f...f:ffff 65535 65535\r\n\x16");
  ASSERT_EQ(h.status, Status::Done);
  EXPECT_FALSE(h.source);
  EXPECT_EQ(parseProxyHeader("PROXY UNKNOWN\r\n").length, 15u);
  // The spec's worst case (2.1): 107 bytes with its CRLF.
  const std::string longest =
      "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  ASSERT_EQ(longest.size(), kProxyV1MaxBytes);
  EXPECT_EQ(parseProxyHeader(longest).status, Status::Done);
  h = parseProxyHeader(
      "PROXY TCP6 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff 2001:db8:ffff:ffff:ffff:ffff:ffff:fffe 65535 65535\r\n");
  ASSERT_EQ(h.status, Status::Done);
  EXPECT_EQ(h.source->toString(), "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(ProxyProtocol, V1HostileLinesAreRefusedWithTheirReason) {
  EXPECT_STREQ(parseProxyHeader("PROXZ TCP4").reason, "bad_signature");
  EXPECT_STREQ(parseProxyHeader("PROXY TCP5 203.0.113.7 192.0.2.10 1 2\r\n").reason, "bad_family");
  EXPECT_STREQ(parseProxyHeader("PROXY TCP4 203.0.113.7 192.0.2.10 1\r\n").reason, "bad_address");
  EXPECT_STREQ(parseProxyHeader("PROXY TCP4 2001:db8::5 192.0.2.10 1 2\r\n").reason, "bad_address");
  EXPECT_STREQ(parseProxyHeader("PROXY TCP4 example.com 192.0.2.10 1 2\r\n").reason, "bad_address");
  EXPECT_STREQ(parseProxyHeader("PROXY TCP4 203.0.113.7 192.0.2.10 1 65536\r\n").reason, "bad_address");
  EXPECT_STREQ(parseProxyHeader("PROXY TCP4  203.0.113.7 192.0.2.10 1 2\r\n").reason, "bad_address");
  EXPECT_STREQ(parseProxyHeader("PROXY TCP4 203.0.113.7 192.0.2.10 1 2\n").reason, "no_crlf");
  EXPECT_STREQ(parseProxyHeader("PROXY TCP4 203.0.113.7\r 192.0.2.10 1 2\r\n").reason, "no_crlf");
  // No CRLF within 107 bytes: refused at the 107th, whatever follows.
  std::string endless = "PROXY UNKNOWN " + std::string(kProxyV1MaxBytes, 'a');
  EXPECT_EQ(parseProxyHeader(endless.substr(0, kProxyV1MaxBytes - 1)).status, Status::NeedMore);
  EXPECT_STREQ(parseProxyHeader(endless.substr(0, kProxyV1MaxBytes)).reason, "no_crlf");
  EXPECT_STREQ(parseProxyHeader(endless + "\r\n").reason, "no_crlf");
}

TEST(ProxyProtocol, TlsAndHttpAreNotProxyHeaders) {
  EXPECT_EQ(parseProxyHeader(kClientHello).status, Status::NotProxy);
  EXPECT_EQ(parseProxyHeader("GET / HTTP/1.1\r\n").status, Status::NotProxy);
  EXPECT_EQ(parseProxyHeader("").status, Status::NeedMore);
}

}  // namespace
}  // namespace rtcgate::signaling

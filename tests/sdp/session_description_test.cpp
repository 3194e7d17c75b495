// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sdp/session_description.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace rtcgate::sdp {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(RTCGATE_SDP_FIXTURES) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SdpGolden, ChromeOfferRoundTripsByteForByte) {
  auto text = fixture("chrome_offer.sdp");
  EXPECT_EQ(write(parse(text)), text);
}

TEST(SdpGolden, FirefoxOfferRoundTripsByteForByte) {
  auto text = fixture("firefox_offer.sdp");
  EXPECT_EQ(write(parse(text)), text);
}

TEST(SdpGolden, ChromeOfferTransport) {
  auto sd = parse(fixture("chrome_offer.sdp"));
  ASSERT_EQ(sd.media.size(), 1u);
  EXPECT_EQ(sd.bundleMids(), std::vector<std::string>{"0"});
  auto& m = sd.media[0];
  EXPECT_EQ(m.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(m.port, 59114);
  EXPECT_EQ(m.formats, (std::vector<std::string>{"111", "63", "9", "0", "8", "13", "110", "126"}));
  EXPECT_TRUE(sd.attributes.has("extmap-allow-mixed"));  // flag attribute without value (owt #130)
  auto t = transportOf(sd, 0);
  EXPECT_EQ(t.mid, "0");
  EXPECT_EQ(t.iceUfrag, "Qgfn");
  EXPECT_EQ(t.icePwd, "0ZbQ1Ho2Yc4vOTK8l7oBQW8b");
  EXPECT_TRUE(t.trickle);
  EXPECT_TRUE(t.rtcpMux);
  EXPECT_EQ(t.setup, Setup::ActPass);
  EXPECT_EQ(t.direction, Direction::SendRecv);
  ASSERT_EQ(t.fingerprints.size(), 1u);
  EXPECT_EQ(t.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(t.fingerprints[0].value.substr(0, 8), "33:45:7A");
  // The two mDNS host candidates are ignored without failing; srflx and relay remain.
  EXPECT_EQ(t.ignoredCandidates, 2u);
  ASSERT_EQ(t.candidates.size(), 2u);
  EXPECT_EQ(t.candidates[0].type, "srflx");
  EXPECT_EQ(t.candidates[0].address, "198.51.100.23");
  EXPECT_EQ(t.candidates[0].relAddr, "0.0.0.0");
  EXPECT_EQ(t.candidates[1].type, "relay");
  EXPECT_EQ(t.candidates[1].port, 62000);
  EXPECT_EQ(t.candidates[1].priority, 41885439u);
  auto maps = m.rtpMaps();
  ASSERT_EQ(maps.size(), 8u);
  EXPECT_EQ(maps[0], (RtpMap{111, "opus", 48000, 2}));
  EXPECT_EQ(maps[7], (RtpMap{126, "telephone-event", 8000, 1}));
  EXPECT_EQ(m.fmtp(111), "minptime=10;useinbandfec=1");
}

TEST(SdpGolden, FirefoxSessionLevelFingerprintAndOptions) {
  auto sd = parse(fixture("firefox_offer.sdp"));
  EXPECT_FALSE(sd.media[0].attributes.has("fingerprint"));
  auto t = transportOf(sd, 0);
  ASSERT_EQ(t.fingerprints.size(), 1u);
  EXPECT_EQ(t.fingerprints[0].value.substr(0, 5), "9B:3C");
  EXPECT_TRUE(t.trickle);  // session-level ice-options
  EXPECT_TRUE(t.endOfCandidates);
  EXPECT_EQ(t.iceUfrag, "2c8f1a3b");
  ASSERT_EQ(t.candidates.size(), 1u);  // upper-case "UDP"/"TCP" accepted; .local ignored
  EXPECT_EQ(t.ignoredCandidates, 2u);
  EXPECT_EQ(t.candidates[0].transport, "udp");
  auto maps = sd.media[0].rtpMaps();
  EXPECT_EQ(maps[0], (RtpMap{109, "opus", 48000, 2}));
  EXPECT_EQ(maps.back(), (RtpMap{101, "telephone-event", 8000, 1}));
  EXPECT_EQ(sd.origin.username, "mozilla...THIS_IS_SDPARTA-99.0");
}

TEST(SdpGolden, FirefoxHoldReofferMediaLevelDirectionOverridesSession) {
  auto sd = parse(fixture("firefox_hold_reoffer.sdp"));
  EXPECT_TRUE(sd.attributes.has("sendrecv"));
  EXPECT_EQ(transportOf(sd, 0).direction, Direction::SendOnly);
}

TEST(SdpTransport, SessionLevelDirectionAppliesWithoutMediaLevel) {
  auto sd = parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=inactive\r\nm=audio 9 RTP/AVP 0\r\n");
  EXPECT_EQ(transportOf(sd, 0).direction, Direction::Inactive);
}

TEST(SdpTransport, ApplyTransportWritesAnswerPieces) {
  MediaDescription m;
  m.formats = {"111", "126"};
  m.attributes.add("rtpmap", "111 opus/48000/2");
  m.attributes.add("sendonly");  // replaced by the transport's direction
  TransportParams t;
  t.mid = "0";
  t.iceUfrag = "abcd";
  t.icePwd = "0123456789abcdefghijkl";
  t.fingerprints.push_back({"sha-256", "AA:BB"});
  t.setup = Setup::Active;
  t.rtcpMux = true;
  t.candidates.push_back(*parseCandidate("candidate:1 1 udp 2130706431 203.0.113.7 30000 typ host"));
  applyTransport(m, t);
  SessionDescription sd;
  sd.media.push_back(m);
  EXPECT_EQ(write(sd),
            "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 126\r\n"
            "a=candidate:1 1 udp 2130706431 203.0.113.7 30000 typ host\r\n"
            "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
            "a=fingerprint:sha-256 AA:BB\r\na=setup:active\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
            "a=rtpmap:111 opus/48000/2\r\n");
  // And what we write, we read back the same.
  EXPECT_EQ(transportOf(parse(write(sd)), 0), t);
}

TEST(SdpParse, LenientAboutLineEndingsAndUnknownLines) {
  auto sd = parse("v=0\no=- 1 2 IN IP4 10.0.0.1\ns=x\ni=info\nt=0 0\nz=ignored\nm=audio 1234/2 RTP/AVP 0 8\n"
                  "c=IN IP4 10.0.0.2/127\na=foo:bar:baz\n\n");
  ASSERT_EQ(sd.media.size(), 1u);
  EXPECT_EQ(sd.media[0].portCount, 2);
  EXPECT_EQ(sd.media[0].connection->address, "10.0.0.2");
  EXPECT_EQ(sd.media[0].attributes.value("foo"), "bar:baz");
}

TEST(SdpParse, StructuralErrorsCarryTheLine) {
  try {
    parse("v=0\r\no=- 1\r\n");
    FAIL() << "no exception";
  } catch (const SdpError& e) {
    EXPECT_EQ(e.line(), 2u);
  }
  EXPECT_THROW(parse(""), SdpError);
  EXPECT_THROW(parse("o=- 1 1 IN IP4 1.2.3.4\r\n"), SdpError);
  EXPECT_THROW(parse("v=0\r\nm=audio notaport RTP/AVP 0\r\n"), SdpError);
  EXPECT_THROW(parse("v=0\r\ngarbage\r\n"), SdpError);
}

// Found by the sdp_browser fuzz target: "c=IN IP4 /111" parsed to an empty address, which rtcgate then wrote as
// "c=IN IP4 " and could not read back (fuzz/regressions/sdp_browser/connection-with-empty-address).
TEST(SdpParse, ConnectionWithoutAddressIsAnError) {
  EXPECT_THROW(parse("v=0\r\nc=IN IP4 /111\r\nm=audio 9 RTP/AVP 0\r\n"), SdpError);
  EXPECT_THROW(parse("v=0\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP6 /2\r\n"), SdpError);
  auto sd = parse("v=0\r\nc=IN IP4 224.2.1.1/127/3\r\nm=audio 9 RTP/AVP 0\r\n");
  EXPECT_EQ(sd.connection->address, "224.2.1.1");
}

TEST(SdpParse, BoundsMediaSections) {
  std::string s = "v=0\r\n";
  for (int i = 0; i < 17; ++i) s += "m=audio 9 RTP/AVP 0\r\n";
  EXPECT_THROW(parse(s), SdpError);
}

TEST(SdpCandidate, ParsesAndFormatsAllFields) {
  auto c = parseCandidate("candidate:1467250027 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tcpType, "active");
  EXPECT_EQ(c->extensions.size(), 1u);
  EXPECT_EQ(formatCandidate(*c), "1467250027 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0");
  auto v6 = parseCandidate("a=candidate:1 1 udp 1 2001:db8::1 5000 typ srflx raddr :: rport 0");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->hasIpAddress());
}

TEST(SdpCandidate, RejectsMalformed) {
  EXPECT_FALSE(parseCandidate("candidate:1 1 udp 1 192.0.2.1 5000 host"));
  EXPECT_FALSE(parseCandidate("candidate:1 x udp 1 192.0.2.1 5000 typ host"));
  // The connection address is an IP literal or an FQDN: control bytes would reach our answer's c= line (fuzz find).
  EXPECT_FALSE(parseCandidate(std::string("candidate:1 1 udp 1 203.0.113.5\0\x01x 5000 typ host", 48)));
  EXPECT_FALSE(parseCandidate("candidate:1 1 udp 1 203.0.113.5\x0b 5000 typ host"));
  EXPECT_TRUE(parseCandidate("candidate:1 1 udp 1 4a1c1c6e-1d1b-4c3a-9b1e-0f5c2d7e8a90.local 5000 typ host"));
  EXPECT_FALSE(parseCandidate("candidate:1 1 udp 1 192.0.2.1 99999 typ host"));
  EXPECT_FALSE(parseCandidate("candidate:1 1 udp 1 192.0.2.1 5000 typ bogus"));
  auto mdns = parseCandidate("candidate:1 1 udp 1 AbC.LOCAL 5000 typ host");
  ASSERT_TRUE(mdns);
  EXPECT_TRUE(mdns->isMdns());
  EXPECT_FALSE(mdns->hasIpAddress());
}

TEST(SdpFingerprint, NormalisesCaseAndValidates) {
  auto f = parseFingerprint("SHA-256 ab:cd:0f");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->algorithm, "sha-256");
  EXPECT_EQ(f->value, "AB:CD:0F");
  EXPECT_FALSE(parseFingerprint("sha-256 abcd"));
  EXPECT_FALSE(parseFingerprint("sha-256 zz:00"));
  EXPECT_FALSE(parseFingerprint("sha-256"));
}

TEST(SdpMedia, ConnectionAndDirectionFallBackToTheSessionLevel) {
  auto sd = parse("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=sendonly\r\n"
                  "m=audio 4000 RTP/AVP 8\r\nc=IN IP4 10.0.0.2\r\na=inactive\r\n"
                  "m=audio 4002 RTP/AVP 0\r\n");
  ASSERT_NE(connectionOf(sd, 0), nullptr);
  EXPECT_EQ(connectionOf(sd, 0)->address, "10.0.0.2");
  EXPECT_EQ(connectionOf(sd, 1)->address, "10.0.0.1");
  EXPECT_EQ(directionOf(sd, 0), Direction::Inactive);
  EXPECT_EQ(directionOf(sd, 1), Direction::SendOnly);
  auto bare = parse("v=0\r\nm=audio 4000 RTP/AVP 8\r\n");
  EXPECT_EQ(connectionOf(bare, 0), nullptr);
  EXPECT_EQ(directionOf(bare, 0), Direction::SendRecv);
}

TEST(SdpMedia, PayloadTypesSkipWhatIsNotOne) {
  MediaDescription m;
  m.formats = {"0", "8", "101", "x", "128", "-1", "96"};
  EXPECT_EQ(m.payloadTypes(), (std::vector<int>{0, 8, 101, 96}));
}

TEST(SdpMedia, ConnectionToPicksTheAddressType) {
  EXPECT_EQ(connectionTo("192.0.2.5"), (Connection{"IN", "IP4", "192.0.2.5"}));
  EXPECT_EQ(connectionTo("2001:db8::5"), (Connection{"IN", "IP6", "2001:db8::5"}));
}

}  // namespace
}  // namespace rtcgate::sdp

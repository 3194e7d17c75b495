// SPDX-License-Identifier: Apache-2.0
// Issue 11: where the Genesys leg may send RTP/RTCP (reliability-security.md §5 item 22).
#include "rtcgate/session/media_destination.h"

#include <gtest/gtest.h>

namespace rtcgate::session {
namespace {

using Verdict = MediaDestinationPolicy::Verdict;

config::Config production() {
  config::Config c;
  c.media.rtpAddress = "10.0.0.5";
  c.media.rtpPortMin = 20000;
  c.media.rtpPortMax = 29999;
  c.upstream.sipBind = {"10.0.0.5", 5070};
  return c;
}

const std::vector<media::LocalAddress> kHost{{"lo", "127.0.0.1", false, true}, {"eth0", "10.0.0.5", false, false},
                                             {"eth1", "203.0.113.7", false, false}};

Verdict verdict(const MediaDestinationPolicy& p, const char* address, uint16_t port = 40000) {
  return p.check(address, port).verdict;
}

TEST(MediaDestinationPolicy, HoldMarkersNameNoDestination) {
  MediaDestinationPolicy p(production(), kHost);
  EXPECT_EQ(verdict(p, "0.0.0.0"), Verdict::Hold);
  EXPECT_EQ(verdict(p, "10.1.2.3", 0), Verdict::Hold);  // port 0: a rejected stream
}

TEST(MediaDestinationPolicy, ForbiddenClassesAreRefusedWhateverIsAllowed) {
  auto c = production();
  c.upstream.mediaAllowedCidrs = {"0.0.0.0/0"};
  MediaDestinationPolicy p(c, kHost);
  const std::pair<const char*, const char*> cases[] = {
      {"169.254.169.254", "link-local (the cloud metadata address)"},
      {"169.254.7.7", "link-local"},
      {"224.0.0.1", "multicast"},
      {"239.1.2.3", "multicast"},
      {"255.255.255.255", "broadcast"},
      {"0.1.2.3", "reserved (0.0.0.0/8, 240.0.0.0/4)"},
      {"240.0.0.9", "reserved (0.0.0.0/8, 240.0.0.0/4)"},
      {"::ffff:10.1.2.3", "an IPv4-mapped IPv6 address"},
      {"2001:db8::1", "not the address family of media.rtp_address"},
      {"genesys.example", "not a numeric address (no DNS on the media path)"},
      // The gateway's own addresses, at any port, on a host whose media address is not loopback.
      {"10.0.0.5", "rtcgate's own address (a media loop)"},
      {"203.0.113.7", "rtcgate's own address (a media loop)"},
      {"127.0.0.1", "rtcgate's own address (a media loop)"},
  };
  for (const auto& [address, reason] : cases) EXPECT_EQ(p.check(address, 40000).reason, reason) << address;
  EXPECT_EQ(verdict(p, "198.51.100.20"), Verdict::Allowed);
}

TEST(MediaDestinationPolicy, DefaultIsThePrivateNetworks) {
  MediaDestinationPolicy p(production(), kHost);
  for (const char* a : {"10.1.2.3", "172.16.0.9", "172.31.255.1", "192.168.50.1"})
    EXPECT_EQ(verdict(p, a), Verdict::Allowed) << a;
  for (const char* a : {"198.51.100.20", "172.32.0.1", "100.64.0.1", "127.0.0.2"})
    EXPECT_EQ(verdict(p, a), Verdict::Refused) << a;
  EXPECT_EQ(p.check("198.51.100.20", 40000).reason,
            "outside upstream.media_allowed_cidrs (default: private networks)");
}

TEST(MediaDestinationPolicy, ConfiguredNetworksReplaceTheDefault) {
  auto c = production();
  c.upstream.mediaAllowedCidrs = {"198.51.100.0/24"};
  MediaDestinationPolicy p(c, kHost);
  EXPECT_EQ(verdict(p, "198.51.100.20"), Verdict::Allowed);
  EXPECT_EQ(p.check("10.1.2.3", 40000).reason, "outside upstream.media_allowed_cidrs");
}

// The demo and the tests: Genesys is SIPp on 127.0.0.1 beside rtcgate; only rtcgate's own ports loop.
TEST(MediaDestinationPolicy, LoopbackMediaAddressAllowsLoopbackButNotOwnPorts) {
  config::Config c;  // rtp_address 127.0.0.1, RTP ports 20000-29999, SIP 127.0.0.1:5070
  MediaDestinationPolicy p(c, kHost);
  EXPECT_EQ(verdict(p, "127.0.0.1", 6000), Verdict::Allowed);
  EXPECT_EQ(verdict(p, "127.0.0.2", 20000), Verdict::Allowed);  // nothing of rtcgate listens there
  EXPECT_EQ(p.check("127.0.0.1", 20000).reason, "rtcgate's own address (a media loop)");
  EXPECT_EQ(p.check("127.0.0.1", 29999).reason, "rtcgate's own address (a media loop)");
  EXPECT_EQ(p.check("127.0.0.1", 5070).reason, "rtcgate's own address (a media loop)");
  EXPECT_EQ(verdict(p, "10.1.2.3"), Verdict::Allowed);
  config::Config listed;
  listed.upstream.mediaAllowedCidrs = {"10.0.0.0/8"};
  EXPECT_EQ(verdict(MediaDestinationPolicy(listed, kHost), "127.0.0.1", 6000), Verdict::Refused);
}

// RFC 3605 a=rtcp: the RTCP destination is checked as well; an unspecified one beside a real RTP one is refused.
TEST(MediaDestinationPolicy, RtcpDestinationIsCheckedToo) {
  MediaDestinationPolicy p(production(), kHost);
  GenesysMedia g;
  g.address = "10.1.2.3";
  g.port = 40000;
  EXPECT_EQ(p.check(g).verdict, Verdict::Allowed);
  g.rtcpPort = 40011;
  g.rtcpAddress = "169.254.169.254";
  EXPECT_EQ(p.check(g).reason, "RTCP: link-local (the cloud metadata address)");
  g.rtcpAddress = "0.0.0.0";
  EXPECT_EQ(p.check(g).verdict, Verdict::Refused);
  g.rtcpAddress.clear();
  g.rtcpPort = 0;
  g.port = 65535;
  EXPECT_EQ(p.check(g).reason, "no RTCP port (port + 1 is beyond 65535)");
  g.address = "0.0.0.0";
  EXPECT_EQ(p.check(g).verdict, Verdict::Hold);
}

TEST(GenesysSdp, ReadsTheRtcpAttribute) {
  const std::string base =
      "v=0\r\no=- 1 1 IN IP4 10.1.2.3\r\ns=-\r\nc=IN IP4 10.1.2.3\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
  auto g = readGenesysSdp(base + "a=rtcp:40011 IN IP4 10.1.2.4\r\n");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->rtcpPort, 40011);
  EXPECT_EQ(g->rtcpAddress, "10.1.2.4");
  g = readGenesysSdp(base + "a=rtcp:40001\r\n");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->rtcpPort, 40001);
  EXPECT_TRUE(g->rtcpAddress.empty());
  EXPECT_FALSE(readGenesysSdp(base + "a=rtcp:70000\r\n"));
  EXPECT_FALSE(readGenesysSdp(base + "a=rtcp:x\r\n"));
  EXPECT_FALSE(readGenesysSdp(base + "a=rtcp:40001 IN XX 1\r\n"));
  EXPECT_FALSE(readGenesysSdp(base).value().nullAddress());
  EXPECT_TRUE(readGenesysSdp("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
                             "m=audio 40000 RTP/AVP 0\r\n")
                  .value()
                  .nullAddress());
}

}  // namespace
}  // namespace rtcgate::session

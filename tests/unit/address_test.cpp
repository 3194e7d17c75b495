// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/address.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace rtcgate {
namespace {

IpAddress ip(std::string_view s) {
  auto a = IpAddress::parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(IpAddress{});
}

bool contains(std::string_view net, std::string_view address) {
  auto n = IpNetwork::parse(net);
  return n && n->contains(ip(address));
}

TEST(IpAddress, ParsesNumericAddressesOnly) {
  EXPECT_FALSE(ip("192.0.2.1").isV6());
  EXPECT_TRUE(ip("2001:db8::1").isV6());
  EXPECT_TRUE(ip("::ffff:192.0.2.1").isV6());  // the text form stays IPv6
  EXPECT_EQ(ip("2001:DB8::1").toString(), "2001:db8::1");
  EXPECT_EQ(ip("192.0.2.1").toString(), "192.0.2.1");
  for (const char* bad : {"", "sip.example", "192.0.2", "192.0.2.256", "192.0.2.1/24", " 192.0.2.1", "fe80::1%eth0",
                          "[::1]", "1:2:3:4:5:6:7:8:9"})
    EXPECT_FALSE(IpAddress::parse(bad).has_value()) << bad;
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')).has_value());
}

TEST(IpAddress, Classifies) {
  EXPECT_TRUE(ip("127.0.0.1").isLoopback());
  EXPECT_TRUE(ip("127.255.0.9").isLoopback());
  EXPECT_TRUE(ip("::1").isLoopback());
  EXPECT_FALSE(ip("::2").isLoopback());
  EXPECT_FALSE(ip("10.0.0.1").isLoopback());
  EXPECT_TRUE(ip("169.254.10.1").isLinkLocal());
  EXPECT_TRUE(ip("fe80::1").isLinkLocal());
  EXPECT_TRUE(ip("febf::1").isLinkLocal());
  EXPECT_FALSE(ip("fec0::1").isLinkLocal());
  EXPECT_FALSE(ip("169.255.0.1").isLinkLocal());
  EXPECT_TRUE(ip("0.0.0.0").isUnspecified());
  EXPECT_TRUE(ip("::").isUnspecified());
  EXPECT_FALSE(ip("0.0.0.1").isUnspecified());
}

// Issue 12: private (never reachable from the internet) versus public, for ICE candidate priority and warnings.
TEST(IpAddress, ClassifiesPrivateRanges) {
  for (auto* a : {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254", "192.168.210.54", "100.64.0.1",
                  "100.127.255.254", "fc00::1", "fd12:3456::7", "10.0.0.0", "172.31.255.255", "fdff::1"})
    EXPECT_TRUE(ip(a).isPrivate()) << a;
  for (auto* a : {"9.255.255.255", "11.0.0.1", "172.15.255.255", "172.32.0.1", "192.169.0.1", "100.63.255.255",
                  "100.128.0.1", "203.0.113.7", "103.167.180.166", "2001:db8::1", "fe80::1", "127.0.0.1",
                  "192.167.255.255", "169.254.1.1", "fbff::1", "fe00::1"})
    EXPECT_FALSE(ip(a).isPrivate()) << a;
}

// Issue 11: the classes no media destination may be in (multicast, broadcast; a v4-mapped IPv6 literal would
// dodge every IPv4 check).
TEST(IpAddress, ClassifiesMulticastBroadcastAndMapped) {
  EXPECT_TRUE(ip("224.0.0.1").isMulticast());
  EXPECT_TRUE(ip("239.255.255.250").isMulticast());
  EXPECT_TRUE(ip("ff02::1").isMulticast());
  EXPECT_FALSE(ip("223.255.255.255").isMulticast());
  EXPECT_FALSE(ip("240.0.0.1").isMulticast());
  EXPECT_FALSE(ip("fe80::1").isMulticast());
  EXPECT_TRUE(ip("255.255.255.255").isBroadcast());
  EXPECT_FALSE(ip("255.255.255.254").isBroadcast());
  EXPECT_FALSE(ip("ffff:ffff::").isBroadcast());
  EXPECT_TRUE(ip("::ffff:127.0.0.1").isV4Mapped());
  EXPECT_TRUE(ip("::ffff:169.254.169.254").isV4Mapped());
  EXPECT_FALSE(ip("::1").isV4Mapped());
  EXPECT_FALSE(ip("127.0.0.1").isV4Mapped());
  EXPECT_FALSE(ip("2001:db8::ffff:7f00:1").isV4Mapped());
}

TEST(IpAddress, SockaddrRoundTripAndMappedIpv4) {
  sockaddr_storage ss{};
  EXPECT_EQ(ip("192.0.2.7").toSockaddr(5060, ss), sizeof(sockaddr_in));
  EXPECT_EQ(ss.ss_family, AF_INET);
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in&>(ss).sin_port), 5060);
  EXPECT_EQ(IpAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)), ip("192.0.2.7"));

  EXPECT_EQ(ip("2001:db8::7").toSockaddr(5061, ss), sizeof(sockaddr_in6));
  EXPECT_EQ(ss.ss_family, AF_INET6);
  EXPECT_EQ(IpAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)), ip("2001:db8::7"));

  // An IPv4 peer on a dual-stack socket.
  ip("::ffff:192.0.2.7").toSockaddr(0, ss);
  EXPECT_EQ(IpAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)), ip("192.0.2.7"));

  sockaddr local{};
  local.sa_family = AF_UNIX;
  EXPECT_FALSE(IpAddress::fromSockaddr(&local).has_value());
  EXPECT_FALSE(IpAddress::fromSockaddr(nullptr).has_value());
}

TEST(IpNetwork, Contains) {
  EXPECT_TRUE(contains("192.0.2.0/24", "192.0.2.255"));
  EXPECT_FALSE(contains("192.0.2.0/24", "192.0.3.0"));
  EXPECT_TRUE(contains("10.0.0.0/9", "10.127.255.255"));
  EXPECT_FALSE(contains("10.0.0.0/9", "10.128.0.0"));
  EXPECT_TRUE(contains("0.0.0.0/0", "8.8.8.8"));
  EXPECT_TRUE(contains("192.0.2.10", "192.0.2.10"));  // a plain address is a full-length prefix
  EXPECT_FALSE(contains("192.0.2.10", "192.0.2.11"));
  EXPECT_TRUE(contains("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(contains("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(contains("::/0", "::1"));
}

TEST(IpNetwork, FamiliesNeverMix) {
  EXPECT_FALSE(contains("2001:db8::/32", "10.0.0.1"));
  EXPECT_FALSE(contains("0.0.0.0/0", "::1"));
  EXPECT_FALSE(contains("::/0", "10.0.0.1"));
  EXPECT_FALSE(contains("::ffff:0:0/96", "10.0.0.1"));
}

TEST(IpNetwork, RefusesBadPrefixes) {
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/-1", "10.0.0.0/ 8",
                          "garbage/8", "/8", "10.0.0.0/8/8"})
    EXPECT_FALSE(IpNetwork::parse(bad).has_value()) << bad;
  auto n = IpNetwork::parse("2001:db8::/48");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->prefixLength(), 48u);
  EXPECT_EQ(n->address(), ip("2001:db8::"));
  EXPECT_EQ(IpNetwork::parse("192.0.2.1")->prefixLength(), 32u);
}

TEST(DnsName, TakesHostNamesAndNothingThatCouldHideAnotherHost) {
  for (const char* good : {"rtcgate.invalid", "GW.Example.com", "rtcgate_1", "a-b.c", "10.0.0.1",
                           "x" /* one label */})
    EXPECT_TRUE(isDnsName(good)) << good;
  for (const char* bad : {"", "a..b", ".a", "a.", "-a.b", "a-.b", "a b", "a@b", "a/b", "a:5060", "[::1]", "a%2eb",
                          "a\nb"})
    EXPECT_FALSE(isDnsName(bad)) << bad;
  EXPECT_TRUE(isDnsName(std::string(63, 'a') + ".b"));
  EXPECT_FALSE(isDnsName(std::string(64, 'a') + ".b"));
  const std::string label(60, 'a');
  EXPECT_TRUE(isDnsName(label + "." + label + "." + label + "." + label));                    // 243 bytes
  EXPECT_FALSE(isDnsName(label + "." + label + "." + label + "." + label + "." + label));     // 304 bytes
}

}  // namespace
}  // namespace rtcgate

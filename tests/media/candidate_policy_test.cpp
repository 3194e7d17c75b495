// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/candidate_policy.h"

#include <gtest/gtest.h>

#include "rtcgate/media/turn_credentials.h"

namespace rtcgate::media {
namespace {

LocalAddress addr(const std::string& ifname, const std::string& ip, bool loopback = false) {
  return {ifname, ip, ip.find(':') != std::string::npos, loopback};
}

TEST(CandidatePolicy, DefaultsRefuseContainerBridgeLoopbackAndLinkLocal) {
  config::Candidates def;  // the defaults of config.h (as in config/rtcgate.yaml)
  EXPECT_TRUE(decideCandidate(def, addr("eth0", "10.1.2.3")).allowed);
  EXPECT_TRUE(decideCandidate(def, addr("ens192", "203.0.113.9")).allowed);
  for (auto* ifname : {"docker0", "br-3f2a9c", "veth12ab", "virbr0"}) {
    auto d = decideCandidate(def, addr(ifname, "172.17.0.1"));
    EXPECT_FALSE(d.allowed) << ifname;
    EXPECT_EQ(d.reason, "interface in deny_interfaces") << ifname;
  }
  EXPECT_FALSE(decideCandidate(def, addr("lo", "127.0.0.1", true)).allowed);
  EXPECT_FALSE(decideCandidate(def, addr("eth0", "127.0.0.2")).allowed);
  EXPECT_FALSE(decideCandidate(def, addr("eth0", "169.254.10.1")).allowed);
  EXPECT_EQ(decideCandidate(def, addr("eth0", "169.254.10.1")).reason, "link-local (ice.candidates.allow_link_local)");
  EXPECT_FALSE(decideCandidate(def, addr("eth0", "2001:db8::5")).allowed);  // ipv6 off by default
}

TEST(CandidatePolicy, AllowLoopbackLiftsTheDefaultLoDeny) {
  config::Candidates c;
  c.allowLoopback = true;
  EXPECT_TRUE(decideCandidate(c, addr("lo", "127.0.0.1", true)).allowed);
  // ...but not a container bridge.
  EXPECT_FALSE(decideCandidate(c, addr("docker0", "172.17.0.1")).allowed);
}

TEST(CandidatePolicy, Ipv6WhenConfigured) {
  config::Candidates c;
  c.ipv6 = true;
  EXPECT_TRUE(decideCandidate(c, addr("eth0", "2001:db8::5")).allowed);
  EXPECT_FALSE(decideCandidate(c, addr("eth0", "fe80::1")).allowed);  // link-local still refused
  EXPECT_FALSE(decideCandidate(c, addr("lo", "::1", true)).allowed);
}

TEST(CandidatePolicy, AllowInterfacesAndCidrs) {
  config::Candidates c;
  c.allowInterfaces = {"ens*", "bond?"};
  c.allowCidrs = {"10.0.0.0/8", "203.0.113.0/24"};
  c.denyCidrs = {"10.9.0.0/16"};
  EXPECT_TRUE(decideCandidate(c, addr("ens3", "10.1.2.3")).allowed);
  EXPECT_TRUE(decideCandidate(c, addr("bond0", "203.0.113.4")).allowed);
  EXPECT_EQ(decideCandidate(c, addr("eth0", "10.1.2.3")).reason, "interface not in allow_interfaces");
  EXPECT_EQ(decideCandidate(c, addr("bond10", "10.1.2.3")).reason, "interface not in allow_interfaces");
  EXPECT_EQ(decideCandidate(c, addr("ens3", "10.9.1.1")).reason, "address in deny_cidrs");
  EXPECT_EQ(decideCandidate(c, addr("ens3", "192.168.1.1")).reason, "address not in allow_cidrs");
}

TEST(CandidatePolicy, Nat1to1AdvertisesThePublicAddress) {
  config::Candidates c;
  c.nat1to1 = {{"10.0.0.5", "203.0.113.7"}};
  auto d = decideCandidate(c, addr("eth0", "10.0.0.5"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.advertised, "203.0.113.7");
  EXPECT_EQ(decideCandidate(c, addr("eth1", "10.0.0.6")).advertised, "10.0.0.6");
}

// Issue 11: the browser's candidates that never get connectivity checks (reliability-security.md §3.4).
TEST(CandidatePolicy, RemoteCandidatesAtForbiddenAddressesAreRefused) {
  config::Candidates def;
  for (const char* a : {"0.0.0.0", "::", "169.254.169.254", "169.254.1.1", "fe80::1", "224.0.0.251", "ff02::1",
                        "255.255.255.255", "::ffff:10.0.0.1", "127.0.0.1", "::1", "host.example"})
    EXPECT_FALSE(decideRemoteCandidate(def, a).allowed) << a;
  EXPECT_EQ(decideRemoteCandidate(def, "169.254.169.254").reason, "link-local");
  EXPECT_EQ(decideRemoteCandidate(def, "127.0.0.1").reason, "loopback (ice.candidates.allow_loopback)");
  for (const char* a : {"10.1.2.3", "192.168.1.20", "203.0.113.9", "2001:db8::5"})
    EXPECT_TRUE(decideRemoteCandidate(def, a).allowed) << a;
  config::Candidates lo;
  lo.allowLoopback = true;
  EXPECT_TRUE(decideRemoteCandidate(lo, "127.0.0.1").allowed);
  EXPECT_FALSE(decideRemoteCandidate(lo, "169.254.169.254").allowed);
}

TEST(CandidatePolicy, GlobHelper) {
  EXPECT_TRUE(globMatch("docker*", "docker0"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("br-*", "br-"));
  EXPECT_FALSE(globMatch("br-*", "bridge0"));
  EXPECT_TRUE(globMatch("e?h*", "eth0"));
}

TEST(CandidatePolicy, ListLocalAddressesSeesLoopback) {
  bool lo = false;
  for (auto& a : listLocalAddresses())
    if (a.address == "127.0.0.1") lo = a.loopbackInterface;
  EXPECT_TRUE(lo);
}

TEST(TurnCredentials, RestApiUsernameAndHmac) {
  config::TurnServer ts;
  ts.sharedSecret = Secret("north");
  ts.credentialTtlS = 600;
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  auto c = turnCredentials(ts, now, "alice");
  EXPECT_EQ(c.username, "1700000600:alice");
  // base64(HMAC-SHA1("north", "1700000600:alice")), computed independently with
  // `printf %s 1700000600:alice | openssl dgst -sha1 -hmac north -binary | base64`.
  EXPECT_EQ(c.password.reveal(), "gthUwOpcRoLI0MMCziCEBOWYnpo=");
}

TEST(TurnCredentials, StaticCredentialsPassThrough) {
  config::TurnServer ts;
  ts.username = "u";
  ts.password = Secret("p");
  auto c = turnCredentials(ts, std::chrono::system_clock::now());
  EXPECT_EQ(c.username, "u");
  EXPECT_EQ(c.password.reveal(), "p");
}

}  // namespace
}  // namespace rtcgate::media

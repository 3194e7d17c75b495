// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/candidate_policy.h"

#include <gtest/gtest.h>

#include <utility>

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
  for (auto [ifname, pattern] : std::vector<std::pair<std::string, std::string>>{
           {"docker0", "docker*"}, {"br-3f2a9c", "br-*"}, {"veth12ab", "veth*"}, {"virbr0", "virbr*"},
           {"cni0", "cni*"}, {"flannel.1", "flannel*"}}) {
    auto d = decideCandidate(def, addr(ifname, "172.17.0.1"));
    EXPECT_FALSE(d.allowed) << ifname;
    EXPECT_EQ(d.rule, CandidateRule::BuiltinDenial) << ifname;
    EXPECT_EQ(d.reason, "built-in denial '" + pattern + "' (lift by name: ice.candidates.lift_builtin_denials: [" +
                            ifname + "])");
  }
  EXPECT_FALSE(decideCandidate(def, addr("lo", "127.0.0.1", true)).allowed);
  EXPECT_FALSE(decideCandidate(def, addr("eth0", "127.0.0.2")).allowed);
  EXPECT_FALSE(decideCandidate(def, addr("eth0", "169.254.10.1")).allowed);
  EXPECT_EQ(decideCandidate(def, addr("eth0", "169.254.10.1")).reason,
            "link-local (built-in denial; ice.candidates.allow_link_local)");
  EXPECT_EQ(decideCandidate(def, addr("eth0", "10.1.2.3")).reason, "allowed: no rule denies it");
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

// Issue 12: a user deny list used to replace the defaults, and the SDP then carried docker0 and br-* (the seed's
// leak). Now it adds to the built-in denials.
TEST(CandidatePolicy, UserDenyListAddsToTheBuiltInDenials) {
  config::Candidates c;
  c.denyInterfaces = {"ens224"};  // hide the LAN
  EXPECT_EQ(decideCandidate(c, addr("ens224", "192.168.210.54")).reason, "deny_interfaces 'ens224'");
  EXPECT_EQ(decideCandidate(c, addr("ens224", "192.168.210.54")).rule, CandidateRule::DenyInterfaces);
  EXPECT_EQ(decideCandidate(c, addr("docker0", "172.17.0.1")).rule, CandidateRule::BuiltinDenial);
  EXPECT_EQ(decideCandidate(c, addr("ens160", "203.0.113.9")).rule, CandidateRule::Allowed);
  EXPECT_EQ(decideCandidate(c, addr("docker0", "172.17.0.1")).reason,
            "built-in denial 'docker*' (lift by name: ice.candidates.lift_builtin_denials: [docker0])");
  EXPECT_FALSE(decideCandidate(c, addr("br-5f2a", "172.18.0.1")).allowed);
  EXPECT_FALSE(decideCandidate(c, addr("lo", "127.0.0.1", true)).allowed);
  EXPECT_FALSE(decideCandidate(c, addr("ens160", "169.254.3.3")).allowed);
  EXPECT_TRUE(decideCandidate(c, addr("ens160", "203.0.113.9")).allowed);
  // An empty user list is not "deny nothing".
  c.denyInterfaces.clear();
  EXPECT_FALSE(decideCandidate(c, addr("docker0", "172.17.0.1")).allowed);
}

TEST(CandidatePolicy, BuiltInDenialIsLiftedOnlyByExactName) {
  config::Candidates c;
  c.liftBuiltinDenials = {"docker0"};
  auto d = decideCandidate(c, addr("docker0", "172.17.0.1"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, "allowed: lift_builtin_denials names it (built-in 'docker*')");
  EXPECT_EQ(d.rule, CandidateRule::LiftedByName);
  EXPECT_FALSE(decideCandidate(c, addr("docker1", "172.19.0.1")).allowed);
  EXPECT_FALSE(decideCandidate(c, addr("br-5f2a", "172.18.0.1")).allowed);
  // allow_interfaces selects among permitted interfaces; it does not lift a built-in denial.
  config::Candidates allow;
  allow.allowInterfaces = {"docker*"};
  EXPECT_EQ(decideCandidate(allow, addr("docker0", "172.17.0.1")).reason,
            "built-in denial 'docker*' (lift by name: ice.candidates.lift_builtin_denials: [docker0])");
  // A user denial still wins over a lift.
  c.denyInterfaces = {"docker*"};
  EXPECT_EQ(decideCandidate(c, addr("docker0", "172.17.0.1")).reason, "deny_interfaces 'docker*'");
  // Loopback and link-local are lifted by their own flags, not by name.
  config::Candidates lo;
  lo.liftBuiltinDenials = {"lo"};
  EXPECT_FALSE(decideCandidate(lo, addr("lo", "127.0.0.1", true)).allowed);
  lo.allowLoopback = true;
  EXPECT_EQ(decideCandidate(lo, addr("lo", "127.0.0.1", true)).reason,
            "allowed: allow_loopback lifts the built-in 'lo' denial");
}

// The seed host: public ens160, LAN ens224, docker0 and a compose bridge (shared/seeds/001).
std::vector<LocalAddress> seedHost() {
  return {addr("lo", "127.0.0.1", true), addr("ens160", "103.167.180.166"), addr("ens224", "192.168.210.54"),
          addr("docker0", "172.17.0.1"), addr("br-5f2a", "172.18.0.1"), addr("ens224", "fe80::1")};
}

TEST(CandidatePolicy, DescribeSaysPerAddressWhatIsOfferedAndWhy) {
  config::Candidates def;
  auto r = describeCandidatePolicy(def, seedHost());
  ASSERT_EQ(r.entries.size(), 6u);
  std::vector<std::string> lines;
  for (auto& e : r.entries) lines.push_back(formatCandidatePolicyEntry(e));
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "deny  lo 127.0.0.1 (loopback (built-in denial; ice.candidates.allow_loopback))",
                       "offer ens160 103.167.180.166 (allowed: no rule denies it)",
                       "offer ens224 192.168.210.54 [private] (allowed: no rule denies it)",
                       "deny  docker0 172.17.0.1 [private] (built-in denial 'docker*' (lift by name: "
                       "ice.candidates.lift_builtin_denials: [docker0]))",
                       "deny  br-5f2a 172.18.0.1 [private] (built-in denial 'br-*' (lift by name: "
                       "ice.candidates.lift_builtin_denials: [br-5f2a]))",
                       "deny  ens224 fe80::1 (IPv6 disabled (ice.candidates.ipv6))"}));
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0],
            "private address 192.168.210.54 (ens224) is offered to browsers on a host that also offers the public "
            "103.167.180.166; browsers on the internet cannot reach it: deny it (ice.candidates.deny_interfaces: "
            "[ens224] or deny_cidrs) unless browsers sit on that network");

  config::Candidates hideLan;
  hideLan.denyInterfaces = {"ens224"};
  auto h = describeCandidatePolicy(hideLan, seedHost());
  EXPECT_TRUE(h.warnings.empty());
  std::vector<std::string> offered;
  for (auto& e : h.entries)
    if (e.decision.allowed) offered.push_back(e.decision.advertised);
  EXPECT_EQ(offered, (std::vector<std::string>{"103.167.180.166"}));
}

TEST(CandidatePolicy, DescribeWarnsForCgnatAndUlaButNotWithoutAPublicAddress) {
  config::Candidates c;
  c.ipv6 = true;
  auto r = describeCandidatePolicy(c, {addr("eth0", "100.64.1.2"), addr("eth1", "fd00::2"), addr("eth2", "2001:db8::9")});
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0].rfind("private address 100.64.1.2 (eth0)", 0), 0u) << r.warnings[0];
  EXPECT_EQ(r.warnings[1].rfind("private address fd00::2 (eth1)", 0), 0u) << r.warnings[1];
  // An all-private host (a LAN-only deployment) gets no warning.
  EXPECT_TRUE(describeCandidatePolicy(c, {addr("eth0", "10.0.0.5"), addr("eth1", "192.168.1.5")}).warnings.empty());
  // A private address advertised as a public one (nat_1to1) is public in the SDP: no warning, and shown so.
  c.nat1to1 = {{"10.0.0.5", "203.0.113.7"}};
  auto n = describeCandidatePolicy(c, {addr("eth0", "10.0.0.5"), addr("eth1", "192.168.1.5")});
  ASSERT_EQ(n.warnings.size(), 1u);
  EXPECT_EQ(n.warnings[0].rfind("private address 192.168.1.5 (eth1) is offered to browsers on a host that also "
                                "offers the public 203.0.113.7;", 0),
            0u)
      << n.warnings[0];
  EXPECT_EQ(formatCandidatePolicyEntry(n.entries[0]),
            "offer eth0 10.0.0.5 advertised as 203.0.113.7 (allowed: no rule denies it)");
}

TEST(CandidatePolicy, InterfaceNamesAreEscapedInLines) {
  config::Candidates c;
  auto r = describeCandidatePolicy(c, {addr("eth\n0", "10.0.0.5"), addr("bad\x1b[2J", "10.0.0.6"),
                                      addr("docker\n1", "172.17.0.1")});
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries[2].decision.rule, CandidateRule::BuiltinDenial);
  for (auto& e : r.entries) {
    auto line = formatCandidatePolicyEntry(e);
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  }
}

// RFC 8445 5.1.2.1: public (or nat_1to1-advertised) above private, type preference and component untouched.
TEST(CandidatePolicy, PublicAddressesGetTheHigherLocalPreference) {
  // 0x7E_FFFF_FF: host type preference 126, local preference 65535, component 1.
  EXPECT_EQ(preferPublicPriority(0x7EFFFFFFu, "203.0.113.9"), 0x7EFFFFFFu);
  EXPECT_EQ(preferPublicPriority(0x7EFFFFFFu, "192.168.210.54"), 0x7E7FFFFFu);
  // libnice's low local-preference bits (its interface position) are kept, so priorities stay distinct.
  EXPECT_EQ(preferPublicPriority(0x78E001FFu, "10.0.0.5"), 0x786001FFu);
  EXPECT_EQ(preferPublicPriority(0x78E002FFu, "203.0.113.7"), 0x78E002FFu);
  EXPECT_EQ(preferPublicPriority(0x786003FFu, "203.0.113.7"), 0x78E003FFu);  // raised above every private one
  for (auto* a : {"100.64.0.1", "fd00::1", "127.0.0.1", "169.254.1.1", "fe80::1", "not-an-address"})
    EXPECT_EQ(preferPublicPriority(0x78FFFFFFu, a), 0x787FFFFFu) << a;
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

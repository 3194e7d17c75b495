// SPDX-License-Identifier: Apache-2.0
// `rtcgate doctor` as a user meets it: the real binary against coturn (static user and TURN REST secret) and SIPp
// answering OPTIONS as Genesys, on loopback; then one broken thing at a time.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "media/subprocess.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace {

using rtcgate::media::test::Subprocess;
namespace test = rtcgate::test;

struct DoctorRun {
  int exitCode = -1;
  std::string out;
};

// The doctor bounds itself (--timeout-ms per exchange); ctest's TIMEOUT bounds the rest.
DoctorRun shell(const std::string& cmd) {
  DoctorRun r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

DoctorRun doctor(const std::string& configPath, const std::string& extra = "") {
  return shell(std::string(RTCGATE_BINARY) + " doctor --config " + configPath + " --timeout-ms 300 " + extra);
}

bool waitUntil(const std::function<bool()>& pred) {
  for (int i = 0; i < 250; ++i) {  // 5 s
    if (pred()) return true;
    ::poll(nullptr, 0, 20);
  }
  return pred();
}

// coturn on 127.0.0.1: static user alice/wonder, or a TURN REST shared secret.
class Coturn {
public:
  explicit Coturn(bool restSecret) : port_(test::freePort()) {
    std::vector<std::string> argv{"/usr/bin/turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                                  "--listening-port=" + std::to_string(port_), "--realm=rtcgate.test", "--no-tls",
                                  "--no-dtls", "--no-cli", "--log-file=" + dir_.path() + "/turn.log",
                                  "--simple-log", "--no-stdout-log", "--pidfile=" + dir_.path() + "/turn.pid"};
    if (restSecret) {
      argv.push_back("--use-auth-secret");
      argv.push_back("--static-auth-secret=doctor-test-secret");
    } else {
      argv.push_back("--lt-cred-mech");
      argv.push_back("--user=alice:wonder");
    }
    proc_ = std::make_unique<Subprocess>(argv, false);
  }
  uint16_t port() const { return port_; }
  bool ready() const { return waitUntil([&] { return test::udpPortBound(port_); }); }

private:
  test::TempDir dir_;
  uint16_t port_;
  std::unique_ptr<Subprocess> proc_;
};

class Doctor : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    staticTurn = new Coturn(false);
    restTurn = new Coturn(true);
  }
  static void TearDownTestSuite() {
    delete staticTurn;
    delete restTurn;
    staticTurn = restTurn = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(staticTurn->ready()) << "coturn (turnserver) did not start";
    ASSERT_TRUE(restTurn->ready()) << "coturn (turnserver) did not start";
    // Other tests' port pools share this region and skip busy ports; the doctor does not skip, so start from
    // twelve ports free now (RTP 8, ICE 4).
    for (int attempt = 0; attempt < 20; ++attempt) {
      rtpMin = test::freePortRangeBase(12);
      bool free = true;
      for (uint16_t p = rtpMin; p < rtpMin + 12 && free; ++p) free = !test::udpPortBound(p);
      if (free) break;
    }
    iceMin = static_cast<uint16_t>(rtpMin + 8);
  }

  // A configuration that is right for this host: only loopback offered, small ranges for max_calls 2.
  struct Settings {
    std::string turnPassword = "wonder";
    std::string turnSecret = "doctor-test-secret";
    std::string stun;  // empty: the static coturn
    uint16_t upstreamPort = 0;
    uint16_t rtpSpan = 8;
    unsigned maxCalls = 2;
    std::string nat1to1;  // YAML flow list for ice.candidates.nat_1to1; empty: none
  };
  std::string config(const Settings& s) {
    std::string stun = s.stun.empty() ? "127.0.0.1:" + std::to_string(staticTurn->port()) : s.stun;
    std::string yaml =
        "listeners:\n  wss:\n    - {address: 127.0.0.1, port: 0}\n  admin: {enabled: false}\n"
        "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n" +
        (s.upstreamPort ? "  servers:\n    - {host: 127.0.0.1, port: " + std::to_string(s.upstreamPort) + "}\n"
                        : std::string()) +
        "media:\n  rtp_address: 127.0.0.1\n  rtp_port_min: " + std::to_string(rtpMin) +
        "\n  rtp_port_max: " + std::to_string(rtpMin + s.rtpSpan - 1) + "\n  ice_port_min: " +
        std::to_string(iceMin) + "\n  ice_port_max: " + std::to_string(iceMin + 3) +
        "\nice:\n  stun_servers: [\"" + stun + "\"]\n  turn_servers:\n"
        "    - {host: 127.0.0.1, port: " + std::to_string(staticTurn->port()) +
        ", username: alice, password: " + s.turnPassword + "}\n" +
        "    - {host: 127.0.0.1, port: " + std::to_string(restTurn->port()) + ", shared_secret: " + s.turnSecret +
        "}\n" + "  candidates: {allow_interfaces: [lo], allow_loopback: true" +
        (s.nat1to1.empty() ? std::string() : ", nat_1to1: " + s.nat1to1) + "}\n" +
        "security:\n  max_calls: " + std::to_string(s.maxCalls) + "\n";
    return dir.write("rtcgate.yaml", yaml);
  }
  std::unique_ptr<test::SippProcess> genesysAnsweringOptions(uint16_t port, int answers) {
    auto p = std::make_unique<test::SippProcess>(
        dir.path(), test::scenario("options_ping_answered.xml"),
        std::vector<std::string>{"-i", "127.0.0.1", "-p", std::to_string(port), "-mp",
                                 std::to_string(test::freeMediaPort()), "-m", std::to_string(answers), "-timeout",
                                 "15s", "-timeout_error", "-bind_local"});
    EXPECT_TRUE(waitUntil([&] { return test::udpPortBound(port) || p->exited(); })) << p->output();
    return p;
  }

  static Coturn* staticTurn;
  static Coturn* restTurn;
  test::TempDir dir;
  uint16_t rtpMin = 0, iceMin = 0;
};

Coturn* Doctor::staticTurn = nullptr;
Coturn* Doctor::restTurn = nullptr;

bool has(const std::string& out, const std::string& line) { return out.find(line) != std::string::npos; }

TEST_F(Doctor, CorrectDeploymentExitsZeroWithEveryCheckReported) {
  Settings s;
  s.upstreamPort = test::freePort();
  auto genesys = genesysAnsweringOptions(s.upstreamPort, 2);
  auto cfg = config(s);
  auto r = doctor(cfg);
  EXPECT_EQ(r.exitCode, 0) << r.out;
  const std::string turn = "127.0.0.1:" + std::to_string(staticTurn->port());
  const std::string rest = "127.0.0.1:" + std::to_string(restTurn->port());
  EXPECT_TRUE(has(r.out, "warning interfaces: lo 127.0.0.1: offered, loopback")) << r.out;
  EXPECT_TRUE(has(r.out, "ok      ports: media.rtp_port_min..rtp_port_max (" + std::to_string(rtpMin) + ".." +
                             std::to_string(rtpMin + 7) + ") on 127.0.0.1: 8 sampled ports bindable"))
      << r.out;
  EXPECT_TRUE(has(r.out, "room for 4 calls (2 per call, security.max_calls 2)")) << r.out;
  EXPECT_TRUE(has(r.out, "room for 4 calls (1 per call, security.max_calls 2)")) << r.out;
  // The Binding request leaves from the top of the ICE range, where the host candidate would.
  EXPECT_TRUE(has(r.out, "ok      stun: ice.stun_servers " + turn + ": mapped address 127.0.0.1:" +
                             std::to_string(iceMin + 3) + " from 127.0.0.1:" + std::to_string(iceMin + 3) +
                             ", the address rtcgate advertises"))
      << r.out;
  EXPECT_TRUE(has(r.out, "ok      turn: ice.turn_servers " + turn + ": relay 127.0.0.1:")) << r.out;
  EXPECT_TRUE(has(r.out, "allocated with static user \"alice\"")) << r.out;
  EXPECT_TRUE(has(r.out, "ok      turn: ice.turn_servers " + rest + ": relay 127.0.0.1:")) << r.out;
  EXPECT_TRUE(has(r.out, "allocated with TURN REST credentials (shared_secret)")) << r.out;
  EXPECT_TRUE(has(r.out, "ok      upstream: upstream.servers 127.0.0.1:" + std::to_string(s.upstreamPort) +
                             ": answered OPTIONS with SIP/2.0 200 OK"))
      << r.out;
  EXPECT_TRUE(has(r.out, "\ndoctor: no problems found\n")) << r.out;
  EXPECT_FALSE(has(r.out, "PROBLEM")) << r.out;

  auto j = doctor(cfg, "--json");
  EXPECT_EQ(j.exitCode, 0) << j.out;
  EXPECT_EQ(j.out.rfind("{\"problems\":0,\"findings\":[", 0), 0u) << j.out;
  EXPECT_TRUE(has(j.out, "{\"check\":\"upstream\",\"severity\":\"ok\",\"message\":\"upstream.servers 127.0.0.1:" +
                             std::to_string(s.upstreamPort) + ": answered OPTIONS with SIP/2.0 200 OK\"}"))
      << j.out;
  EXPECT_TRUE(waitUntil([&] { return genesys->exited(); })) << genesys->output();
  EXPECT_EQ(genesys->exitCode(), 0) << genesys->output();
}

TEST_F(Doctor, WrongTurnCredentialsReport401WithTheFix) {
  Settings s;
  s.turnPassword = "not-wonder";
  s.turnSecret = "not-the-secret";
  auto r = doctor(config(s));
  EXPECT_EQ(r.exitCode, 1) << r.out;
  const std::string turn = "127.0.0.1:" + std::to_string(staticTurn->port());
  const std::string rest = "127.0.0.1:" + std::to_string(restTurn->port());
  EXPECT_TRUE(has(r.out, "PROBLEM turn: ice.turn_servers " + turn +
                             ": Allocate with static user \"alice\" refused: 401 Unauthorized\n"
                             "        fix: set ice.turn_servers username/password to a user coturn knows"))
      << r.out;
  EXPECT_TRUE(has(r.out, "PROBLEM turn: ice.turn_servers " + rest +
                             ": Allocate with TURN REST credentials (shared_secret) refused: 401 Unauthorized\n"
                             "        fix: set ice.turn_servers shared_secret to coturn's static-auth-secret"))
      << r.out;
  EXPECT_TRUE(has(r.out, "\ndoctor: 2 problem(s) found\n")) << r.out;
}

TEST_F(Doctor, UnreachableStunServerReported) {
  Settings s;
  const uint16_t silent = test::freePort();
  s.stun = "127.0.0.1:" + std::to_string(silent);
  auto r = doctor(config(s));
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_TRUE(has(r.out, "PROBLEM stun: ice.stun_servers 127.0.0.1:" + std::to_string(silent) +
                             ": no answer within 300 ms from 127.0.0.1:" + std::to_string(iceMin + 3) +
                             "\n        fix: allow UDP from this host's ICE ports to 127.0.0.1:" +
                             std::to_string(silent) + " in the firewall, or remove it from ice.stun_servers\n"))
      << r.out;
  EXPECT_TRUE(has(r.out, "\ndoctor: 1 problem(s) found\n")) << r.out;
}

TEST_F(Doctor, PortRangeHeldByAnotherProcessNamesIt) {
  Settings s;
  auto cfg = config(s);
  std::vector<int> held;
  for (uint16_t p = rtpMin; p < rtpMin + 8; ++p) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(p);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0) << "port " << p;
    held.push_back(fd);
  }
  auto r = doctor(cfg);
  for (int fd : held) ::close(fd);
  EXPECT_EQ(r.exitCode, 1) << r.out;
  const std::string owner = "held by pid " + std::to_string(::getpid()) + " (";
  EXPECT_TRUE(has(r.out, "PROBLEM ports: media.rtp_port_min..rtp_port_max (" + std::to_string(rtpMin) + ".." +
                             std::to_string(rtpMin + 7) + ") on 127.0.0.1: 8 of 8 sampled ports cannot be bound: " +
                             std::to_string(rtpMin) + " (Address already in use, " + owner))
      << r.out;
  EXPECT_TRUE(has(r.out, "        fix: stop pid " + std::to_string(::getpid()) + " (")) << r.out;
  EXPECT_TRUE(has(r.out, ") or move media.rtp_port_min/_max to a range it does not use\n")) << r.out;
  EXPECT_TRUE(has(r.out, "\ndoctor: 1 problem(s) found\n")) << r.out;
}

TEST_F(Doctor, RangeTooSmallForMaxCallsIsAConfigErrorWithTheSize) {
  Settings s;
  s.rtpSpan = 4;
  s.maxCalls = 3;  // 2 RTP ports per call: 6 needed, 4 configured; the ICE range (4) suffices
  const auto path = config(s);
  auto r = doctor(path);
  EXPECT_EQ(r.exitCode, 2) << r.out;
  EXPECT_TRUE(has(r.out, "rtcgate doctor: invalid configuration: " + path + ":10:17: media.rtp_port_max: the RTP range " +
                             std::to_string(rtpMin) + ".." + std::to_string(rtpMin + 3) +
                             " has room for 2 calls, 2 ports per call x security.max_calls 3 = 6 ports; set "
                             "media.rtp_port_max: " + std::to_string(rtpMin + 5) + " (or security.max_calls: 2)\n"))
      << r.out;
}

TEST_F(Doctor, GenesysNotAnsweringOptionsReported) {
  Settings s;
  s.upstreamPort = test::freePort();  // nothing listens there
  auto r = doctor(config(s));
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_TRUE(has(r.out, "PROBLEM upstream: upstream.servers 127.0.0.1:" + std::to_string(s.upstreamPort) +
                             ": no answer to OPTIONS within 300 ms from 127.0.0.1\n        fix: check that Genesys "
                             "SIP Server listens on 127.0.0.1:" +
                             std::to_string(s.upstreamPort) + " and accepts SIP from 127.0.0.1"))
      << r.out;
  EXPECT_TRUE(has(r.out, "\ndoctor: 1 problem(s) found\n")) << r.out;
}

TEST_F(Doctor, StunMappedAddressContradictingNat1to1GivesTheRightOne) {
  Settings s;
  s.nat1to1 = "[{local: 127.0.0.1, advertised: 203.0.113.10}]";
  auto r = doctor(config(s));
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_TRUE(has(r.out, "lo 127.0.0.1 (advertised as 203.0.113.10 by nat_1to1): offered")) << r.out;
  EXPECT_TRUE(has(r.out, "PROBLEM stun: ice.stun_servers 127.0.0.1:" + std::to_string(staticTurn->port()) +
                             ": mapped address 127.0.0.1:" + std::to_string(iceMin + 3) + " from 127.0.0.1:" +
                             std::to_string(iceMin + 3) +
                             ", but ice.candidates.nat_1to1 advertises 203.0.113.10 for 127.0.0.1\n"
                             "        fix: set ice.candidates.nat_1to1: [{local: 127.0.0.1, advertised: 127.0.0.1}]\n"))
      << r.out;
  EXPECT_TRUE(has(r.out, "\ndoctor: 1 problem(s) found\n")) << r.out;
}

// The seed's leak in a network namespace of the test's own: a host with a bridge, a public and a LAN address (veth
// pairs: this kernel may lack the dummy type). A user deny_interfaces without br-* no longer offers the bridge (the
// built-in denials always apply); lifted by name, it is offered and the doctor names it and the LAN address with
// their fixes.
TEST_F(Doctor, BridgeAndPrivateBesidePublicFlaggedInANamespace) {
  if (::system("unshare -rn true >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "network namespaces unavailable here (unshare -rn failed): bridge flagging not exercised";
  auto dmz = [&](const std::string& name, const std::string& candidates) {
    return dir.write(name, "listeners:\n  wss:\n    - {address: 127.0.0.1, port: 0}\n  admin: {enabled: false}\n"
                           "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n"
                           "media: {rtp_port_min: 20000, rtp_port_max: 20999, ice_port_min: 30000, "
                           "ice_port_max: 30999}\nice:\n  candidates: " +
                               candidates + "\n");
  };
  auto userList = dmz("user-list.yaml", "{deny_interfaces: [\"eth9\"]}");
  auto lifted = dmz("lifted.yaml", "{deny_interfaces: [\"eth9\"], lift_builtin_denials: [br-doctor0]}");
  // TEST-NET and 10.x only, inside the namespace, which has no route out and vanishes with the shell.
  const std::string script =
      "ip link set lo up && ip link add br-doctor0 type bridge && ip addr add 10.9.0.1/24 dev br-doctor0 && "
      "ip link set br-doctor0 up && ip link add wan0 type veth peer name wan0p && ip addr add 203.0.113.5/24 dev wan0 "
      "&& ip link set wan0p up && ip link set wan0 up && ip link add lan0 type veth peer name lan0p && "
      "ip addr add 10.20.0.5/24 dev lan0 && ip link set lan0p up && ip link set lan0 up && " +
      std::string(RTCGATE_BINARY) + " doctor --config " + userList + " --timeout-ms 300; echo \"exit=$?\"; exec " +
      std::string(RTCGATE_BINARY) + " doctor --config " + lifted + " --timeout-ms 300";
  auto r = shell("unshare -rn sh -c '" + script + "'");
  auto split = r.out.find("exit=");
  ASSERT_NE(split, std::string::npos) << r.out;
  const std::string first = r.out.substr(0, split);
  EXPECT_TRUE(has(first, "ok      interfaces: br-doctor0 10.9.0.1: not offered (built-in denial 'br-*'")) << first;
  EXPECT_FALSE(has(first, "PROBLEM interfaces: br-doctor0")) << first;
  EXPECT_TRUE(has(r.out, "exit=0\n")) << r.out;  // only the LAN warning: no problem
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_TRUE(has(r.out, "PROBLEM interfaces: br-doctor0 10.9.0.1: offered, but it is a bridge/container interface "
                         "no browser can reach\n        fix: remove \"br-doctor0\" from "
                         "ice.candidates.lift_builtin_denials\n"))
      << r.out;
  EXPECT_TRUE(has(r.out, "warning interfaces: lan0 10.20.0.5: offered, private address beside a public one")) << r.out;
  EXPECT_TRUE(has(r.out, "        fix: add 10.20.0.5/32 to ice.candidates.deny_cidrs unless browsers sit on that "
                         "network\n"))
      << r.out;
  EXPECT_TRUE(has(r.out, "ok      interfaces: wan0 203.0.113.5: offered\n")) << r.out;
  EXPECT_TRUE(has(r.out, "ok      interfaces: lo 127.0.0.1: not offered (loopback (built-in denial; ice.candidates.allow_loopback))"))
      << r.out;
  EXPECT_TRUE(has(r.out, "\ndoctor: 1 problem(s) found\n")) << r.out;
}

TEST_F(Doctor, UnusableConfigurationExitsTwo) {
  auto r = doctor(dir.write("bad.yaml", "media:\n  rtp_port_min: 30000\n  rtp_port_max: 20000\n"));
  EXPECT_EQ(r.exitCode, 2) << r.out;
  EXPECT_TRUE(has(r.out, "rtcgate doctor: invalid configuration: ")) << r.out;
  EXPECT_TRUE(has(r.out, "rtp_port_min must not exceed rtp_port_max")) << r.out;
}

}  // namespace

// SPDX-License-Identifier: Apache-2.0
// The real rtcgate binary as ops run it: command line, exit codes, signals, systemd notifications.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "component/daemon_harness.h"
#include "component/daemon_probes.h"
#include "component/udp_peer.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate {
namespace {

using namespace std::chrono_literals;
using test::adminPortFrom;
using test::Child;
using test::NotifySocket;
using test::portFrom;

// One SIP request over UDP from `fromIp` (any 127/8 address); returns the first response line and headers.
std::string sipExchange(const std::string& fromIp, uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, fromIp.c_str(), &local.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    ::close(fd);
    return {};
  }
  socklen_t len = sizeof(local);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  std::string msg = request;
  for (auto pos = msg.find("LOCALPORT"); pos != std::string::npos; pos = msg.find("LOCALPORT"))
    msg.replace(pos, 9, std::to_string(ntohs(local.sin_port)));
  for (auto pos = msg.find("LOCALIP"); pos != std::string::npos; pos = msg.find("LOCALIP")) msg.replace(pos, 7, fromIp);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  ::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  std::string reply;
  pollfd p{fd, POLLIN, 0};
  // sofia may send 100 Trying first for INVITE; OPTIONS gets its final answer directly.
  if (::poll(&p, 1, 5000) > 0) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) reply.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

// A UDP socket on a foreign source address: sends raw SIP and counts what comes back to it.
class SpoofingSocket {
public:
  SpoofingSocket(const std::string& fromIp, uint16_t port) : fromIp_(fromIp), peer_(port, fromIp.c_str()) {}
  void send(std::string msg) {
    for (auto pos = msg.find("LOCALPORT"); pos != std::string::npos; pos = msg.find("LOCALPORT"))
      msg.replace(pos, 9, std::to_string(peer_.port()));
    for (auto pos = msg.find("LOCALIP"); pos != std::string::npos; pos = msg.find("LOCALIP"))
      msg.replace(pos, 7, fromIp_);
    peer_.send(msg);
  }
  // Datagrams already queued (no waiting), drained.
  size_t datagramsReceived() {
    while (!peer_.receive(0ms).empty()) ++received_;
    return received_;
  }

private:
  std::string fromIp_;
  test::UdpPeer peer_;
  size_t received_ = 0;
};

// True when a TCP connection to ip:port is accepted (loopback: an answer either way comes at once).
bool tcpConnects(const std::string& ip, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &to.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0;
  ::close(fd);
  return ok;
}

const char* kOptions =
    "OPTIONS sip:healthcheck@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP LOCALIP:LOCALPORT;branch=z9hG4bK-lb-1;rport\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:lb@LOCALIP>;tag=lb1\r\nTo: <sip:healthcheck@127.0.0.1>\r\n"
    "Call-ID: lb-health-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

// The real binary on a config file, reporting to a NotifySocket as it would to systemd.
struct RunningDaemon {
  explicit RunningDaemon(const std::string& config, std::vector<std::string> env = {})
      : notify(dir.path() + "/notify.sock"),
        d({RTCGATE_BINARY, "--config", dir.write("rtcgate.yaml", config)}, dir.path(), withNotify(env)) {}
  std::vector<std::string> withNotify(std::vector<std::string> env) const {
    env.push_back(notify.env());
    return env;
  }
  test::TempDir dir;
  NotifySocket notify;
  Child d;
};

const char* kConfig = R"(listeners:
  admin: {address: 127.0.0.1, port: 0}
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: 5999}]
media: {workers: 2}
security:
  max_calls: 5
)";

TEST(DaemonProcess, VersionAndUsage) {
  test::TempDir dir;
  Child v({RTCGATE_BINARY, "--version"}, dir.path());
  EXPECT_EQ(v.wait(5s), 0);
  EXPECT_EQ(v.out().rfind("rtcgate ", 0), 0u) << v.out();
  // The linked libsrtp2 and its crypto backend (docs/adr/0008).
  EXPECT_NE(v.out().find("\nlibsrtp2 2."), std::string::npos) << v.out();
  Child bad({RTCGATE_BINARY, "--frobnicate"}, dir.path());
  EXPECT_EQ(bad.wait(5s), 2);
  EXPECT_NE(bad.err().find("unknown argument '--frobnicate'"), std::string::npos) << bad.err();
}

TEST(DaemonProcess, CheckConfigAcceptsTheShippedFiles) {
  test::TempDir dir;
  Child sample({RTCGATE_BINARY, "--check-config", RTCGATE_SOURCE_DIR "/config/rtcgate.yaml"}, dir.path());
  EXPECT_EQ(sample.wait(5s), 0) << sample.err();
  Child def({RTCGATE_BINARY, "--print-default-config"}, dir.path());
  EXPECT_EQ(def.wait(5s), 0);
  auto path = dir.write("default.yaml", def.out());
  Child check({RTCGATE_BINARY, "--check-config", path}, dir.path());
  EXPECT_EQ(check.wait(5s), 0) << check.err();
}

TEST(DaemonProcess, CheckConfigNamesKeyLineAndColumn) {
  test::TempDir dir;
  auto path = dir.write("bad.yaml", "media:\n  workers: 2\n  rtp_port_mni: 1\n");
  Child c({RTCGATE_BINARY, "--check-config", path}, dir.path());
  EXPECT_EQ(c.wait(5s), 2);
  EXPECT_NE(c.err().find(path + ":3:3: media.rtp_port_mni: unknown key 'rtp_port_mni'"), std::string::npos) << c.err();
}

// Issue 12: --check-config prints the effective candidate policy (a user deny list added to the built-in
// denials, not replacing them) and what it offers on this host; the daemon logs the per-address lines at start.
TEST(DaemonProcess, CheckConfigAndStartupShowTheEffectiveCandidatePolicy) {
  test::TempDir dir;
  auto path = dir.write("policy.yaml", std::string(kConfig) +
                                           "ice:\n  candidates:\n    deny_interfaces: [eth9]\n"
                                           "    lift_builtin_denials: [docker0]\n");
  Child check({RTCGATE_BINARY, "--check-config", path}, dir.path());
  ASSERT_EQ(check.wait(5s), 0) << check.err();
  auto out = check.out();
  for (auto* line : {"  built-in denials (always): [docker*, br-*, veth*, virbr*, cni*, flannel*, lo], link-local\n",
                     "  lift_builtin_denials: [docker0]\n", "  deny_interfaces (added to the built-in ones): [eth9]\n",
                     "on this host:\n",
                     "  deny  lo 127.0.0.1 (loopback (built-in denial; ice.candidates.allow_loopback))\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;

  RunningDaemon daemon(std::string(kConfig) + "ice:\n  candidates:\n    deny_interfaces: [eth9]\n");
  auto& [ddir, notify, d] = daemon;
  ASSERT_FALSE(notify.waitFor("READY=1").empty()) << d.err();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(5s), 0) << d.err();
  EXPECT_NE(d.err().find("ice candidate policy: deny  lo 127.0.0.1 (loopback (built-in denial; "
                         "ice.candidates.allow_loopback))"),
            std::string::npos)
      << d.err();
}

TEST(DaemonProcess, ReloadKeepsRunningOnABrokenFileAndTermExitsCleanly) {
  RunningDaemon daemon(kConfig);
  auto& [dir, notify, d] = daemon;
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  uint16_t port = adminPortFrom(ready);
  ASSERT_NE(port, 0) << ready;
  std::string body;
  ASSERT_EQ(test::httpGet(port, "/healthz", &body), 200);

  // A broken file: the daemon says why, keeps serving, and counts the failure.
  dir.write("rtcgate.yaml", std::string(kConfig) + "bogus_key: 1\n");
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_FALSE(notify.waitFor("RELOADING=1").empty());
  ASSERT_FALSE(notify.waitFor("READY=1").empty());
  EXPECT_TRUE(d.running());
  EXPECT_EQ(test::httpGet(port, "/healthz", &body), 200);
  ASSERT_EQ(test::httpGet(port, "/metrics", &body), 200);
  EXPECT_NE(body.find("rtcgate_config_reload_failures_total 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("rtcgate_config_reloads_total 0\n"), std::string::npos) << body;
  EXPECT_NE(d.err().find("reload refused"), std::string::npos) << d.err();
  EXPECT_NE(d.err().find("rtcgate.yaml:9:1: bogus_key: unknown key"), std::string::npos) << d.err();

  // A valid change is applied.
  dir.write("rtcgate.yaml", std::string(kConfig) + "logging: {level: debug}\n");
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_FALSE(notify.waitFor("RELOADING=1").empty());
  ASSERT_FALSE(notify.waitFor("READY=1").empty());
  ASSERT_EQ(test::httpGet(port, "/metrics", &body), 200);
  EXPECT_NE(body.find("rtcgate_config_reloads_total 1\n"), std::string::npos) << body;

  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_FALSE(notify.waitFor("STOPPING=1").empty());
  EXPECT_EQ(d.wait(5s), 0) << d.err();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_NE(d.err().find("SIGTERM: shutting down"), std::string::npos) << d.err();
}

// Issue 13 (the packet gap after SIGHUP): a reload is control-thread work (Daemon::reload asserts it in test builds)
// and runs no task on a media worker: calls keep the snapshot they started with, so nothing is handed to their
// loops. The media workers' lag probe (rtcgate_media_loop_lag_seconds) keeps firing through the reloads.
TEST(DaemonProcess, ReloadRunsNoTaskOnTheMediaWorkers) {
  RunningDaemon daemon(kConfig, {"RTCGATE_MEDIA_LAG_PROBE_MS=5"});
  auto& [dir, notify, d] = daemon;
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  const uint16_t port = adminPortFrom(ready);
  ASSERT_NE(port, 0) << ready;
  // Start-up posts one task per worker (its lag probe); then nothing else runs there while no call exists.
  ASSERT_TRUE(test::awaitMetric(port, "rtcgate_media_worker_tasks", 2, 5s)) << d.err();
  const auto probesBefore = test::metricValue(port, "rtcgate_media_loop_lag_seconds_count");
  const std::string changes[] = {
      "logging: {level: debug, components: {rtp: trace}}\n",
      "agents:\n  - {user: \"3001\", password: demo-3001, dn: \"3001\"}\n",
      "codecs: {browser: [pcmu, opus, pcma]}\n",
  };
  for (const auto& change : changes) {
    dir.write("rtcgate.yaml", std::string(kConfig) + change);
    ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
    ASSERT_FALSE(notify.waitFor("RELOADING=1").empty());
    ASSERT_FALSE(notify.waitFor("READY=1").empty());
  }
  EXPECT_EQ(test::metricValue(port, "rtcgate_config_reloads_total"), 3) << d.err();
  EXPECT_EQ(test::metricValue(port, "rtcgate_config_reload_failures_total"), 0) << d.err();
  EXPECT_EQ(test::metricValue(port, "rtcgate_media_worker_tasks"), 2);
  // The workers kept turning: their probes fired after the reloads (/metrics has no change notification: a
  // bounded poll, as test::awaitMetric).
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (test::metricValue(port, "rtcgate_media_loop_lag_seconds_count") <= probesBefore &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_GT(test::metricValue(port, "rtcgate_media_loop_lag_seconds_count"), probesBefore);
  EXPECT_NE(d.err().find("configuration reloaded from"), std::string::npos) << d.err();
  EXPECT_NE(d.err().find("(control thread: parse "), std::string::npos) << d.err();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(5s), 0) << d.err();
}

// The seed deployment answered a load balancer's OPTIONS with "No matching endpoint found"; rtcgate answers 200
// to any user from the upstream, and refuses other sources.
TEST(DaemonProcess, AnswersUpstreamOptionsHealthChecksAndRefusesStrangers) {
  RunningDaemon daemon(kConfig);
  auto& [dir, notify, d] = daemon;
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  uint16_t sipPort = portFrom(ready, "sip");
  ASSERT_NE(sipPort, 0) << ready;
  auto ok = sipExchange("127.0.0.1", sipPort, kOptions);
  EXPECT_EQ(ok.rfind("SIP/2.0 200", 0), 0u) << ok;
  EXPECT_NE(ok.find("Allow-Events: talk, hold"), std::string::npos) << ok;
  std::string stranger = kOptions;
  stranger.replace(stranger.find("lb-health-1"), 11, "lb-health-2");
  stranger.replace(stranger.find("z9hG4bK-lb-1"), 12, "z9hG4bK-lb-2");
  // Issue 11: a stranger gets no answer at all (dropped in the kernel), where it used to get 403.
  SpoofingSocket spoofer("127.0.0.2", sipPort);
  spoofer.send(stranger);
  std::string again = kOptions;
  again.replace(again.find("lb-health-1"), 11, "lb-health-3");
  again.replace(again.find("z9hG4bK-lb-1"), 12, "z9hG4bK-lb-3");
  auto after = sipExchange("127.0.0.1", sipPort, again);
  EXPECT_EQ(after.rfind("SIP/2.0 200", 0), 0u) << after;
  EXPECT_EQ(spoofer.datagramsReceived(), 0u);
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
}

const char* kSpoofedInvite =
    "INVITE sip:1001@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP LOCALIP:LOCALPORT;branch=z9hG4bK-spoof-1;rport\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:victim@LOCALIP>;tag=sp1\r\nTo: <sip:1001@127.0.0.1>\r\n"
    "Call-ID: spoofed-invite-1\r\nCSeq: 1 INVITE\r\nContact: <sip:victim@LOCALIP:LOCALPORT>\r\n"
    "Content-Type: application/sdp\r\nContent-Length: 0\r\n\r\n";

// Issue 11: a spoofed INVITE from outside the allowed sources was answered with 100 Trying and a 403 that nta
// retransmitted until timer H (12 datagrams towards the spoofed address for one sent). Now nothing comes back.
// The legitimate OPTIONS sent after it is answered, so the INVITE has been through the socket by then; the
// datagrams the old code sent at once (100, the first 403) were already there when it was measured.
TEST(DaemonProcess, SpoofedInviteFromForeignSourceGetsNoAnswer) {
  RunningDaemon daemon(kConfig);
  auto& [dir, notify, d] = daemon;
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  uint16_t sipPort = portFrom(ready, "sip");
  ASSERT_NE(sipPort, 0) << ready;
  SpoofingSocket spoofer("127.0.0.2", sipPort);
  spoofer.send(kSpoofedInvite);
  auto ok = sipExchange("127.0.0.1", sipPort, kOptions);
  EXPECT_EQ(ok.rfind("SIP/2.0 200", 0), 0u) << ok;
  EXPECT_EQ(spoofer.datagramsReceived(), 0u);
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
}

// SIPp ends by itself (-m, -timeout); the daemon test has no loop of its own to pump meanwhile.
void waitForExit(test::SippProcess& sipp, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!sipp.exited() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
}

// A daemon with a WSS listener, agent 1001 (password demo-1001, DN 1001) for the JsSIP clients of sip_clients.mjs,
// and one upstream server on `upstreamPort` (SIPp); `security` lines are added under `security:`.
std::string agentDaemonConfig(uint16_t upstreamPort, const std::string& security = {}) {
  return "listeners:\n  admin: {address: 127.0.0.1, port: 0}\n"
         "  wss: [{address: 127.0.0.1, port: 0}]\n"
         "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n"
         "  servers: [{host: 127.0.0.1, port: " + std::to_string(upstreamPort) + "}]\n"
         "agents: [{user: \"1001\", password: demo-1001, dn: \"1001\"}]\n"
         "security:\n  allowed_origins: [\"https://app.example\"]\n" + security +
         "media: {workers: 1}\n";
}

// An agent's browser registers over WSS (stock JsSIP) and the agent's DN is registered at the upstream (SIPp as
// Genesys's registrar); when the browser unregisters, the DN is unregistered with Expires: 0.
TEST(DaemonProcess, BrowserRegistrationDrivesDnRegistrationUpstream) {
  test::TempDir dir;
  uint16_t upstreamPort = test::freePort();
  auto cfg = dir.write("rtcgate.yaml", agentDaemonConfig(upstreamPort));
  test::SippProcess registrar(dir.path(), test::scenario("unregister_sends_expires_zero.xml"),
                              {"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                               std::to_string(test::freeMediaPort()), "-m", "1", "-timeout", "20s", "-timeout_error",
                               "-bind_local"});
  ASSERT_TRUE(registrar.started()) << "sipp could not be started (is sip-tester installed?)";
  NotifySocket notify(dir.path() + "/notify.sock");
  Child d({RTCGATE_BINARY, "--config", cfg}, dir.path(), {notify.env()});
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  uint16_t wssPort = portFrom(ready, "wss");
  ASSERT_NE(wssPort, 0) << ready;

  test::TempDir jsDir;
  Child js({RTCGATE_NODE, RTCGATE_SOURCE_DIR "/tests/js/signaling/sip_clients.mjs", "jssip-register",
            std::to_string(wssPort)},
           jsDir.path());
  EXPECT_EQ(js.wait(30s), 0) << js.out() << js.err();
  EXPECT_NE(js.out().find("RESULT first=registered"), std::string::npos) << js.out();
  // SIPp saw REGISTER then REGISTER with Expires 0 for the DN, and exits 0 only if both came.
  waitForExit(registrar, 20s);
  EXPECT_TRUE(registrar.exited()) << registrar.output() << d.err();
  EXPECT_EQ(registrar.exitCode(), 0) << registrar.output() << d.err();
  EXPECT_NE(d.err().find("agent 1001 online: registering DN 1001 upstream"), std::string::npos) << d.err();
  EXPECT_NE(d.err().find("unregistering DN 1001 upstream"), std::string::npos) << d.err();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
}

// Issue 11: a dn_password changed by SIGHUP was never used: the DN's REGISTER challenges kept being answered with
// the start-up password. SIPp (the registrar) only starts after the reload and accepts the new password only.
TEST(DaemonProcess, ReloadedDnPasswordAnswersTheRegistrarsChallenge) {
  test::TempDir dir;
  uint16_t upstreamPort = test::freePort();
  auto config = [&](const std::string& dnPassword) {
    return "listeners:\n  admin: {address: 127.0.0.1, port: 0}\n"
           "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n"
           "  servers: [{host: 127.0.0.1, port: " + std::to_string(upstreamPort) + "}]\n"
           "  register_retry_min_ms: 200\n  register_retry_max_ms: 400\n"
           "agents: [{user: \"1001\", password: demo-1001, dn: \"1001\", dn_password: " + dnPassword +
           ", always_registered: true}]\n"
           "media: {workers: 1}\n";
  };
  auto cfg = dir.write("rtcgate.yaml", config("old-password"));
  NotifySocket notify(dir.path() + "/notify.sock");
  Child d({RTCGATE_BINARY, "--config", cfg}, dir.path(), {notify.env()});
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  uint16_t adminPort = adminPortFrom(ready);
  ASSERT_NE(adminPort, 0) << ready;
  dir.write("rtcgate.yaml", config("s3cret"));
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_FALSE(notify.waitFor("RELOADING=1").empty()) << d.err();
  ASSERT_FALSE(notify.waitFor("READY=1").empty()) << d.err();
  test::SippProcess registrar(dir.path(), test::scenario("register_digest_challenge_and_refresh.xml"),
                              {"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                               std::to_string(test::freeMediaPort()), "-m", "1", "-timeout", "30s", "-timeout_error",
                               "-bind_local"});
  ASSERT_TRUE(registrar.started()) << "sipp could not be started (is sip-tester installed?)";
  waitForExit(registrar, 30s);
  EXPECT_TRUE(registrar.exited()) << registrar.output() << d.err();
  EXPECT_EQ(registrar.exitCode(), 0) << registrar.output() << d.err();
  // The scenario's refresh REGISTER came after the daemon had its 200: a wrong password ends it at the 403 instead.
  std::string body;
  ASSERT_EQ(test::httpGet(adminPort, "/metrics", &body), 200);
  EXPECT_EQ(body.find("rtcgate_sip_register_ok_total 0\n"), std::string::npos) << body;
  EXPECT_NE(body.find("rtcgate_sip_register_ok_total "), std::string::npos) << body;
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
}

// Issue 11: lws 4.1 listened on every interface (*:8443, *:8089) whatever the configured address, so the plain-HTTP
// admin listener meant for loopback was reachable from the DMZ. 127.0.0.2 is another local address: a listener on
// 127.0.0.1 only must refuse it.
TEST(DaemonProcess, ListenersAcceptConnectionsOnlyOnTheirConfiguredAddress) {
  std::string config = std::string(kConfig) + "  allowed_origins: [\"https://app.example\"]\n"
                                              "agents: [{user: \"1001\", password: demo-1001, dn: \"1001\"}]\n";
  config.replace(config.find("listeners:\n"), 11, "listeners:\n  wss: [{address: 127.0.0.1, port: 0}]\n");
  RunningDaemon daemon(config);
  auto& [dir, notify, d] = daemon;
  (void)dir;
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  const uint16_t admin = adminPortFrom(ready), wss = portFrom(ready, "wss");
  ASSERT_NE(admin, 0) << ready;
  ASSERT_NE(wss, 0) << ready;
  EXPECT_TRUE(tcpConnects("127.0.0.1", admin));
  EXPECT_TRUE(tcpConnects("127.0.0.1", wss));
  EXPECT_FALSE(tcpConnects("127.0.0.2", admin)) << "the admin listener answers on an address it was not given";
  EXPECT_FALSE(tcpConnects("127.0.0.2", wss)) << "the WSS listener answers on an address it was not given";
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
}

// Issue 11: an empty file was a valid all-defaults config, and a SIGHUP onto it removed every agent.
TEST(DaemonProcess, AnEmptyConfigFileIsRefusedByCheckConfigAndByReload) {
  test::TempDir dir;
  auto empty = dir.write("empty.yaml", "# nothing here yet\n");
  Child check({RTCGATE_BINARY, "--check-config", empty}, dir.path());
  EXPECT_EQ(check.wait(5s), 2);
  EXPECT_NE(check.err().find("the file has no settings"), std::string::npos) << check.err();

  RunningDaemon daemon(kConfig);
  auto& [ddir, notify, d] = daemon;
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  ddir.write("rtcgate.yaml", "");
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_FALSE(notify.waitFor("RELOADING=1").empty());
  ASSERT_FALSE(notify.waitFor("READY=1").empty());
  EXPECT_TRUE(d.running());
  EXPECT_NE(d.err().find("reload refused"), std::string::npos) << d.err();
  std::string body;
  ASSERT_EQ(test::httpGet(adminPortFrom(ready), "/metrics", &body), 200);
  EXPECT_NE(body.find("rtcgate_config_reload_failures_total 1\n"), std::string::npos) << body;
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
}

// Issue 11 (reliability-security.md 5, item 16): an authenticated agent (stock JsSIP) dialled barred numbers,
// foreign hosts and URIs without a user part, and Genesys got the INVITE. Now each gets 403 with its rule, is
// counted, and never reaches SIPp (Genesys), which takes one call: the allowed one, and answers it 486.
TEST(DaemonProcess, AgentCallsOutsideTheDestinationPolicyAre403CountedAndNeverSentUpstream) {
  test::TempDir dir;
  const uint16_t upstreamPort = test::freePort();
  const std::string policy = "  destinations:\n    denied_prefixes: [\"+882\", \"00882\"]\n"
                             "    allowed_patterns: ['[0-9]{4}', '\\+[1-9][0-9]{6,14}']\n";
  auto cfg = dir.write("rtcgate.yaml", agentDaemonConfig(upstreamPort, policy));
  test::SippProcess genesys(dir.path(), test::scenario("session_uas_busy_486.xml"),
                            {"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                             std::to_string(test::freeMediaPort()), "-m", "1", "-timeout", "20s", "-timeout_error",
                             "-bind_local", "-trace_msg"});
  ASSERT_TRUE(genesys.started()) << "sipp could not be started (is sip-tester installed?)";
  NotifySocket notify(dir.path() + "/notify.sock");
  Child d({RTCGATE_BINARY, "--config", cfg}, dir.path(), {notify.env()});
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty()) << d.err();
  const uint16_t wssPort = portFrom(ready, "wss"), adminPort = adminPortFrom(ready);
  ASSERT_NE(wssPort, 0) << ready;

  test::TempDir jsDir;
  Child js({RTCGATE_NODE, RTCGATE_SOURCE_DIR "/tests/js/signaling/sip_clients.mjs", "jssip-dial",
            std::to_string(wssPort), "https://app.example", "sip:+88213000000@rtcgate.invalid",
            "sip:0088213000000@rtcgate.invalid", "sip:1000@evil.example", "nouser:rtcgate.invalid",
            "sip:123456@rtcgate.invalid", "sip:7000@rtcgate.invalid"},
           jsDir.path());
  EXPECT_EQ(js.wait(30s), 0) << js.out() << js.err();
  for (const char* line : {"dial:sip:+88213000000@rtcgate.invalid=403_Destination_Barred",
                           "dial:sip:0088213000000@rtcgate.invalid=403_Destination_Barred",
                           "dial:sip:1000@evil.example=403_Foreign_Domain",
                           "dial:nouser:rtcgate.invalid=403_No_User_Part",
                           "dial:sip:123456@rtcgate.invalid=403_Destination_Not_Allowed",
                           "dial:sip:7000@rtcgate.invalid=486_"})
    EXPECT_NE(js.out().find(std::string("RESULT ") + line), std::string::npos) << line << "\n" << js.out();

  waitForExit(genesys, 20s);
  EXPECT_EQ(genesys.exitCode(), 0) << genesys.output() << d.err();
  const auto invites = test::sippTracedRequestLines(dir.path(), "INVITE");
  ASSERT_EQ(invites.size(), 1u) << genesys.output();
  EXPECT_EQ(invites[0].rfind("INVITE sip:7000@", 0), 0u) << invites[0];
  std::string body;
  ASSERT_EQ(test::httpGet(adminPort, "/metrics", &body), 200);
  EXPECT_NE(body.find("\nrtcgate_calls_refused_destination_total 5\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nrtcgate_calls_total 1\n"), std::string::npos) << body;
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
  // One warning per refusal, each with its call id.
  std::istringstream log(d.err());
  int warnings = 0;
  for (std::string line; std::getline(log, line);) {
    if (line.find(" refused (403): ") == std::string::npos) continue;
    ++warnings;
    EXPECT_NE(line.find(" call="), std::string::npos) << line;
  }
  EXPECT_EQ(warnings, 5) << d.err();
  EXPECT_NE(d.err().find("to '+88213000000@rtcgate.invalid' refused (403): the number has a denied prefix"),
            std::string::npos) << d.err();
}

TEST(DaemonProcess, SigintExitsZero) {
  RunningDaemon daemon(kConfig);
  auto& [dir, notify, d] = daemon;
  ASSERT_FALSE(notify.waitFor("READY=1").empty()) << d.err();
  ASSERT_EQ(::kill(d.pid(), SIGINT), 0);
  EXPECT_EQ(d.wait(5s), 0) << d.err();
}

TEST(DaemonProcess, BusyAdminPortFailsStartWithAReason) {
  test::TempDir dir;
  auto cfg = dir.write("a.yaml", kConfig);
  NotifySocket notify(dir.path() + "/notify.sock");
  Child first({RTCGATE_BINARY, "--config", cfg}, dir.path(), {notify.env()});
  auto ready = notify.waitFor("READY=1");
  ASSERT_FALSE(ready.empty());
  test::TempDir dir2;
  auto cfg2 = dir2.write("b.yaml", "listeners:\n  admin: {address: 127.0.0.1, port: " +
                                       std::to_string(adminPortFrom(ready)) + "}\n");
  Child second({RTCGATE_BINARY, "--config", cfg2}, dir2.path());
  EXPECT_EQ(second.wait(10s), 1);
  EXPECT_NE(second.err().find("cannot start"), std::string::npos) << second.err();
}


// Every message up to and including the first that contains `last` (each awaited with waitFor's timeout).
std::vector<std::string> messagesUntil(NotifySocket& notify, const std::string& last, size_t max = 64) {
  std::vector<std::string> seen;
  while (seen.size() < max) {
    auto msg = notify.waitFor("=");
    if (msg.empty()) break;
    seen.push_back(msg);
    if (msg.find(last) != std::string::npos) break;
  }
  return seen;
}

// WatchdogSec= in config/rtcgate.service.in. WATCHDOG_USEC=2000000: a ping every second, so two pings arrive
// within one watchdog period of READY=1.
TEST(SystemdWatchdog, PingsAtHalfTheWatchdogPeriodAfterReady) {
  RunningDaemon daemon(kConfig, {"WATCHDOG_USEC=2000000"});
  auto& [dir, notify, d] = daemon;
  auto first = messagesUntil(notify, "READY=1");
  ASSERT_FALSE(first.empty()) << d.err();
  ASSERT_EQ(first.back().rfind("READY=1\n", 0), 0u) << d.err();
  ASSERT_FALSE(notify.waitFor("WATCHDOG=1", 3s).empty()) << d.err();
  ASSERT_FALSE(notify.waitFor("WATCHDOG=1", 3s).empty()) << d.err();
  EXPECT_NE(d.err().find("systemd watchdog: WATCHDOG=1 every 1000 ms"), std::string::npos) << d.err();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
}

// WATCHDOG_PID names another process (a child inherited systemd's variables): this process must not ping.
// A period of 20 ms would otherwise have sent pings before STOPPING=1; the start-up log line decides for sure.
TEST(SystemdWatchdog, StaysQuietWhenWatchdogPidIsAnotherProcess) {
  RunningDaemon daemon(kConfig, {"WATCHDOG_USEC=40000", "WATCHDOG_PID=" + std::to_string(::getpid())});
  auto& [dir, notify, d] = daemon;
  ASSERT_FALSE(notify.waitFor("READY=1").empty()) << d.err();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  auto rest = messagesUntil(notify, "STOPPING=1");
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back(), "STOPPING=1");
  EXPECT_EQ(std::count(rest.begin(), rest.end(), "WATCHDOG=1"), 0);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
  EXPECT_EQ(d.err().find("systemd watchdog:"), std::string::npos) << d.err();
}

}  // namespace
}  // namespace rtcgate

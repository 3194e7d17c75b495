// SPDX-License-Identifier: Apache-2.0
// Issue 13, agents at scale: the real daemon with an agents file (2,000 agents; reloaded on change while an agent
// is registered) and with JWT agent tokens (an agent with no entry at all, its DN registered at SIPp as Genesys),
// driven by stock JsSIP over Node (tests/js/signaling/sip_clients.mjs, scenario jssip-agent).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>

#include "component/daemon_harness.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate {
namespace {

using test::Child;

const std::string kSecret = "agent-token-secret-0123456789abcdef-0123456789";

// A daemon config with a WSS listener; `extra` at the top level (agents_file, agent_tokens, upstream servers).
std::string daemonConfig(const std::string& extra) {
  return "listeners:\n  admin: {address: 127.0.0.1, port: 0}\n"
         "  wss: [{address: 127.0.0.1, port: 0}]\n"
         "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n" + extra +
         "security:\n  allowed_origins: [\"https://app.example\"]\n  register_min_expires_s: 10\n"
         "  auth_failures_per_minute: 1000\n"
         "media: {workers: 1}\n";
}

// Runs a jssip-agent scenario to its end; returns stdout ("RESULT k=v" lines).
std::string jssipAgent(uint16_t wss, const std::vector<std::string>& args, const std::string& outDir) {
  std::vector<std::string> argv{RTCGATE_NODE, RTCGATE_SOURCE_DIR "/tests/js/signaling/sip_clients.mjs", "jssip-agent",
                                std::to_string(wss), "https://app.example"};
  argv.insert(argv.end(), args.begin(), args.end());
  Child js(argv, outDir);
  EXPECT_EQ(js.wait(std::chrono::seconds(30)), 0) << js.out() << js.err();
  return js.out();
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// Polls the daemon's stderr for a line; bounded.
bool waitForLog(test::Rtcgate& d, const std::string& what, std::chrono::seconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (has(d.err(), what)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a child's log file has nothing to wait on
  }
  return false;
}

// The agent_tokens secret, mode 0600 (the loader refuses one other users can read).
std::string writeSecret(const test::TempDir& dir, const std::string& secret) {
  const auto path = dir.write("token.secret", secret + "\n");
  EXPECT_EQ(::chmod(path.c_str(), 0600), 0);
  return path;
}

std::string metric(uint16_t admin, const std::string& name) {
  std::string body;
  if (test::httpGet(admin, "/metrics", &body) != 200) return "no /metrics";
  auto at = body.find("\n" + name + " ");
  if (at == std::string::npos) return "absent";
  auto end = body.find('\n', at + 1);
  return body.substr(at + name.size() + 2, end - at - name.size() - 2);
}

TEST(AgentsAtScale, TwoThousandFileAgentsLoadAndTheLastRegistersByDigest) {
  test::TempDir dir;
  std::string csv = "user,password,dn,always_registered\n";
  for (int i = 0; i < 2000; ++i) csv += "a" + std::to_string(i) + ",pw-" + std::to_string(i) + "," + std::to_string(70000 + i) + ",false\n";
  test::Rtcgate d(daemonConfig("agents_file: " + dir.write("agents.csv", csv) + "\n"));
  ASSERT_NE(d.wss, 0) << d.err();
  const uint16_t wss = d.wss;
  const uint16_t admin = d.admin;
  EXPECT_EQ(metric(admin, "rtcgate_agents_configured"), "2000");
  test::TempDir js;
  auto out = jssipAgent(wss, {"a1999", "password", "pw-1999"}, js.path());
  EXPECT_TRUE(has(out, "RESULT first=registered")) << out << d.err();
  out = jssipAgent(wss, {"a1998", "password", "pw-1999"}, js.path());
  EXPECT_TRUE(has(out, "RESULT first_status=401")) << out;
  EXPECT_FALSE(has(d.err(), "pw-19")) << "a password reached the log";
}

// The documented rule: a removed agent keeps its connection (and calls); its next REGISTER refresh is answered 401.
// A bad file changes nothing; an added agent can register at once. No SIGHUP: the file's change is enough.
TEST(AgentsAtScale, AgentsFileReloadsOnChangeWhileAnAgentIsRegistered) {
  test::TempDir dir;
  const auto file = dir.write("agents.csv", "user,password,dn\na1,pw-1,7001\na2,pw-2,7002\n");
  test::Rtcgate d(daemonConfig("agents_file: " + file + "\n"));
  ASSERT_NE(d.wss, 0) << d.err();
  const uint16_t wss = d.wss;
  const uint16_t admin = d.admin;

  test::TempDir jsDir;
  Child js({RTCGATE_NODE, RTCGATE_SOURCE_DIR "/tests/js/signaling/sip_clients.mjs", "jssip-agent", std::to_string(wss),
            "https://app.example", "a1", "password", "pw-1", "watch"},
           jsDir.path());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!has(js.out(), "RESULT first=") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(has(js.out(), "RESULT first=registered")) << js.out() << js.err();

  // A bad file: refused as a whole, every bad line named, the agents loaded before stay.
  dir.write("agents.csv", "user,password,dn\na2,pw-2,7002\na3,,7003\na3,pw-3,7002\n");
  ASSERT_TRUE(waitForLog(d, "agents file reload refused")) << d.err();
  EXPECT_TRUE(has(d.err(), "agents.csv:3: agent 'a3': exactly one of password and ha1 is required")) << d.err();
  EXPECT_TRUE(has(d.err(), "agents.csv:4: agent 'a3' is defined twice")) << d.err();
  EXPECT_EQ(metric(admin, "rtcgate_agents_file_reload_failures_total"), "1");
  EXPECT_EQ(metric(admin, "rtcgate_agents_configured"), "2");

  // a1 removed, a3 added.
  dir.write("agents.csv", "user,password,dn\na2,pw-2,7002\na3,pw-3,7003\n");
  ASSERT_TRUE(waitForLog(d, "agents file reloaded: 2 agents from the file")) << d.err();
  EXPECT_EQ(metric(admin, "rtcgate_agents_file_reloads_total"), "1");

  EXPECT_EQ(js.wait(std::chrono::seconds(20)), 0) << js.out() << js.err();
  EXPECT_TRUE(has(js.out(), "RESULT refresh=registrationFailed")) << js.out();
  EXPECT_TRUE(has(js.out(), "RESULT refresh_status=401")) << js.out();
  EXPECT_TRUE(has(js.out(), "RESULT connected_after_refresh=1")) << js.out();

  auto out = jssipAgent(wss, {"a3", "password", "pw-3"}, jsDir.path());
  EXPECT_TRUE(has(out, "RESULT first=registered")) << out << d.err();
}

std::string issueToken(const std::string& cfg, const std::string& dirPath, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{RTCGATE_BINARY, "token", "--config", cfg};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Child t(argv, dirPath);
  EXPECT_EQ(t.wait(std::chrono::seconds(10)), 0) << t.err();
  auto out = t.out();
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// An agent with no entry anywhere registers with a JWT (JsSIP's authorization_jwt); its DN (from the token) is
// registered at the upstream registrar (SIPp) with the section's dn_password, like a listed agent's. The section
// names its audience: `rtcgate token` puts the first value in aud, and a token another cluster sharing the secret
// minted (its own audience) is refused.
TEST(AgentsAtScale, JwtAgentWithNoEntryRegistersAndItsDnIsRegisteredUpstream) {
  test::TempDir dir;
  const auto secretFile = writeSecret(dir, kSecret);
  const uint16_t upstreamPort = test::freePort();
  const auto yaml = daemonConfig("  servers: [{host: 127.0.0.1, port: " + std::to_string(upstreamPort) + "}]\n"
                                 "  register_retry_min_ms: 200\n  register_retry_max_ms: 400\n"
                                 "agent_tokens: {secret_file: " + secretFile + ", issuer: crm.example, "
                                 "audience: [\"wss://gw.example\", rtcgate], max_lifetime_s: 3600, "
                                 "dn_password: s3cret}\n");
  const auto cfg = dir.write("rtcgate.yaml", yaml);  // for `rtcgate token`
  const auto otherCluster = dir.write("other.yaml", "agent_tokens: {secret_file: " + secretFile +
                                                        ", issuer: crm.example, audience: other-cluster}\n");
  test::SippProcess registrar(dir.path(), test::scenario("register_digest_challenge_and_refresh.xml"),
                              {"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                               std::to_string(test::freeMediaPort()), "-m", "1", "-timeout", "30s", "-timeout_error",
                               "-bind_local"});
  ASSERT_TRUE(registrar.started()) << "sipp could not be started (is sip-tester installed?)";
  test::Rtcgate d(yaml);
  ASSERT_NE(d.wss, 0) << d.err();
  const uint16_t wss = d.wss;
  const uint16_t admin = d.admin;
  test::TempDir jsDir;

  // Refused: another secret's signature, and a token for another user than the From.
  const std::string forged =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhNTAwMCIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0MTAwMDAwMDAwfQ."
      "c2lnbmF0dXJlLW9mLWFub3RoZXItc2VjcmV0LTAxMjM0NTY3";
  auto out = jssipAgent(wss, {"a5000", "jwt", forged}, jsDir.path());
  EXPECT_TRUE(has(out, "RESULT first_status=401")) << out;
  auto other = issueToken(cfg, dir.path(), {"--user", "a5001", "--ttl", "600"});
  out = jssipAgent(wss, {"a5000", "jwt", other}, jsDir.path());
  EXPECT_TRUE(has(out, "RESULT first_status=401")) << out;
  auto elsewhere = issueToken(otherCluster, dir.path(), {"--user", "a5000", "--ttl", "600"});
  out = jssipAgent(wss, {"a5000", "jwt", elsewhere}, jsDir.path());
  EXPECT_TRUE(has(out, "RESULT first_status=401")) << out;
  EXPECT_EQ(metric(admin, "rtcgate_agent_token_rejected_total{reason=\"bad_signature\"}"), "1");
  EXPECT_EQ(metric(admin, "rtcgate_agent_token_rejected_total{reason=\"from_mismatch\"}"), "1");
  EXPECT_EQ(metric(admin, "rtcgate_agent_token_rejected_total{reason=\"bad_audience\"}"), "1");
  EXPECT_FALSE(has(d.err(), "audience is not set")) << d.err();
  EXPECT_EQ(metric(admin, "rtcgate_agent_token_rejected_total{reason=\"expired\"}"), "0");  // every reason rendered

  auto token = issueToken(cfg, dir.path(), {"--user", "a5000", "--dn", "1001", "--ttl", "600"});
  out = jssipAgent(wss, {"a5000", "jwt", token}, jsDir.path());
  EXPECT_TRUE(has(out, "RESULT first=registered")) << out << d.err();
  EXPECT_TRUE(has(d.err(), "agent a5000 online: registering DN 1001 upstream")) << d.err();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!registrar.exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(registrar.exited()) << registrar.output() << d.err();
  EXPECT_EQ(registrar.exitCode(), 0) << registrar.output() << d.err();
  const std::string log = d.err();
  EXPECT_FALSE(has(log, token.substr(token.rfind('.')))) << "a token reached the log";
  EXPECT_FALSE(has(log, "s3cret"));
}

// A JWT agent in no list calls out: its DN (from the token, registered upstream at its REGISTER) places the call;
// SIPp as Genesys takes the DN's REGISTER and refuses the INVITE 486.
TEST(AgentsAtScale, JwtAgentCallsOutThroughTheDnOfItsToken) {
  test::TempDir dir;
  const auto secretFile = writeSecret(dir, kSecret);
  const uint16_t upstreamPort = test::freePort();
  const auto yaml = daemonConfig("  servers: [{host: 127.0.0.1, port: " + std::to_string(upstreamPort) + "}]\n"
                                 "agent_tokens: {secret_file: " + secretFile + "}\n");
  const auto cfg = dir.write("rtcgate.yaml", yaml);
  test::SippProcess genesys(dir.path(), test::scenario("register_then_invite_486.xml"),
                            {"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                             std::to_string(test::freeMediaPort()), "-m", "2", "-timeout", "20s", "-timeout_error",
                             "-bind_local", "-trace_msg"});
  ASSERT_TRUE(genesys.started()) << "sipp could not be started (is sip-tester installed?)";
  test::Rtcgate d(yaml);
  ASSERT_NE(d.wss, 0) << d.err();
  // No audience: tokens without aud (as `rtcgate token` then issues) are taken, and the start says how to set one.
  EXPECT_TRUE(has(d.err(), "agent_tokens: audience is not set")) << d.err();
  test::TempDir jsDir;
  auto token = issueToken(cfg, dir.path(), {"--user", "a6000", "--dn", "8600", "--ttl", "600"});
  auto out = jssipAgent(d.wss, {"a6000", "jwt", token, "dial:sip:7000@rtcgate.invalid"}, jsDir.path());
  EXPECT_TRUE(has(out, "RESULT first=registered")) << out << d.err();
  EXPECT_TRUE(has(out, "RESULT dial=486")) << out << d.err();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!genesys.exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(genesys.exitCode(), 0) << genesys.output() << d.err();
  const auto invites = test::sippTracedRequestLines(dir.path(), "INVITE");
  ASSERT_EQ(invites.size(), 1u) << genesys.output();
  EXPECT_EQ(invites[0].rfind("INVITE sip:7000@", 0), 0u) << invites[0];
  const auto registers = test::sippTracedRequestLines(dir.path(), "REGISTER");
  ASSERT_GE(registers.size(), 1u) << genesys.output();
}

}  // namespace
}  // namespace rtcgate

// SPDX-License-Identifier: Apache-2.0
// GET /rtcgate/ice-servers on the WSS listener (127.0.0.1:0, real TLS) against Node's HTTPS client: digest like the
// agent's REGISTER, Origin like the WebSocket handshake, TURN REST credentials checked here with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <string>

#include "node_runner.h"
#include "rtcgate/signaling/wss_server.h"

namespace rtcgate::signaling {
namespace {

constexpr const char* kOrigin = "https://app.example";
constexpr const char* kTurnSecret = "browser-turn-secret-0123";

config::Config endpointConfig(uint32_t authFailuresPerMinute) {
  config::Config c;
  c.listeners.wss.push_back(config::WssListener{{"127.0.0.1", 0}, "", ""});
  config::Agent a;
  a.user = "1001";
  a.password = Secret("demo-1001");
  a.dn = "5001";
  c.agents = {a};
  c.security.allowedOrigins = {kOrigin};
  c.security.authFailuresPerMinute = authFailuresPerMinute;
  c.browser.iceServers = {"stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp", "turns:turn.example:5349"};
  c.browser.turnSharedSecret = Secret(kTurnSecret);
  c.browser.credentialTtlS = 600;
  c.browser.gatheringTimeoutMs = 1500;
  return c;
}

// draft-uberti-behave-turn-rest-00 2.2, computed independently of rtcgate's turnCredentials().
std::string restPassword(const std::string& secret, const std::string& username) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(username.data()), username.size(), mac, &len);
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, mac, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

struct Served {
  explicit Served(uint32_t authFailuresPerMinute) : cfg(endpointConfig(authFailuresPerMinute)) {
    loop.adoptCurrentThread();
    server = std::make_unique<WssServer>(loop, cfg, metrics);
  }
  test::NodeRun run(const std::string& scenario) {
    return test::runNode(loop, "signaling/ice_servers_client.mjs", {scenario, std::to_string(server->port()), kOrigin});
  }
  EventLoop loop{"control"};
  config::Config cfg;
  Metrics metrics;
  std::unique_ptr<WssServer> server;
};

TEST(IceServersEndpoint, DigestGivesServersAndRestCredentialsOthersAreRefused) {
  Served s(1000);
  auto run = s.run("basic");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  auto& r = run.results;
  EXPECT_EQ(r["noauth_status"], "401") << run.output;
  EXPECT_EQ(r["noauth_challenges"], "2");
  EXPECT_EQ(r["noauth_last_is_md5"], "1");
  EXPECT_EQ(r["noauth_acao"], kOrigin);
  EXPECT_EQ(r["noauth_expose"], "WWW-Authenticate");

  EXPECT_EQ(r["ok_status"], "200") << run.output;
  EXPECT_EQ(r["ok_type"], "application/json");
  EXPECT_EQ(r["ok_cache"], "no-store");
  EXPECT_EQ(r["ok_servers"], "2");
  EXPECT_EQ(r["ok_stun_urls"], "stun:127.0.0.1:3478");
  EXPECT_EQ(r["ok_stun_has_username"], "0");
  EXPECT_EQ(r["ok_turn_urls"], "turn:127.0.0.1:3478?transport=udp turns:turn.example:5349");
  EXPECT_EQ(r["ok_ttl"], "600");
  EXPECT_EQ(r["ok_gathering"], "1500");
  EXPECT_EQ(r["ok_body_has_secret"], "0");
  // "<expiry>:<agent>", expiry in the future and at most ttl ahead of the client's clock (same host).
  const std::string user = r["ok_turn_username"];
  auto colon = user.find(':');
  ASSERT_NE(colon, std::string::npos) << user;
  EXPECT_EQ(user.substr(colon + 1), "1001");
  const long long expiry = std::stoll(user.substr(0, colon));
  const long long clientNow = std::stoll(r["ok_now"]);
  EXPECT_GT(expiry, clientNow);
  EXPECT_LE(expiry, clientNow + 600 + 1);
  EXPECT_GE(expiry, clientNow + 600 - 5);
  EXPECT_EQ(r["ok_turn_credential"], restPassword(kTurnSecret, user));

  EXPECT_EQ(r["replay_status"], "401");  // the same nonce-count again
  EXPECT_EQ(r["wrong_password_status"], "401");
  EXPECT_EQ(r["wrong_origin_status"], "403");
  EXPECT_EQ(r["wrong_origin_acao"], "");
  EXPECT_EQ(r["no_origin_status"], "403");
  EXPECT_EQ(r["preflight_status"], "204");
  EXPECT_EQ(r["preflight_headers"], "Authorization");
  EXPECT_EQ(r["preflight_acao"], kOrigin);
  EXPECT_EQ(r["other_path_status"], "404");

  EXPECT_EQ(s.metrics.counter("rtcgate_ice_servers_served_total", "").load(), 1u);
  // 401 bare, replay, wrong password, two 403s.
  EXPECT_EQ(s.metrics.counter("rtcgate_ice_servers_refused_total", "").load(), 5u);
}

TEST(IceServersEndpoint, WrongPasswordsHitTheAgentFailureLimiter) {
  Served s(2);
  auto run = s.run("ratelimit");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.results["statuses"], "401,401,429,429") << run.output;
}

}  // namespace
}  // namespace rtcgate::signaling

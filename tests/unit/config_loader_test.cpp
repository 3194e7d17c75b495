// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "rtcgate/config/config_loader.h"
#include "rtcgate/crypto/self_signed_certificate.h"
#include "support/test_support.h"

namespace rtcgate::config {
namespace {

// Expect `yaml` to be refused, with the error at line:column naming `key` and containing `words`.
void expectError(const std::string& yaml, int line, int column, const std::string& key, const std::string& words) {
  try {
    loadFromString(yaml, "test.yaml");
    ADD_FAILURE() << "accepted:\n" << yaml;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_EQ(e.column(), column) << e.what();
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_NE(e.message().find(words), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test.yaml:" + std::to_string(line) + ":" + std::to_string(column)),
              std::string::npos)
        << e.what();
  }
}

crypto::KeyAndCertificate certificate(std::chrono::seconds validFor, std::chrono::seconds backdate) {
  crypto::SelfSignedRequest r;
  r.commonName = "config test";
  r.validFor = validFor;
  r.backdate = backdate;
  return crypto::generateSelfSigned(r);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ConfigLoader, EmptyFileIsRefusedAndAnEmptyMapIsAllDefaults) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "---\n"}) {
    try {
      loadFromString(text, "empty.yaml");
      ADD_FAILURE() << "accepted: '" << text << "'";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("empty.yaml: the file has no settings"), std::string::npos) << e.what();
    }
  }
  auto c = loadFromString("{}", "defaults");
  EXPECT_EQ(c.media.rtpPortMin, 20000);
  EXPECT_EQ(c.ice.gatherDeadlineMs, 300u);
  EXPECT_FALSE(c.ice.relayOnly);
  EXPECT_TRUE(c.listeners.admin.enabled);
  EXPECT_EQ(c.codecs.browser, (std::vector<std::string>{"opus", "pcmu", "pcma"}));
  // The default candidate policy never offers container bridges, veth pairs or loopback.
  // Issue 12: those denials are built in (kBuiltinDeniedInterfaces); the user's list only adds to them.
  EXPECT_TRUE(c.ice.candidates.denyInterfaces.empty());
  EXPECT_TRUE(c.ice.candidates.liftBuiltinDenials.empty());
  EXPECT_EQ(config::kBuiltinDeniedInterfaces,
            (std::vector<std::string>{"docker*", "br-*", "veth*", "virbr*", "cni*", "flannel*", "lo"}));
  EXPECT_FALSE(c.ice.candidates.allowLoopback);
  EXPECT_EQ(c.upstream.sessionTimer.minSeS, 90u);  // RFC 4028's floor, not sofia-sip's 120
  EXPECT_EQ(c.upstream.sessionTimer.expiresS, 1800u);
  EXPECT_FALSE(c.upstream.offerlessInviteToBrowser);
}

TEST(ConfigLoader, ShippedFilesAreValid) {
  auto sample = loadFromFile(RTCGATE_SOURCE_DIR "/config/rtcgate.yaml");
  EXPECT_FALSE(sample.agents.empty());
  auto demo = loadFromString(embeddedDefaultYaml(), "embedded");
  EXPECT_EQ(demo.listeners.admin.bind.address, "127.0.0.1");
  EXPECT_EQ(readFile(RTCGATE_SOURCE_DIR "/config/rtcgate.default.yaml"), embeddedDefaultYaml());
}

TEST(ConfigLoader, ReadsEverySection) {
  test::TempDir dir;
  auto pem = crypto::toPem(certificate(std::chrono::days(30), std::chrono::days(1)));
  const auto certFile = dir.write("c.pem", pem.certificate);
  const auto keyFile = dir.write("k.pem", pem.privateKey);
  auto c = loadFromString(R"(
listeners:
  wss:
    - {address: 127.0.0.1, port: 0, tls_cert_file: )" + certFile + ", tls_key_file: " + keyFile + R"(}
  admin: {enabled: false, address: 127.0.0.1, port: 9000}
upstream:
  sip_bind: {address: 192.0.2.10, port: 5060}
  transports: [udp, tcp]
  servers: [{host: 192.0.2.20, port: 5060, transport: tcp}]
  allowed_source_cidrs: [192.0.2.0/24]
  register_expires_s: 600
  options_ping_interval_ms: 5000
  session_timer: {min_se_s: 120, expires_s: 600}
  offerless_invite_to_browser: true
agents:
  - {user: alice, ha1: 0123456789abcdef0123456789abcdef, dn: "7001", dn_password: s3cret, always_registered: true}
media: {workers: 2, rtp_address: 192.0.2.10, rtp_port_min: 40000, rtp_port_max: 40100, srtp_profiles: [AEAD_AES_128_GCM]}
ice:
  stun_servers: ["198.51.100.1:3478", "[2001:db8::1]:19302"]
  turn_servers:
    - {host: 198.51.100.2, transport: tcp, port: 3478, shared_secret: abc}
  candidates:
    allow_interfaces: [eth1]
    deny_cidrs: [172.16.0.0/12]
    nat_1to1: [{local: 10.0.0.5, advertised: 203.0.113.7}]
  gather_deadline_ms: 250
  relay_only: true
codecs: {browser: [pcmu, opus], upstream: [pcma], passthrough: false, opus: {complexity: 3, fec: false}}
security: {allowed_origins: ["https://agents.example"], max_calls: 10, max_calls_per_agent: 2}
calls: {browser_reconnect_grace_ms: 0}
logging: {level: debug, components: {sip: trace, nice: warn}, format: json}
metrics: {enabled: false}
)",
                          "full");
  EXPECT_EQ(c.listeners.wss.at(0).tlsKeyFile, keyFile);
  EXPECT_FALSE(c.listeners.admin.enabled);
  EXPECT_EQ(c.upstream.servers.at(0).transport, SipTransport::Tcp);
  EXPECT_EQ(c.upstream.domain, "192.0.2.20");
  EXPECT_EQ(c.upstream.sessionTimer.minSeS, 120u);
  EXPECT_EQ(c.upstream.sessionTimer.expiresS, 600u);
  EXPECT_TRUE(c.upstream.offerlessInviteToBrowser);
  EXPECT_EQ(c.agents.at(0).dnPassword.reveal(), "s3cret");
  EXPECT_EQ(c.ice.stunServers.at(1).address, "2001:db8::1");
  EXPECT_EQ(c.ice.stunServers.at(1).port, 19302);
  EXPECT_EQ(c.ice.turnServers.at(0).transport, TurnTransport::Tcp);
  EXPECT_TRUE(c.ice.relayOnly);
  EXPECT_EQ(c.ice.candidates.nat1to1.at(0).advertised, "203.0.113.7");
  EXPECT_EQ(c.codecs.opus.complexity, 3);
  EXPECT_EQ(c.security.maxCallsPerAgent, 2u);
  EXPECT_EQ(c.logging.settings.componentLevels.at(log::Component::Sip), spdlog::level::trace);
  EXPECT_EQ(c.logging.settings.format, "json");
  EXPECT_EQ(c.calls.browserReconnectGraceMs, 0u);
  EXPECT_EQ(Config{}.calls.browserReconnectGraceMs, 10000u);
}

TEST(ConfigLoader, WssWebRoot) {
  auto c = loadFromString("listeners:\n  wss:\n    - {address: 127.0.0.1, port: 0, web_root: /srv/softphone}\n", "t");
  EXPECT_EQ(c.listeners.wss.at(0).webRoot, "/srv/softphone");
  c = loadFromString("listeners:\n  wss:\n    - {address: 127.0.0.1, port: 0}\n", "t");
  EXPECT_EQ(c.listeners.wss.at(0).webRoot, "");
  EXPECT_EQ(loadFromString(embeddedDefaultYaml(), "embedded").listeners.wss.at(0).webRoot, "build/softphone");
  expectError("listeners:\n  wss:\n    - address: 127.0.0.1\n      port: 0\n      web_root: /\n", 5, 17,
              "listeners.wss[0].web_root", "whole file system");
  expectError("listeners:\n  wss:\n    - address: 127.0.0.1\n      port: 0\n      web_root: \"a\\0b\"\n", 5, 17,
              "listeners.wss[0].web_root", "NUL");
  expectError("listeners:\n  wss:\n    - address: 127.0.0.1\n      port: 0\n      web_root: [a]\n", 5, 17,
              "listeners.wss[0].web_root", "");
}

TEST(ConfigLoader, WssProxyProtocol) {
  auto c = loadFromString(
      "listeners:\n  wss:\n    - address: 127.0.0.1\n      port: 0\n      proxy_protocol: {trusted: [10.0.0.5, "
      "\"2001:db8::/64\"], required: false}\n",
      "t");
  EXPECT_EQ(c.listeners.wss.at(0).proxyProtocol.trusted, (std::vector<std::string>{"10.0.0.5", "2001:db8::/64"}));
  EXPECT_FALSE(c.listeners.wss.at(0).proxyProtocol.required);
  c = loadFromString("listeners:\n  wss:\n    - {address: 127.0.0.1, port: 0}\n", "t");
  EXPECT_TRUE(c.listeners.wss.at(0).proxyProtocol.trusted.empty());
  EXPECT_TRUE(c.listeners.wss.at(0).proxyProtocol.required);
  expectError("listeners:\n  wss:\n    - address: 127.0.0.1\n      port: 0\n      proxy_protocol: {trusted: [haproxy]}\n",
              5, 34, "listeners.wss[0].proxy_protocol.trusted[0]", "not an address or CIDR");
  expectError("listeners:\n  wss:\n    - address: 127.0.0.1\n      port: 0\n      proxy_protocol: {trusted: [10.0.0.0/33]}\n",
              5, 34, "listeners.wss[0].proxy_protocol.trusted[0]", "prefix length");
  expectError("listeners:\n  wss:\n    - address: 127.0.0.1\n      port: 0\n      proxy_protocol: {version: 2}\n", 5,
              24, "listeners.wss[0].proxy_protocol.version", "");
}

TEST(ConfigLoader, SyntaxErrorHasPosition) {
  expectError("media:\n  workers: [1, 2\n", 3, 1, "(syntax)", "");
}

TEST(ConfigLoader, UnknownKeyIsRejectedWhereItStands) {
  expectError("media:\n  rtp_port_min: 20000\n  rtp_prot_max: 20010\n", 3, 3, "media.rtp_prot_max",
              "unknown key 'rtp_prot_max'");
  expectError("lisenters: {}\n", 1, 1, "lisenters", "unknown key");
}

TEST(ConfigLoader, DuplicateKeyIsRejected) {
  expectError("media:\n  workers: 1\n  workers: 2\n", 3, 3, "media.workers", "duplicate key");
}

TEST(ConfigLoader, WrongTypesAreRejected) {
  expectError("media:\n  rtp_port_min: twenty\n", 2, 17, "media.rtp_port_min", "not a whole number");
  expectError("codecs:\n  passthrough: yes please\n", 2, 16, "codecs.passthrough", "true or false");
  expectError("agents: {user: a}\n", 1, 9, "agents", "must be a list");
}

TEST(ConfigLoader, OutOfRangeValuesAreRejected) {
  expectError("media:\n  rtp_port_max: 70000\n", 2, 17, "media.rtp_port_max", "out of range");
  expectError("codecs:\n  opus: {complexity: 11}\n", 2, 22, "codecs.opus.complexity", "out of range 0..10");
  expectError("media:\n  rtp_port_min: 30000\n  rtp_port_max: 20000\n", 2, 3, "media", "must not exceed");
  expectError("calls:\n  browser_reconnect_grace_ms: 600000\n", 2, 31, "calls.browser_reconnect_grace_ms",
              "out of range 0..120000");
  expectError("upstream:\n  session_timer: {min_se_s: 60}\n", 2, 29, "upstream.session_timer.min_se_s",
              "out of range 90..86400");
  expectError("upstream:\n  session_timer: {min_se_s: 120, expires_s: 100}\n", 2, 45, "upstream.session_timer.expires_s",
              "must not be below min_se_s");
}

TEST(ConfigLoader, BadAddressesAreRejected) {
  expectError("upstream:\n  servers:\n    - host: sip.example.com\n", 3, 13, "upstream.servers[0].host",
              "host names are not accepted");
  expectError("ice:\n  candidates:\n    deny_cidrs: [10.0.0.0/33]\n", 3, 18, "ice.candidates.deny_cidrs[0]",
              "invalid prefix length");
  expectError("ice:\n  stun_servers: [\"2001:db8::1:3478\"]\n", 2, 18, "ice.stun_servers[0]", "[addr]:port");
}

// Issue 12: deny_interfaces adds to the built-in denials (it no longer replaces them); lift_builtin_denials takes
// exact interface names only.
TEST(ConfigLoader, CandidateDenyListAddsAndLiftsAreExactNames) {
  auto c = loadFromString("ice:\n  candidates:\n    deny_interfaces: [eth1]\n    lift_builtin_denials: [docker0, br-5f2a]\n",
                          "lift");
  EXPECT_EQ(c.ice.candidates.denyInterfaces, (std::vector<std::string>{"eth1"}));
  EXPECT_EQ(c.ice.candidates.liftBuiltinDenials, (std::vector<std::string>{"docker0", "br-5f2a"}));
  EXPECT_EQ(config::kBuiltinDeniedInterfaces.size(), 7u);  // untouched by the user's list
  expectError("ice:\n  candidates:\n    lift_builtin_denials: [\"docker*\"]\n", 3, 28,
              "ice.candidates.lift_builtin_denials[0]", "exact names only");
  expectError("ice:\n  candidates:\n    lift_builtin_denials: [lo]\n", 3, 28, "ice.candidates.lift_builtin_denials[0]",
              "allow_loopback");
  expectError("ice:\n  candidates:\n    lift_builtin_denials: [abcdefghijklmnopq]\n", 3, 28,
              "ice.candidates.lift_builtin_denials[0]", "not an interface name");
}

// Issue 11: upstream.media_allowed_cidrs (where Genesys's SDP may send our RTP); empty by default (the policy's
// own default: private networks, loopback only with a loopback media.rtp_address).
TEST(ConfigLoader, MediaAllowedCidrs) {
  EXPECT_TRUE(loadFromString("{}", "test.yaml").upstream.mediaAllowedCidrs.empty());
  auto c = loadFromString("upstream:\n  media_allowed_cidrs: [10.20.0.0/16, \"2001:db8::/32\", 192.0.2.7]\n",
                          "test.yaml");
  EXPECT_EQ(c.upstream.mediaAllowedCidrs, (std::vector<std::string>{"10.20.0.0/16", "2001:db8::/32", "192.0.2.7"}));
  expectError("upstream:\n  media_allowed_cidrs: [10.0.0.0/8, 10.0.0.0/40]\n", 2, 37, "upstream.media_allowed_cidrs[1]",
              "invalid prefix length");
  expectError("upstream:\n  media_allowed_cidrs: [genesys.example/24]\n", 2, 25, "upstream.media_allowed_cidrs[0]",
              "not an address or CIDR");
  expectError("upstream:\n  media_allowed_cidrs: 10.0.0.0/8\n", 2, 24, "upstream.media_allowed_cidrs", "must be a list");
}

TEST(ConfigLoader, MissingAndInconsistentKeysAreRejected) {
  expectError("agents:\n  - user: a\n    dn: \"1\"\n", 2, 5, "agents[0]", "exactly one of password and ha1");
  expectError("agents:\n  - password: x\n    dn: \"1\"\n", 2, 5, "agents[0]", "missing required key 'user'");
  expectError("agents:\n  - {user: a, password: x, dn: \"1\"}\n  - {user: b, password: y, dn: \"1\"}\n", 3, 32,
              "agents[1].dn", "belongs to two agents");
  expectError("ice:\n  turn_servers:\n    - {host: 192.0.2.1, username: u, password: p, shared_secret: s}\n", 3, 7,
              "ice.turn_servers[0]", "not both");
  expectError("ice:\n  turn_servers: [{host: 192.0.2.1, transport: tls, shared_secret: s}]\n", 2, 47,
              "ice.turn_servers[0].transport", "not supported");
  expectError("ice:\n  stun_servers: [\"192.0.2.1:3478\"]\n  relay_only: true\n", 3, 15, "ice.relay_only",
              "needs a udp or tcp entry in ice.turn_servers");
  expectError("logging:\n  components: {sipp: debug}\n", 2, 16, "logging.components.sipp", "unknown component");
  // The older agent tokens are gone: the key is refused whatever its value, naming what replaces it.
  expectError("security:\n  token_secret: 0123456789abcdef0123456789abcdef\n", 2, 17, "security.token_secret",
              "was removed");
  expectError("security:\n  token_secret: 0123456789abcdef0123456789abcdef\n", 2, 17, "security.token_secret",
              "agent_tokens.secret_file");
}

TEST(ConfigLoader, RateLimitsDefaultsOverridesAndErrors) {
  auto d = loadFromString("{}\n", "d");
  EXPECT_EQ(d.security.rateLimits.connectionsPerIp, (Rate{10, 300}));
  EXPECT_EQ(d.security.rateLimits.registersPerIp, (Rate{20, 600}));
  EXPECT_EQ(d.security.rateLimits.invitesPerIp, (Rate{10, 100}));
  EXPECT_EQ(d.security.rateLimits.upstreamInvites, (Rate{20, 200}));
  EXPECT_EQ(d.media.packetRate, (Rate{150, 150}));
  EXPECT_EQ(loadFromString("media: {packet_rate: {per_s: 0}}\n", "m").media.packetRate.perSecond, 0u);
  EXPECT_EQ(loadFromString("media: {packet_rate: {per_s: 300, burst: 400}}\n", "m").media.packetRate, (Rate{300, 400}));
  expectError("media:\n  packet_rate: {per_s: 300, burst: 100}\n", 2, 16, "media.packet_rate",
              "burst must be at least per_s");
  auto c = loadFromString(R"(security:
  rate_limits:
    connections_per_ip: {per_s: 5, burst: 50}
    connections: {per_s: 0}
    registers: {burst: 5000}
    upstream_invites: {per_s: 100, burst: 100}
)",
                          "r");
  EXPECT_EQ(c.security.rateLimits.connectionsPerIp, (Rate{5, 50}));
  EXPECT_EQ(c.security.rateLimits.connections.perSecond, 0u);  // off
  EXPECT_EQ(c.security.rateLimits.registers, (Rate{200, 5000}));
  EXPECT_EQ(c.security.rateLimits.upstreamInvites, (Rate{100, 100}));
  EXPECT_EQ(c.security.rateLimits.invites, d.security.rateLimits.invites);
  expectError("security:\n  rate_limits:\n    invites: {per_s: 50, burst: 10}\n", 3, 14,
              "security.rate_limits.invites", "burst must be at least per_s");
  expectError("security:\n  rate_limits:\n    invites: {burst: 0}\n", 3, 22, "security.rate_limits.invites.burst",
              "out of range");
  expectError("security:\n  rate_limits:\n    invite: {per_s: 1}\n", 3, 5, "security.rate_limits.invite",
              "unknown key");
  expectError("security:\n  rate_limits:\n    registers_per_ip: {per_s: -1}\n", 3, 31,
              "security.rate_limits.registers_per_ip.per_s", "not a whole number");
}

TEST(ConfigLoader, MaxPendingMediaSessionsDefaultsToHalfOfMaxCallsAndIsBounded) {
  EXPECT_EQ(loadFromString("{}\n", "d").security.pendingCap(), 100u);
  EXPECT_EQ(loadFromString("security: {max_calls: 7}\n", "d").security.pendingCap(), 4u);
  EXPECT_EQ(loadFromString("security: {max_calls: 1}\n", "d").security.pendingCap(), 1u);
  auto c = loadFromString("security: {max_calls: 50, max_pending_media_sessions: 3}\n", "p");
  EXPECT_EQ(c.security.maxPendingMediaSessions, 3u);
  EXPECT_EQ(c.security.pendingCap(), 3u);
  expectError("security:\n  max_calls: 10\n  max_pending_media_sessions: 11\n", 3, 31,
              "security.max_pending_media_sessions", "must not exceed max_calls");
  expectError("security:\n  max_pending_media_sessions: 0\n", 2, 31, "security.max_pending_media_sessions",
              "out of range");
}

TEST(ConfigLoader, ReadyMaxFailedDnPercentDefaultsTo50AndIsAPercentage) {
  EXPECT_EQ(loadFromString("{}\n", "d").upstream.readyMaxFailedDnPercent, 50u);
  EXPECT_EQ(loadFromString("upstream: {ready_max_failed_dn_percent: 0}\n", "d").upstream.readyMaxFailedDnPercent, 0u);
  EXPECT_EQ(loadFromString("upstream: {ready_max_failed_dn_percent: 100}\n", "d").upstream.readyMaxFailedDnPercent,
            100u);
  expectError("upstream:\n  ready_max_failed_dn_percent: 101\n", 2, 32, "upstream.ready_max_failed_dn_percent",
              "out of range 0..100");
}

TEST(ConfigLoader, DestinationPolicyIsReadAndDefaultsToDialStringsOnOwnHosts) {
  auto d = loadFromString("{}", "defaults").security.destinations;
  EXPECT_TRUE(d.ownDomainOnly);
  EXPECT_EQ(d.ownDomains, (std::vector<std::string>{"rtcgate.invalid"}));  // what JsSIP pages use in the demo
  EXPECT_TRUE(d.deniedPrefixes.empty());
  EXPECT_TRUE(d.allowedPatterns.empty());
  d = loadFromString(R"(
security:
  destinations:
    own_domain_only: false
    own_domains: [GW.Example.com, "[2001:db8::1]", 198.51.100.7]
    denied_prefixes: ["+882", "00882", "+1900"]
    allowed_patterns: ['[1-9][0-9]{3}', '\+49[0-9]{6,12}']
)", "t").security.destinations;
  EXPECT_FALSE(d.ownDomainOnly);
  EXPECT_EQ(d.ownDomains, (std::vector<std::string>{"gw.example.com", "2001:db8::1", "198.51.100.7"}));
  EXPECT_EQ(d.deniedPrefixes, (std::vector<std::string>{"+882", "00882", "+1900"}));
  ASSERT_EQ(d.allowedPatterns.size(), 2u);
  EXPECT_EQ(d.allowedPatterns[1].pattern(), "\\+49[0-9]{6,12}");
  EXPECT_TRUE(d.allowedPatterns[1].matches("+4930123456"));  // compiled once, here
}

TEST(ConfigLoader, BadDestinationPolicyIsRejectedWhereItStands) {
  struct Case {
    std::string line;  // line 3, under security.destinations
    int column;
    std::string key, words;
  };
  const std::vector<Case> cases = {
      {"allowed_patterns: ['[0-9']", 24, "allowed_patterns[0]", "not a valid regular expression"},
      {"allowed_patterns: ['1)|(.*']", 24, "allowed_patterns[0]", "not a valid regular expression"},
      {"allowed_patterns: ['']", 24, "allowed_patterns[0]", "1 to 256 characters"},
      {"allowed_patterns: ['" + std::string(257, '9') + "']", 24, "allowed_patterns[0]", "1 to 256 characters"},
      {"denied_prefixes: [\"+88-2\"]", 23, "denied_prefixes[0]", "dial characters"},
      {"denied_prefixes: [\"\"]", 23, "denied_prefixes[0]", "dial characters"},
      {"own_domains: [\"evil.example/x\"]", 19, "own_domains[0]", "not a host name or IP address"},
      {"own_domain_only: sometimes", 22, "own_domain_only", "true or false"},
      {"allowed_prefixes: [\"1\"]", 5, "allowed_prefixes", "unknown key"},
  };
  for (const auto& c : cases)
    expectError("security:\n  destinations:\n    " + c.line + "\n", 3, c.column, "security.destinations." + c.key,
                c.words);
  std::string many = "security:\n  destinations:\n    denied_prefixes:\n";
  for (int i = 0; i < 1001; ++i) many += "      - \"9" + std::to_string(i) + "\"\n";
  expectError(many, 4, 7, "security.destinations.denied_prefixes", "at most 1000 entries");
}

TEST(ConfigLoader, NestingIsBoundedAt64LevelsBeforeAnyNodeIsBuilt) {
  // The top-level map is level 1: 63 brackets reach level 64, which parses (and fails on the unknown key only).
  expectError("x: " + std::string(63, '[') + std::string(63, ']') + "\n", 1, 1, "x", "unknown key");
  // The 64th bracket opens level 65: refused where it stands (column 3 + 64, 1-based).
  const auto deep = [](int n) { return "x: " + std::string(n, '[') + std::string(n, ']') + "\n"; };
  expectError(deep(64), 1, 67, "(syntax)", "nested deeper than 64 levels");
  // 100,000 unclosed levels: refused by this bound, not by yaml-cpp's own 2,000-level recursion guard ("bad file").
  // yaml-cpp's scanner marks unclosed flow collections at a column of its own; only the line is asserted.
  try {
    loadFromString("x: " + std::string(100000, '[') + "\n", "test.yaml");
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 1) << e.what();
    EXPECT_EQ(e.key(), "(syntax)") << e.what();
    EXPECT_NE(e.message().find("nested deeper than 64 levels"), std::string::npos) << e.what();
  }
  // Block style counts the same way, and the error names the line.
  std::string block = "media:\n";
  for (int i = 1; i < 65; ++i) block += std::string(2 * i, ' ') + "k" + std::to_string(i) + ":\n";
  expectError(block, 65, 129, "(syntax)", "nested deeper than 64 levels");
}

TEST(ConfigLoader, UnreadableFileIsAClearError) {
  try {
    loadFromFile("/nonexistent/rtcgate.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 0);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/rtcgate.yaml: cannot open"), std::string::npos) << e.what();
  }
}

TEST(ConfigLoader, SecretsNeverFormat) {
  auto c = loadFromString("agents: [{user: a, password: hunter2, dn: \"1\"}]\n", "s");
  EXPECT_EQ(fmt::format("{}", c.agents.at(0).password), "<redacted>");
}

// Issue 12: what GET /rtcgate/ice-servers gives browsers.
TEST(ConfigLoader, BrowserIceServersAndTheirTurnSecret) {
  Config d = loadFromString("{}", "t");
  EXPECT_TRUE(d.browser.iceServers.empty());
  EXPECT_TRUE(d.browser.turnSharedSecret.empty());
  EXPECT_EQ(d.browser.credentialTtlS, 600u);
  EXPECT_EQ(d.browser.gatheringTimeoutMs, 1000u);
  Config c = loadFromString(R"(browser:
  ice_servers: ["stun:stun.example.com:3478", "turns:turn.example.com:5349?transport=tcp"]
  turn_shared_secret: 0123456789abcdef
  credential_ttl_s: 120
  gathering_timeout_ms: 700
)",
                            "t");
  ASSERT_EQ(c.browser.iceServers.size(), 2u);
  EXPECT_EQ(c.browser.iceServers[1], "turns:turn.example.com:5349?transport=tcp");
  EXPECT_EQ(c.browser.turnSharedSecret.reveal(), "0123456789abcdef");
  EXPECT_EQ(c.browser.credentialTtlS, 120u);
  EXPECT_EQ(c.browser.gatheringTimeoutMs, 700u);
  // A TURN URL may take its secret from ice.turn_servers instead.
  Config t = loadFromString(R"(ice:
  turn_servers: [{host: 192.0.2.5, shared_secret: s3cret-s3cret-s3cret}]
browser: {ice_servers: ["turn:192.0.2.5:3478"]}
)",
                            "t");
  EXPECT_TRUE(t.browser.turnSharedSecret.empty());

  expectError("browser:\n  ice_servers: [\"http://stun.example.com\"]\n", 2, 17, "browser.ice_servers[0]",
              "is not a stun:, stuns:, turn: or turns: URL");
  expectError("browser:\n  ice_servers: [\"stun:a b\"]\n", 2, 17, "browser.ice_servers[0]", "no spaces");
  expectError("browser:\n  ice_servers: [\"turn:192.0.2.5\"]\n", 2, 3, "browser",
              "there is no TURN REST secret");
  expectError("browser:\n  turn_shared_secret: short\n", 2, 23, "browser.turn_shared_secret",
              "at least 16 characters");
  expectError("browser:\n  credential_ttl_s: 10\n", 2, 21, "browser.credential_ttl_s", "out of range 60..86400");
  expectError("browser:\n  gathering_timeout_ms: 50\n", 2, 25, "browser.gathering_timeout_ms",
              "out of range 100..30000");
  expectError("browser:\n  ice_server: []\n", 2, 3, "browser.ice_server", "");
}

// Issue 13, agents at scale: agents_file, max_agents, agent_tokens.
TEST(ConfigLoader, AgentsFileIsMergedAndEveryBadLineIsReported) {
  char tmpl[] = "/tmp/rtcgate-agents-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  write("agents.csv",
        "# exported from the CRM\nuser,password,ha1,dn,dn_auth_user,dn_password,always_registered\n"
        "a1,\"pw,1\",,7001,,,\n"
        "a2,,0123456789abcdef0123456789abcdef,7002,auth7002,dnpw,true\n");
  auto yaml = write("rtcgate.yaml", "agents: [{user: y1, password: p, dn: \"6001\"}]\nagents_file: agents.csv\n");
  Config c = loadFromFile(yaml);
  ASSERT_EQ(c.agents.size(), 3u);
  EXPECT_FALSE(c.agents[0].fromFile);
  EXPECT_EQ(c.agents[1].user, "a1");
  EXPECT_EQ(c.agents[1].password.reveal(), "pw,1");  // RFC 4180 quoting
  EXPECT_TRUE(c.agents[1].fromFile);
  EXPECT_EQ(c.agents[1].fileLine, 3u);
  EXPECT_EQ(c.agents[2].dnAuthUser, "auth7002");
  EXPECT_EQ(c.agents[2].dnPassword.reveal(), "dnpw");
  EXPECT_TRUE(c.agents[2].alwaysRegistered);
  EXPECT_EQ(c.maxAgents, 20000u);

  write("agents.csv", "user,password,dn\ny1,pw,7001\na2,,7002\na3,secret-pw,6001\na4,pw\na5,\"pw,7005\nbad user,pw,7006\n");
  try {
    loadFromFile(yaml);
    ADD_FAILURE() << "a bad agents file was accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("6 errors"), std::string::npos) << what;
    EXPECT_NE(what.find("agents.csv:2: agent 'y1' is defined twice (also in the YAML agents list)"), std::string::npos) << what;
    EXPECT_NE(what.find("agents.csv:3: agent 'a2': exactly one of password and ha1 is required"), std::string::npos) << what;
    EXPECT_NE(what.find("agents.csv:4: DN '6001' of agent 'a3' is already used by agent 'y1' in the YAML"), std::string::npos) << what;
    EXPECT_NE(what.find("agents.csv:5: 2 fields, the header has 3"), std::string::npos) << what;
    EXPECT_NE(what.find("agents.csv:6: unbalanced or misplaced double quote"), std::string::npos) << what;
    EXPECT_NE(what.find("agents.csv:7: user: has characters not allowed"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret-pw"), std::string::npos) << "a password in an error: " << what;
  }
  write("agents.csv", "user,dn\na1,7001\n");
  try {
    loadFromFile(yaml);
    ADD_FAILURE() << "a header without password/ha1 was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("agents.csv:1: the header row must name the columns user, dn and password or ha1"),
              std::string::npos) << e.what();
  }
  write("agents.csv", "user,password,dn\na1,p,7001\na2,p,7002\n");
  write("rtcgate.yaml", "agents: [{user: y1, password: p, dn: \"6001\"}]\nagents_file: agents.csv\nmax_agents: 2\n");
  try {
    loadFromFile(yaml);
    ADD_FAILURE() << "max_agents was not enforced";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("agents.csv:3: more than max_agents (2) agents"), std::string::npos) << e.what();
  }
  write("rtcgate.yaml", "agents_file: missing.csv\n");
  EXPECT_THROW(loadFromFile(yaml), ConfigError);
  expectError("max_agents: 0\n", 1, 13, "max_agents", "out of range 1..1000000");
  expectError("agents: [{user: a, password: p, dn: \"1\"}, {user: b, password: p, dn: \"2\"}]\nmax_agents: 1\n", 2, 13,
              "max_agents", "more than this");
  std::string cleanup = "rm -rf " + dir;
  EXPECT_EQ(std::system(cleanup.c_str()), 0);
}

TEST(ConfigLoader, AgentTokensReadTheSecretFileAndCheckIt) {
  char tmpl[] = "/tmp/rtcgate-tokens-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/secret") << "0123456789abcdef0123456789abcdef\n";
  std::ofstream(dir + "/short") << "too-short\n";
  std::ofstream(dir + "/open") << "0123456789abcdef0123456789abcdef\n";
  for (const char* f : {"/secret", "/short"}) ASSERT_EQ(::chmod((dir + f).c_str(), 0600), 0);
  ASSERT_EQ(::chmod((dir + "/open").c_str(), 0644), 0);
  Config c = loadFromString("agent_tokens: {secret_file: " + dir + "/secret, issuer: crm, max_lifetime_s: 600, "
                            "dn_auth_user: gw, dn_password: dnpw}\n", "t.yaml");
  EXPECT_TRUE(c.agentTokens.enabled());
  EXPECT_EQ(c.agentTokens.secret.reveal(), "0123456789abcdef0123456789abcdef");  // the newline trimmed
  EXPECT_EQ(c.agentTokens.issuer, "crm");
  EXPECT_EQ(c.agentTokens.maxLifetimeS, 600u);
  EXPECT_EQ(c.agentTokens.dnAuthUser, "gw");
  EXPECT_EQ(c.agentTokens.dnPassword.reveal(), "dnpw");
  EXPECT_FALSE(loadFromString("{}\n", "t.yaml").agentTokens.enabled());
  EXPECT_EQ(loadFromString("{}\n", "t.yaml").agentTokens.maxLifetimeS, 43200u);
  expectError("agent_tokens: {secret_file: " + dir + "/short}\n", 1, 29, "agent_tokens.secret_file", "at least 32 bytes");
  expectError("agent_tokens: {secret_file: " + dir + "/none}\n", 1, 29, "agent_tokens.secret_file", "cannot read");
  expectError("agent_tokens: {issuer: crm}\n", 1, 15, "agent_tokens", "secret_file");
  // A secret every local user can read signs in as any agent: refused like an open TLS key would deserve.
  expectError("agent_tokens: {secret_file: " + dir + "/open}\n", 1, 29, "agent_tokens.secret_file",
              "accessible by other users (mode 0644)");
  expectError("agent_tokens: {secret_file: " + dir + "}\n", 1, 29, "agent_tokens.secret_file", "not a regular file");
  expectError("agent_tokens:\n  secret_file: " + dir + "/secret\n  max_lifetime_s: 10\n", 3, 19,
              "agent_tokens.max_lifetime_s", "out of range 60..2592000");
  std::string cleanup = "rm -rf " + dir;
  EXPECT_EQ(std::system(cleanup.c_str()), 0);
}

TEST(ConfigLoader, AgentTokensPreviousSecretFileForARotation) {
  test::TempDir tmp;
  const std::string dir = tmp.path();
  for (const auto& [name, text] : {std::pair{"secret", "0123456789abcdef0123456789abcdef\n"},
                                   {"previous", "previous-secret-previous-secret-0123\n"},
                                   {"same", "0123456789abcdef0123456789abcdef"}})
    ASSERT_EQ(::chmod(tmp.write(name, text).c_str(), 0640), 0);  // group-readable is allowed
  Config c = loadFromString("agent_tokens: {secret_file: " + dir + "/secret, previous_secret_file: " + dir +
                            "/previous}\n", "t.yaml");
  EXPECT_EQ(c.agentTokens.secret.reveal(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c.agentTokens.previousSecretFile, dir + "/previous");
  EXPECT_EQ(c.agentTokens.previousSecret.reveal(), "previous-secret-previous-secret-0123");
  EXPECT_TRUE(loadFromString("agent_tokens: {secret_file: " + dir + "/secret}\n", "t.yaml").agentTokens
                  .previousSecret.empty());
  const int col = static_cast<int>(std::string("agent_tokens: {secret_file: " + dir + "/secret, previous_secret_file: ")
                                       .size()) + 1;
  expectError("agent_tokens: {secret_file: " + dir + "/secret, previous_secret_file: " + dir + "/same}\n", 1, col,
              "agent_tokens.previous_secret_file", "same secret as secret_file");
  expectError("agent_tokens: {secret_file: " + dir + "/secret, previous_secret_file: " + dir + "/none}\n", 1, col,
              "agent_tokens.previous_secret_file", "cannot read");
  expectError("agent_tokens: {secret_file: \"\", previous_secret_file: " + dir + "/previous}\n", 1, 55,
              "agent_tokens.previous_secret_file", "needs secret_file");
}

// agent_tokens.audience (RFC 7519 4.1.3): one value or a list; without it the loader warns how to set one.
TEST(ConfigLoader, AgentTokensAudienceIsAStringOrAListAndItsAbsenceIsWarned) {
  test::TempDir tmp;
  ASSERT_EQ(::chmod(tmp.write("secret", "0123456789abcdef0123456789abcdef\n").c_str(), 0600), 0);
  const std::string head = "agent_tokens:\n  secret_file: " + tmp.path() + "/secret\n";
  std::vector<std::string> warnings;
  Config c = loadFromString(head + "  audience: wss://gw.example.com\n", "t.yaml", &warnings);
  EXPECT_EQ(c.agentTokens.audience, std::vector<std::string>{"wss://gw.example.com"});
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  c = loadFromString(head + "  audience: [rtcgate, \"wss://gw.example.com\"]\n", "t.yaml", &warnings);
  EXPECT_EQ(c.agentTokens.audience, (std::vector<std::string>{"rtcgate", "wss://gw.example.com"}));
  EXPECT_TRUE(warnings.empty());

  c = loadFromString(head, "t.yaml", &warnings);
  EXPECT_TRUE(c.agentTokens.audience.empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("t.yaml:2:3: agent_tokens: audience is not set: tokens that carry an aud claim are "
                              "refused (bad_audience)", 0), 0u) << warnings[0];
  EXPECT_NE(warnings[0].find("set agent_tokens.audience to"), std::string::npos) << warnings[0];
  warnings.clear();
  loadFromString(head + "  audience: []\n", "t.yaml", &warnings);  // the reference file's "none"
  EXPECT_EQ(warnings.size(), 1u);
  warnings.clear();
  loadFromString("agent_tokens: {secret_file: \"\"}\n", "t.yaml", &warnings);  // tokens off: nothing to say
  EXPECT_TRUE(warnings.empty());

  expectError(head + "  audience: \"\"\n", 3, 13, "agent_tokens.audience", "must not be empty");
  expectError(head + "  audience: [rtcgate, \"\"]\n", 3, 23, "agent_tokens.audience[1]", "must not be empty");
  expectError(head + "  audience: {a: b}\n", 3, 13, "agent_tokens.audience", "must be a string or a list");
  expectError(head + "  audience: [[rtcgate]]\n", 3, 14, "agent_tokens.audience[0]", "must be a string");
  expectError(head + "  audience: [a, a]\n", 3, 17, "agent_tokens.audience[1]", "listed twice");
  expectError(head + "  audience: \"gw example\"\n", 3, 13, "agent_tokens.audience", "printable ASCII");
  expectError(head + "  audience: " + std::string(257, 'a') + "\n", 3, 13, "agent_tokens.audience",
              "longer than 256 bytes");
  std::string seventeen = "[";
  for (int i = 0; i < 17; ++i) seventeen += (i ? ", a" : "a") + std::to_string(i);
  expectError(head + "  audience: " + seventeen + "]\n", 3, 13, "agent_tokens.audience", "17 values, more than 16");
}

}  // namespace
}  // namespace rtcgate::config

namespace rtcgate::config {
namespace {

// The lines of a refused file's error, one per error.
std::vector<std::string> errorLines(const std::string& yaml, std::vector<std::string>* warnings = nullptr) {
  try {
    loadFromString(yaml, "t.yaml", warnings);
  } catch (const ConfigError& e) {
    std::vector<std::string> lines;
    std::istringstream in(e.what());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    EXPECT_EQ(lines.size(), e.errors().size()) << e.what();
    return lines;
  }
  return {};
}

TEST(ConfigLoader, EveryErrorOfTheFileIsListedInFileOrder) {
  const auto lines = errorLines(R"(listeners:
  wss:
    - {address: 127.0.0.1, port: 70000}
    - {address: nowhere, port: 1}
agents:
  - {user: a, password: p, dn: "1"}
  - {user: b, password: p, dn: "1"}
media:
  workers: 2
  rtp_port_mni: 1
  bogus: 2
security: {max_calls: 0}
unknown_top: 1
)");
  ASSERT_EQ(lines, (std::vector<std::string>{
                       "t.yaml:3:34: listeners.wss[0].port: 70000 is out of range 0..65535",
                       "t.yaml:4:17: listeners.wss[1].address: 'nowhere' is not an IPv4 or IPv6 address (host names "
                       "are not accepted)",
                       "t.yaml:7:32: agents[1].dn: DN '1' belongs to two agents",
                       "t.yaml:10:3: media.rtp_port_mni: unknown key 'rtp_port_mni' (known here: dtls_cert_file, "
                       "dtls_handshake_timeout_ms, dtls_key_file, ice_port_max, ice_port_min, jitter_buffer_max_ms, packet_rate, "
                       "rtp_address, rtp_port_max, rtp_port_min, rtp_timeout_ms, srtp_profiles, workers)",
                       "t.yaml:11:3: media.bogus: unknown key 'bogus' (known here: dtls_cert_file, "
                       "dtls_handshake_timeout_ms, dtls_key_file, ice_port_max, ice_port_min, jitter_buffer_max_ms, packet_rate, rtp_address, rtp_port_max, "
                       "rtp_port_min, rtp_timeout_ms, srtp_profiles, workers)",
                       "t.yaml:12:23: security.max_calls: 0 is out of range 1..100000",
                       "t.yaml:13:1: unknown_top: unknown key 'unknown_top' (known here: agent_tokens, agents, "
                       "agents_file, browser, calls, codecs, ice, listeners, logging, max_agents, media, metrics, "
                       "security, upstream)",
                   }));
  // One error alone keeps its own shape (what() is that line; errors() holds it).
  EXPECT_EQ(errorLines("media: {workers: 300}\n"),
            (std::vector<std::string>{"t.yaml:1:18: media.workers: 300 is out of range 0..256"}));
}

TEST(ConfigLoader, PortRangesMustNotOverlapAndMustHoldMaxCalls) {
  EXPECT_EQ(errorLines("media: {rtp_port_min: 20000, rtp_port_max: 20099, ice_port_min: 20050, ice_port_max: 20999}\n"
                       "security: {max_calls: 50}\n"),
            (std::vector<std::string>{
                "t.yaml:1:65: media.ice_port_min: the RTP range 20000..20099 and the ICE range 20050..20999 overlap "
                "in 20050..20099: RTP toward Genesys and ICE toward browsers would take each other's ports; give "
                "them separate ranges"}));
  EXPECT_EQ(errorLines("media: {rtp_port_min: 20001, rtp_port_max: 20100, ice_port_min: 30000, ice_port_max: 30009}\n"
                       "security: {max_calls: 50}\n"),
            (std::vector<std::string>{
                "t.yaml:1:44: media.rtp_port_max: the RTP range 20001..20100 has room for 49 calls, 2 ports per call "
                "x security.max_calls 50 = 100 ports; set media.rtp_port_max: 20101 (or security.max_calls: 49)",
                "t.yaml:1:86: media.ice_port_max: the ICE range 30000..30009 has room for 10 calls, 1 port per call "
                "x security.max_calls 50 = 50 ports; set media.ice_port_max: 30049 (or security.max_calls: 10)"}));
  // Without media.*_port_max in the file the error stands at the section, still naming the numbers.
  auto lines = errorLines("media: {rtp_port_min: 29990}\nsecurity: {max_calls: 200}\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("t.yaml:1:8: media: the RTP range 29990..29999 has room for 5 calls", 0), 0u) << lines[0];
  // Exactly enough is fine: 100 ports hold 50 RTP calls; 50 ICE ports 50 calls.
  EXPECT_NO_THROW(loadFromString("media: {rtp_port_min: 20000, rtp_port_max: 20099, ice_port_min: 30000, "
                                 "ice_port_max: 30049}\nsecurity: {max_calls: 50}\n",
                                 "t.yaml"));
}

class CertificateChecks : public ::testing::Test {
protected:
  std::string pair(const std::string& name, std::chrono::seconds validFor, std::chrono::seconds backdate) {
    auto pem = crypto::toPem(certificate(validFor, backdate));
    dir.write(name + ".key", pem.privateKey);
    return dir.write(name + ".crt", pem.certificate);
  }
  std::string key(const std::string& name) const { return dir.path() + "/" + name + ".key"; }
  std::string wss(const std::string& cert, const std::string& keyFile) const {
    return "listeners:\n  wss:\n    - address: 127.0.0.1\n      port: 0\n      tls_cert_file: " + cert +
           "\n      tls_key_file: " + keyFile + "\n";
  }
  test::TempDir dir;
};

TEST_F(CertificateChecks, AGoodPairLoadsWithoutWarnings) {
  auto cert = pair("good", std::chrono::days(365), std::chrono::days(1));
  std::vector<std::string> warnings;
  auto c = loadFromString(wss(cert, key("good")) + "media: {dtls_cert_file: " + cert + ", dtls_key_file: " +
                              key("good") + "}\n",
                          "t.yaml", &warnings);
  EXPECT_EQ(c.listeners.wss.at(0).tlsCertFile, cert);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(CertificateChecks, MissingNotPemAndMismatchedFilesAreErrorsAtTheirKey) {
  auto a = pair("a", std::chrono::days(365), std::chrono::days(1));
  pair("b", std::chrono::days(365), std::chrono::days(1));
  const auto text = dir.write("text.crt", "hello\n");
  // Each listener its own problem; all three reported.
  const std::string yaml = "listeners:\n  wss:\n"
                           "    - {address: 127.0.0.1, port: 0, tls_cert_file: " + dir.path() + "/none.crt, "
                           "tls_key_file: " + key("a") + "}\n"
                           "    - {address: 127.0.0.1, port: 0, tls_cert_file: " + text + ", tls_key_file: " +
                           key("a") + "}\n"
                           "    - {address: 127.0.0.1, port: 0, tls_cert_file: " + a + ", tls_key_file: " + key("b") +
                           "}\n";
  auto lines = errorLines(yaml);
  ASSERT_EQ(lines.size(), 3u);
  const auto col1 = std::to_string(yaml.find("tls_cert_file: " + dir.path() + "/none") - yaml.find("    - {") + 1 + 15);
  EXPECT_EQ(lines[0], "t.yaml:3:" + col1 + ": listeners.wss[0].tls_cert_file: certificate file " + dir.path() +
                          "/none.crt: No such file or directory");
  EXPECT_EQ(lines[1].rfind("t.yaml:4:", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find(": listeners.wss[1].tls_cert_file: certificate file " + text +
                          ": no PEM certificate in it (error:"),
            std::string::npos)
      << lines[1];
  EXPECT_EQ(lines[2].rfind("t.yaml:5:", 0), 0u) << lines[2];
  EXPECT_NE(lines[2].find(": listeners.wss[2].tls_key_file: key file " + key("b") + " does not match certificate " +
                          a + " (error:"),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[2].find("key values mismatch"), std::string::npos) << lines[2];
}

TEST_F(CertificateChecks, ValidityIsCheckedAndExpiryWithinFourteenDaysWarns) {
  auto expired = pair("expired", -std::chrono::days(1), std::chrono::days(30));
  auto future = pair("future", std::chrono::days(30), -std::chrono::days(2));
  auto soon = pair("soon", std::chrono::days(5), std::chrono::days(1));
  auto lines = errorLines(wss(expired, key("expired")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("t.yaml:5:22: listeners.wss[0].tls_cert_file: certificate " + expired + " expired on ", 0), 0u)
      << lines[0];
  lines = errorLines("media:\n  dtls_cert_file: " + future + "\n  dtls_key_file: " + key("future") + "\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("t.yaml:2:19: media.dtls_cert_file: certificate " + future + " is not valid before ", 0), 0u)
      << lines[0];
  std::vector<std::string> warnings;
  EXPECT_NO_THROW(loadFromString(wss(soon, key("soon")), "t.yaml", &warnings));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("t.yaml:5:22: listeners.wss[0].tls_cert_file: certificate " + soon + " expires on ", 0), 0u)
      << warnings[0];
  EXPECT_NE(warnings[0].find(", within 14 days"), std::string::npos) << warnings[0];
}

TEST_F(CertificateChecks, AnUnreadableOrSpecialFileIsAnErrorNamingIt) {
  auto cert = pair("p", std::chrono::days(30), std::chrono::days(1));
  auto lines = errorLines(wss(cert, "/dev/zero"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "t.yaml:6:21: listeners.wss[0].tls_key_file: key file /dev/zero: not a regular file");
  if (::geteuid() != 0) {  // root reads a mode-000 file anyway
    const auto k = key("p");
    ::chmod(k.c_str(), 0);
    lines = errorLines(wss(cert, k));
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("key file " + k + ": Permission denied (read as uid "), std::string::npos) << lines[0];
  }
}

// listeners.admin.token_file (issue 13): the bearer token of /api/v1, required beyond loopback, [reload].
TEST(ConfigLoader, AdminTokenFileIsReadTrimmedAndRequiredBeyondLoopback) {
  test::TempDir dir;
  const std::string token = dir.write("token", "  0123456789abcdef-token \n second line ignored\n");
  auto c = loadFromString("listeners:\n  admin: {address: 0.0.0.0, port: 0, token_file: " + token + "}\n", "t.yaml");
  EXPECT_EQ(c.adminAuth.tokenFile, token);
  EXPECT_EQ(c.adminAuth.token.reveal(), "0123456789abcdef-token");
  EXPECT_TRUE(loadFromString("listeners:\n  admin: {address: 127.0.0.1}\n", "t.yaml").adminAuth.token.empty());
  expectError("listeners:\n  admin: {address: 0.0.0.0}\n", 2, 10, "listeners.admin", "set token_file");
  expectError("listeners:\n  admin: {address: 10.1.2.3, token_file: \"\"}\n", 2, 10, "listeners.admin",
              "set token_file");
  // Disabled: nothing listens, nothing to protect.
  EXPECT_NO_THROW(loadFromString("listeners:\n  admin: {enabled: false, address: 0.0.0.0}\n", "t.yaml"));
  expectError("listeners:\n  admin: {token_file: " + dir.path() + "/absent}\n", 2, 23, "listeners.admin.token_file",
              "cannot read token file");
  const std::string empty = dir.write("empty", "\n");
  expectError("listeners:\n  admin: {token_file: " + empty + "}\n", 2, 23, "listeners.admin.token_file", "is empty");
  const std::string shortToken = dir.write("short", "abc\n");
  try {
    loadFromString("listeners:\n  admin: {token_file: " + shortToken + "}\n", "t.yaml");
    ADD_FAILURE() << "a 3-character token was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.message().find("shorter than 16 characters"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("abc"), std::string::npos) << "the token leaked: " << e.what();
  }
}

}  // namespace
}  // namespace rtcgate::config

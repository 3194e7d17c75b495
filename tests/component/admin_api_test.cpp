// SPDX-License-Identifier: Apache-2.0
// The admin API, rtcgatectl and drain against the real daemon (issue 13, docs/admin-api.md): a bearer token beyond
// loopback (never for the probes), 401/404/405/413 answers, one real call (JsSIP agent over WSS, SIPp as Genesys)
// listed with its fields and values, agents and DNs showing the registration, drain refusing a new INVITE with
// 503 + Retry-After while the running call goes on, the call hung up through rtcgatectl (BYE at SIPp and at the
// browser), and the daemon exiting 0 with progress in rtcgatectl, the log and systemd STATUS=.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <json-glib/json-glib.h>

#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "component/daemon_harness.h"
#include "component/udp_peer.h"
#include "rtcgate/media/rtp/call_quality.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "s3cret-admin-token-0123456789";

struct HttpAnswer {
  long status = -1;
  std::string body, headers;
};

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One HTTP request with libcurl (the test's own client; rtcgatectl is tested separately as a program).
HttpAnswer http(const std::string& method, uint16_t port, const std::string& path, const std::string& token = {},
                const std::string& body = {}) {
  HttpAnswer a;
  CURL* c = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_slist* h = nullptr;
  const std::string auth = "Authorization: Bearer " + token;
  if (!token.empty()) h = curl_slist_append(h, auth.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &append);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &a.headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return a;
}

// The value at JSONPath `path` (json-glib's JsonPath) as text: strings as they are, numbers as %g, booleans as
// true/false, null as "null"; "<none>" when nothing matches or the body is not JSON.
std::string jq(const std::string& json, const char* path) {
  JsonNode* root = json_from_string(json.c_str(), nullptr);
  if (root == nullptr) return "<none>";
  JsonNode* found = json_path_query(path, root, nullptr);
  std::string out = "<none>";
  if (found != nullptr && JSON_NODE_HOLDS_ARRAY(found) && json_array_get_length(json_node_get_array(found)) > 0) {
    JsonNode* n = json_array_get_element(json_node_get_array(found), 0);
    if (JSON_NODE_HOLDS_NULL(n)) out = "null";
    else if (JSON_NODE_HOLDS_VALUE(n)) {
      switch (json_node_get_value_type(n)) {
        case G_TYPE_STRING: out = json_node_get_string(n); break;
        case G_TYPE_BOOLEAN: out = json_node_get_boolean(n) ? "true" : "false"; break;
        case G_TYPE_INT64: out = std::to_string(json_node_get_int(n)); break;
        default: out = fmt::format("{:g}", json_node_get_double(n));
      }
    } else {
      out = json_to_string(n, FALSE);
    }
  }
  if (found != nullptr) json_node_unref(found);
  json_node_unref(root);
  return out;
}

// Each JSONPath of `want` has its value in `json`.
void expectFields(const std::string& json, const std::vector<std::pair<const char*, std::string>>& want) {
  for (const auto& [path, value] : want) EXPECT_EQ(jq(json, path), value) << path << "\n" << json;
}

struct Ctl {
  int code;
  std::string out, err;
};

Ctl rtcgatectl(const std::vector<std::string>& args) {
  test::TempDir dir;
  std::vector<std::string> argv{RTCGATE_CTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  test::Child c(argv, dir.path());
  Ctl r;
  r.code = c.wait(20s);
  r.out = c.out();
  r.err = c.err();
  return r;
}

// The port after "admin=ADDRESS:" in the READY status.
uint16_t adminPort(const std::string& ready) {
  const auto at = ready.find("admin=");
  if (at == std::string::npos) return 0;
  const auto colon = ready.find(':', at);
  return static_cast<uint16_t>(std::stoi(ready.substr(colon + 1)));
}

TEST(AdminApi, BeyondLoopbackTheTokenIsRequiredForTheApiButNeverForProbes) {
  test::TempDir dir;
  const std::string tokenFile = dir.write("token", std::string(kToken) + "\n");
  const std::string wrongFile = dir.write("wrong", "not-the-admin-token-at-all\n");
  // No token: a configuration error naming the file and line.
  const std::string bad = dir.write("bad.yaml", "listeners:\n  admin: {address: 0.0.0.0, port: 0}\n");
  {
    test::Child check({RTCGATE_BINARY, "--check-config", bad}, dir.path());
    EXPECT_EQ(check.wait(10s), 2);
    EXPECT_NE(check.err().find(bad + ":2"), std::string::npos) << check.err();
    EXPECT_NE(check.err().find("set token_file"), std::string::npos) << check.err();
  }
  // Bound to every interface (the test talks to it on 127.0.0.1 only).
  const std::string config = dir.write("rtcgate.yaml", "listeners:\n  admin: {address: 0.0.0.0, port: 0, token_file: " +
                                                           tokenFile + "}\nupstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n");
  test::NotifySocket notify(dir.path() + "/notify.sock");
  test::Child d({RTCGATE_BINARY, "--config", config}, dir.path(), {notify.env()});
  const uint16_t port = adminPort(notify.waitFor("READY=1"));
  ASSERT_NE(port, 0) << d.err();

  EXPECT_EQ(http("GET", port, "/healthz").status, 200);
  EXPECT_EQ(http("GET", port, "/metrics").status, 200);
  auto none = http("GET", port, "/api/v1/status");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.headers.find("www-authenticate: Bearer realm=\"rtcgate\""), std::string::npos) << none.headers;
  EXPECT_EQ(jq(none.body, "$.error"), "a valid 'Authorization: Bearer <token>' is required");
  EXPECT_EQ(http("GET", port, "/api/v1/status", "not-the-admin-token-at-all").status, 401);
  EXPECT_EQ(http("GET", port, "/api/v1/status", std::string(kToken) + "x").status, 401);
  EXPECT_EQ(http("POST", port, "/api/v1/reload", "", "{}").status, 401);
  EXPECT_EQ(http("POST", port, "/api/v1/drain", "", "{}").status, 401);

  auto status = http("GET", port, "/api/v1/status", kToken);
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(jq(status.body, "$.calls"), "0");
  EXPECT_EQ(jq(status.body, "$.draining"), "false");
  auto missing = http("GET", port, "/api/v1/calls/no-such-call", kToken);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(jq(missing.body, "$.error"), "no such call");
  EXPECT_EQ(http("POST", port, "/api/v1/calls/no-such-call/hangup", kToken, "{}").status, 404);
  EXPECT_EQ(http("GET", port, "/api/v1/nothing-here", kToken).status, 404);
  auto wrongMethod = http("GET", port, "/api/v1/reload", kToken);
  EXPECT_EQ(wrongMethod.status, 405);
  EXPECT_NE(wrongMethod.headers.find("allow: POST"), std::string::npos) << wrongMethod.headers;
  EXPECT_EQ(http("POST", port, "/api/v1/calls", kToken, "{}").status, 405);
  EXPECT_EQ(http("POST", port, "/metrics", "", "{}").status, 405);
  EXPECT_EQ(http("POST", port, "/api/v1/drain", kToken, std::string(5000, ' ')).status, 413);
  auto badBody = http("POST", port, "/api/v1/drain", kToken, "{\"deadline_s\": \"soon\"}");
  EXPECT_EQ(badBody.status, 400);
  EXPECT_EQ(jq(badBody.body, "$.error"), "'deadline_s' must be a number");
  auto reload = http("POST", port, "/api/v1/reload", kToken, "{}");
  EXPECT_EQ(reload.status, 200);
  EXPECT_EQ(jq(reload.body, "$.applied"), "true");
  EXPECT_EQ(jq(reload.body, "$.restart_required"), "[]");

  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto ctl = rtcgatectl({"--url", url, "--token-file", tokenFile, "status"});
  EXPECT_EQ(ctl.code, 0) << ctl.err;
  EXPECT_NE(ctl.out.find("calls: 0\n"), std::string::npos) << ctl.out;
  EXPECT_NE(ctl.out.find("draining: no\n"), std::string::npos) << ctl.out;
  ctl = rtcgatectl({"--url", url, "--token-file", wrongFile, "calls"});
  EXPECT_EQ(ctl.code, 4);
  EXPECT_NE(ctl.err.find("unauthorized (401)"), std::string::npos) << ctl.err;
  ctl = rtcgatectl({"--url", url, "--token-file", tokenFile, "call", "no-such-call"});
  EXPECT_EQ(ctl.code, 5);
  EXPECT_EQ(ctl.err, "rtcgatectl: not found (404): no such call\n");
  ctl = rtcgatectl({"--url", "http://127.0.0.1:" + std::to_string(test::freePort()), "status"});
  EXPECT_EQ(ctl.code, 3);
  EXPECT_NE(ctl.err.find("cannot reach the admin API"), std::string::npos) << ctl.err;
  // Drain without the API: SIGUSR1; with no call in progress the daemon stops at once and exits 0.
  ::kill(d.pid(), SIGUSR1);
  EXPECT_EQ(d.wait(10s), 0) << d.err();
  EXPECT_NE(d.err().find("drain started by SIGUSR1"), std::string::npos) << d.err();
  EXPECT_NE(d.err().find("drain: no call left"), std::string::npos) << d.err();
  // The token never reaches the log, not even the wrong ones.
  EXPECT_EQ(d.err().find(kToken), std::string::npos);
  EXPECT_EQ(d.err().find("not-the-admin-token"), std::string::npos);
  EXPECT_NE(d.err().find("refused (401): wrong bearer token"), std::string::npos) << d.err();
}

std::string genesysInvite(uint16_t from, uint16_t to, const std::string& dn) {
  const std::string sdp = "v=0\r\no=g 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                          "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  return "INVITE sip:" + dn + "@127.0.0.1:" + std::to_string(to) + " SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(from) + ";branch=z9hG4bK-drain-1\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:genesys@127.0.0.1>;tag=g1\r\nTo: <sip:" + dn + "@127.0.0.1>\r\n"
         "Call-ID: drain-invite-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:genesys@127.0.0.1:" +
         std::to_string(from) + ">\r\nContent-Type: application/sdp\r\nContent-Length: " +
         std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

// An OPTIONS probe as a SIP dispatcher sends it (Kamailio's ds_ping: no user, outside a dialog).
std::string dispatcherOptions(uint16_t from, uint16_t to, int n) {
  return "OPTIONS sip:127.0.0.1:" + std::to_string(to) + " SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(from) + ";branch=z9hG4bK-ds-" + std::to_string(n) + "\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:dispatcher@127.0.0.1>;tag=ds" + std::to_string(n) +
         "\r\nTo: <sip:127.0.0.1:" + std::to_string(to) + ">\r\nCall-ID: ds-ping-" + std::to_string(n) +
         "@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
}

std::string finalAnswer(test::UdpPeer& peer) {
  std::string answer;
  for (int i = 0; i < 50 && test::statusOf(answer) < 200; ++i) answer = peer.receive(100ms);
  return answer;
}

TEST(AdminApi, OneRealCallIsListedThenDrainRefusesNewCallsTheCallIsHungUpAndTheDaemonExitsZero) {
  const uint16_t upstreamPort = test::freePort();
  const uint16_t uasMedia = test::freeMediaPort();
  test::TempDir sippDir;
  test::SippProcess genesys(sippDir.path(), test::scenario("admin_api_uas_answer_register.xml"),
                            {"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mi", "127.0.0.1", "-mp",
                             std::to_string(uasMedia), "-rtp_echo", "-key", "mediaport", std::to_string(uasMedia),
                             "-trace_msg", "-timeout", "50s"});
  ASSERT_TRUE(genesys.started()) << "sipp could not be started (is sip-tester installed?)";
  // SIPp binds its port a moment after it starts (no readiness signal: polled, bounded).
  for (int i = 0; i < 100 && !test::udpPortBound(upstreamPort); ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(test::udpPortBound(upstreamPort)) << genesys.output();
  test::TempDir dir;
  const std::string config = dir.write(
      "rtcgate.yaml",
      "listeners:\n  admin: {address: 127.0.0.1, port: 0}\n  wss: [{address: 127.0.0.1, port: 0}]\n"
      "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n"
      "  servers: [{host: 127.0.0.1, port: " + std::to_string(upstreamPort) + "}]\n"
      "agents: [{user: \"1001\", password: demo-1001, dn: \"1001\"},"
      " {user: \"1002\", password: demo-1002, dn: \"1002\"}]\n"
      "security: {allowed_origins: [\"https://app.example\"]}\n"
      // The stand-in browser sends no media: ICE must not end the call while the test looks at it.
      "ice: {connect_timeout_ms: 60000, candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}\n"
      "media: {workers: 1, rtp_address: 127.0.0.1}\n");
  test::NotifySocket notify(dir.path() + "/notify.sock");
  test::Child d({RTCGATE_BINARY, "--config", config}, dir.path(), {notify.env()});
  const std::string ready = notify.waitFor("READY=1");
  const uint16_t admin = test::adminPortFrom(ready), sip = test::portFrom(ready, "sip"),
                 wss = test::portFrom(ready, "wss");
  ASSERT_NE(wss, 0) << d.err();
  const std::string url = "http://127.0.0.1:" + std::to_string(admin);

  test::TempDir jsDir;
  test::Child js({RTCGATE_NODE, RTCGATE_SOURCE_DIR "/tests/js/signaling/sip_clients.mjs", "admin-call",
                  std::to_string(wss), "https://app.example"},
                 jsDir.path(), {"SIP_CLIENTS_DEADLINE_MS=30000"});
  // The call is up once the API says so (the API has no change notification: polled, bounded).
  std::string calls;
  for (int i = 0; i < 300 && jq(calls, "$.calls[*].state") != "connected"; ++i) {
    std::this_thread::sleep_for(50ms);
    calls = http("GET", admin, "/api/v1/calls").body;
  }
  ASSERT_EQ(jq(calls, "$.calls[*].state"), "connected") << calls << js.out() << js.err() << d.err();
  const std::string id = jq(calls, "$.calls[0].id");
  EXPECT_EQ(jq(http("GET", admin, "/api/v1/status").body, "$.calls"), "1");
  EXPECT_EQ(jq(calls, "$.calls[0].agent"), "1001");
  EXPECT_EQ(jq(calls, "$.calls[0].dn"), "1001");
  EXPECT_EQ(jq(calls, "$.calls[0].direction"), "from_agent");
  EXPECT_EQ(jq(calls, "$.calls[0].target"), "5555");
  const std::string browserCallId = jq(calls, "$.calls[0].browser_call_id");
  const std::string upstreamCallId = jq(calls, "$.calls[0].upstream_call_id");
  EXPECT_GE(browserCallId.size(), 10u) << calls;
  EXPECT_GE(upstreamCallId.size(), 10u) << calls;
  EXPECT_NE(browserCallId, upstreamCallId);
  expectFields(calls, {
      // The stand-in browser offers Opus only; SIPp answers PCMU: transcoded.
      {"$.calls[0].legs.browser.codec", "opus"},
      {"$.calls[0].legs.upstream.codec", "pcmu"},
      {"$.calls[0].media_mode", "transcoding"},
      // No browser media (a stand-in without ICE): no pair selected, no DTLS profile, nothing received from it.
      {"$.calls[0].dtls.srtp_profile", ""},
      {"$.calls[0].ice.remote_address", ""},
      {"$.calls[0].legs.browser.packets_received", "0"},
      {"$.calls[0].legs.browser.packets_lost", "0"},
      {"$.calls[0].legs.browser.rtt_ms", "null"},
      // No loss, no jitter, no RTT known: the E-model's best figure for G.711 (call_quality.h).
      {"$.calls[0].legs.browser.mos", fmt::format("{:g}", std::round(media::estimateMos({}) * 100) / 100)},
      {"$.calls[0].media_sampled", "true"},
  });
  const double duration = std::stod(jq(calls, "$.calls[0].duration_s"));
  EXPECT_GE(duration, 0.0);
  EXPECT_LT(duration, 60.0);

  auto one = http("GET", admin, "/api/v1/calls/" + id);
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(jq(one.body, "$.id"), id);
  EXPECT_EQ(jq(one.body, "$.upstream_call_id"), upstreamCallId);

  auto agents = http("GET", admin, "/api/v1/agents").body;
  expectFields(agents, {{"$.agents[0].user", "1001"},
                        {"$.agents[0].websocket_connected", "true"},
                        {"$.agents[0].connections[0].address", "127.0.0.1"},
                        {"$.agents[0].registered", "true"},
                        {"$.agents[0].calls", "1"}});
  const double expiresIn = std::stod(jq(agents, "$.agents[0].registrations[0].expires_in_s"));
  EXPECT_GT(expiresIn, 60.0);  // JsSIP asks for 120 s (sip_clients.mjs)
  EXPECT_LE(expiresIn, 120.0);
  auto dns = http("GET", admin, "/api/v1/dns").body;
  expectFields(dns, {{"$.dns[0].dn", "1001"},
                     {"$.dns[0].state", "registered"},
                     {"$.dns[0].last_status", "200"},
                     {"$.dns[0].last_phrase", "OK"},
                     {"$.dns[0].last_error", ""},
                     {"$.dns[0].next_attempt_in_s", "null"}});
  EXPECT_GT(std::stod(jq(dns, "$.dns[0].registered_for_s")), 200.0);  // SIPp grants Expires: 300

  // rtcgatectl: the table by default, the API's JSON with --json.
  auto table = rtcgatectl({"--url", url, "calls"});
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("ID", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("CODECS(B/G)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(id + "  from_agent  1001   1001  connected  opus/pcmu    transcoding"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("\n1 call(s)\n"), std::string::npos) << table.out;
  auto json = rtcgatectl({"--url", url, "--json", "calls"});
  EXPECT_EQ(json.code, 0);
  EXPECT_EQ(jq(json.out, "$.calls[0].id"), id) << json.out;
  auto agentsTable = rtcgatectl({"--url", url, "agents"});
  EXPECT_NE(agentsTable.out.find("1001  1001  yes        127.0.0.1  yes"), std::string::npos) << agentsTable.out;
  auto dnsTable = rtcgatectl({"--url", url, "dns"});
  EXPECT_NE(dnsTable.out.find("\n1002  unregistered  no     -       -           0         -                 -\n"),
            std::string::npos)
      << dnsTable.out;
  EXPECT_NE(dnsTable.out.find("1001  registered    yes    200 OK  -           0         "), std::string::npos) << dnsTable.out;

  // A dispatcher's OPTIONS probe: 200 while serving.
  test::UdpPeer prober(sip);
  prober.send(dispatcherOptions(prober.port(), sip, 1));
  const std::string serving = finalAnswer(prober);
  EXPECT_EQ(test::statusOf(serving), 200) << serving;

  // Drain: 202 with the progress; a second request is 409 and keeps the first deadline.
  auto drain = http("POST", admin, "/api/v1/drain", "", "{\"deadline_s\": 30}");
  EXPECT_EQ(drain.status, 202) << drain.body;
  EXPECT_EQ(jq(drain.body, "$.draining"), "true");
  EXPECT_EQ(jq(drain.body, "$.calls_left"), "1");
  EXPECT_EQ(jq(drain.body, "$.deadline_s"), "30");
  EXPECT_EQ(jq(drain.body, "$.requested_by"), "admin API");
  EXPECT_NE(notify.waitFor("STATUS=draining: 1 call(s) left"), "");
  // Load balancers take a draining node out: /readyz says so.
  EXPECT_EQ(http("GET", admin, "/readyz").status, 503);
  test::TempDir ctlDir;
  test::Child waiter({RTCGATE_CTL_BINARY, "--url", url, "drain", "--deadline", "5", "--wait"}, ctlDir.path());
  // A new call from Genesys: 503 with Retry-After (RFC 3261 21.5.4), not the 480 of an absent agent.
  test::UdpPeer genesysPeer(sip);
  genesysPeer.send(genesysInvite(genesysPeer.port(), sip, "1001"));
  std::string answer;
  for (int i = 0; i < 50 && test::statusOf(answer) < 200; ++i) answer = genesysPeer.receive(100ms);
  EXPECT_EQ(test::statusOf(answer), 503) << answer;
  EXPECT_NE(answer.find("\r\nRetry-After: "), std::string::npos) << answer;
  // The dispatcher's probe fails from now on (Kamailio counts 2xx only): no new calls are sent to this node.
  prober.send(dispatcherOptions(prober.port(), sip, 2));
  const std::string draining = finalAnswer(prober);
  EXPECT_EQ(test::statusOf(draining), 503) << draining;
  EXPECT_NE(draining.find("\r\nRetry-After: 30\r\n"), std::string::npos) << draining;
  EXPECT_NE(http("GET", admin, "/metrics").body.find("\nrtcgate_sip_options_draining_total 1\n"), std::string::npos);
  // From the browsers: an agent's first REGISTER and a new call are refused the same way; a refresh passes.
  {
    test::TempDir refusalsDir;
    test::Child refusals({RTCGATE_NODE, RTCGATE_SOURCE_DIR "/tests/js/signaling/sip_clients.mjs", "drain-refusals",
                          std::to_string(wss), "https://app.example"},
                         refusalsDir.path());
    ASSERT_EQ(refusals.wait(20s), 0) << refusals.out() << refusals.err();
    for (const std::string line : {"register_new=registrationFailed:503:retry-after", "register_existing=registered",
                                   "invite=failed:503:retry-after"})
      EXPECT_NE(refusals.out().find("RESULT " + line + "\n"), std::string::npos) << line << "\n" << refusals.out();
  }
  // The running call goes on.
  calls = http("GET", admin, "/api/v1/calls").body;
  EXPECT_EQ(jq(calls, "$.calls[0].id"), id);
  EXPECT_EQ(jq(calls, "$.calls[0].state"), "connected");

  // rtcgatectl's drain (409: already draining) has shown the progress before the call ends (bounded).
  for (int i = 0; i < 200 && waiter.out().find("draining: 1 call(s) left") == std::string::npos; ++i)
    std::this_thread::sleep_for(20ms);
  auto hangup = rtcgatectl({"--url", url, "hangup", id, "--reason", "test over"});
  EXPECT_EQ(hangup.code, 0) << hangup.err;
  EXPECT_EQ(hangup.out, "call " + id + " hung up\n");
  ASSERT_EQ(js.wait(15s), 0) << js.out() << js.err();
  EXPECT_NE(js.out().find("RESULT register=registered\n"), std::string::npos) << js.out();
  EXPECT_NE(js.out().find("RESULT call=confirmed\n"), std::string::npos) << js.out();
  EXPECT_NE(js.out().find("RESULT ended=ended:remote\n"), std::string::npos) << js.out();
  // No call left: the drain ends, the daemon stops and exits 0.
  EXPECT_EQ(d.wait(15s), 0) << d.err();
  EXPECT_EQ(waiter.wait(15s), 0) << waiter.err();
  const std::string progress = waiter.out();
  EXPECT_NE(progress.find("draining: 1 call(s) left"), std::string::npos) << progress;
  EXPECT_NE(progress.find("(deadline 30 s, requested by admin API)"), std::string::npos) << progress;
  EXPECT_NE(progress.find("drain finished: the daemon stopped\n"), std::string::npos) << progress;
  const std::string log = d.err();
  EXPECT_NE(log.find("drain started by admin API"), std::string::npos) << log;
  EXPECT_NE(log.find("hung up through the admin API: test over"), std::string::npos) << log;
  EXPECT_NE(log.find("drain: no call left"), std::string::npos) << log;
  const auto byes = test::sippTracedRequestLines(sippDir.path(), "BYE");
  EXPECT_EQ(byes.size(), 1u) << genesys.output();
}

// GET /api/v1/upstreams (docs/admin-api.md): SIPp playing Genesys answers the OPTIONS pings 200, so the server is
// `up` with `last_status` 200 OK, answered moments ago and no failures; then SIPp is stopped (its port closed: the
// next ping ends without an answer: ICMP port unreachable, sofia's 503), so it is `down` with that status, failures
// counted and the last answer's age kept. `rtcgatectl upstreams` shows the same row.
TEST(AdminApi, UpstreamsShowEachServersStateLastAnswerAndFailures) {
  const uint16_t upstreamPort = test::freePort();
  test::TempDir sippDir;
  test::SippProcess genesys(sippDir.path(), test::scenario("options_ping_answered.xml"),
                            {"-i", "127.0.0.1", "-p", std::to_string(upstreamPort), "-mp",
                             std::to_string(test::freeMediaPort()), "-timeout", "30s", "-bind_local"});
  ASSERT_TRUE(genesys.started()) << "sipp could not be started (is sip-tester installed?)";
  test::TempDir dir;
  const std::string config = dir.write(
      "rtcgate.yaml",
      "listeners:\n  admin: {address: 127.0.0.1, port: 0}\n"
      "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n"
      "  servers: [{host: 127.0.0.1, port: " + std::to_string(upstreamPort) + "}]\n"
      "  options_ping_interval_ms: 1000\n"
      "media: {workers: 1}\n");
  test::NotifySocket notify(dir.path() + "/notify.sock");
  const auto daemonStarted = std::chrono::steady_clock::now();
  test::Child d({RTCGATE_BINARY, "--config", config}, dir.path(), {notify.env()});
  const uint16_t admin = test::adminPortFrom(notify.waitFor("READY=1"));
  ASSERT_NE(admin, 0) << d.err();
  const std::string url = "http://127.0.0.1:" + std::to_string(admin);
  const std::string uri = "sip:127.0.0.1:" + std::to_string(upstreamPort) + ";transport=udp";

  // Pings go out every second; the API has no change notification: polled, bounded.
  auto awaitState = [&](const std::string& state) {
    std::string body;
    for (int i = 0; i < 200 && jq(body, "$.upstreams[0].state") != state; ++i) {
      std::this_thread::sleep_for(50ms);
      body = http("GET", admin, "/api/v1/upstreams").body;
    }
    return body;
  };
  std::string up = awaitState("up");
  expectFields(up, {{"$.options_ping_interval_ms", "1000"},
                    {"$.upstreams[0].uri", uri},
                    {"$.upstreams[0].state", "up"},
                    {"$.upstreams[0].last_status", "200"},
                    {"$.upstreams[0].last_phrase", "OK"},
                    {"$.upstreams[0].failures", "0"}});
  size_t entries = 0;  // one server configured, one entry
  for (size_t at = up.find("\"uri\""); at != std::string::npos; at = up.find("\"uri\"", at + 1)) ++entries;
  EXPECT_EQ(entries, 1u) << up;
  const double answeredAgo = std::stod(jq(up, "$.upstreams[0].last_answer_s_ago"));
  EXPECT_GE(answeredAgo, 0.0);
  // An age since an answer to this daemon: never more than the daemon has lived (plus the 0.1 s rounding).
  const auto lived = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - daemonStarted).count(); };
  EXPECT_LE(answeredAgo, lived() + 0.05);
  const auto upTable = rtcgatectl({"--url", url, "upstreams"});
  EXPECT_EQ(upTable.code, 0) << upTable.err;
  EXPECT_EQ(upTable.out.rfind("URI", 0), 0u) << upTable.out;
  EXPECT_NE(upTable.out.find("LAST_ANSWER_S_AGO  FAILURES  FAILURES_TOTAL"), std::string::npos) << upTable.out;
  EXPECT_NE(upTable.out.find(uri + "  up     200 OK  "), std::string::npos) << upTable.out;

  genesys.stop();
  std::string down = awaitState("down");
  ASSERT_EQ(jq(down, "$.upstreams[0].state"), "down") << down << d.err();
  // SIPp's closed port answers the ping with ICMP port unreachable: sofia's transport error, 503.
  expectFields(down, {{"$.upstreams[0].last_status", "503"}, {"$.upstreams[0].last_phrase", "Service Unavailable"}});
  EXPECT_GE(std::stoi(jq(down, "$.upstreams[0].failures")), 1) << down;
  EXPECT_EQ(jq(down, "$.upstreams[0].failures"), jq(down, "$.upstreams[0].failures_total")) << down;
  // The last answer stays where it was: its age only grows.
  const double downAgo = std::stod(jq(down, "$.upstreams[0].last_answer_s_ago"));
  EXPECT_GT(downAgo, answeredAgo) << down;
  EXPECT_LE(downAgo, lived() + 0.05) << down;
  const auto downTable = rtcgatectl({"--url", url, "upstreams"});
  EXPECT_NE(downTable.out.find(uri + "  down   503 Service Unavailable  "), std::string::npos) << downTable.out;
  const auto json = rtcgatectl({"--url", url, "--json", "upstreams"});
  EXPECT_EQ(json.code, 0);
  EXPECT_EQ(jq(json.out, "$.upstreams[0].state"), "down") << json.out;
}

}  // namespace
}  // namespace rtcgate

// SPDX-License-Identifier: Apache-2.0
// load_smoke: the real daemon under rtcgate-load with 3 agents and 3 concurrent calls, once transcoded (Opus ⇄
// PCMU, agents calling out) and once passthrough (PCMU, Genesys calling in). Asserts from the JSON report: every
// call established, none failed, and every RTP packet sent before the BYEs received at the other end, each
// direction. No timing figure is asserted (those go to benchmarks, tools/load/README.md). A third run grants 10 s
// registrations and places an inbound call after they would have expired: only agents that re-REGISTER get it.
#include <json-glib/json-glib.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "component/daemon_harness.h"
#include "support/sipp_process.h"

namespace rtcgate::test {
namespace {

constexpr int kCalls = 3;

// The report as json-glib's tree; members looked up by a dotted path ("calls.attempted").
class Report {
public:
  explicit Report(const std::string& json) : root_(json_from_string(json.c_str(), nullptr)) {}
  ~Report() {
    if (root_ != nullptr) json_node_unref(root_);
  }
  Report(const Report&) = delete;
  Report& operator=(const Report&) = delete;
  bool valid() const { return root_ != nullptr && JSON_NODE_HOLDS_OBJECT(root_); }
  JsonNode* at(const std::string& dotted) const {
    JsonNode* node = root_;
    size_t start = 0;
    while (node != nullptr && start <= dotted.size()) {
      const size_t dot = dotted.find('.', start);
      const std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!JSON_NODE_HOLDS_OBJECT(node)) return nullptr;
      node = json_object_get_member(json_node_get_object(node), key.c_str());
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return node;
  }
  int64_t integer(const std::string& dotted) const {
    JsonNode* n = at(dotted);
    return n != nullptr && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : -1;
  }
  size_t members(const std::string& dotted) const {
    JsonNode* n = at(dotted);
    return n != nullptr && JSON_NODE_HOLDS_OBJECT(n) ? json_object_get_size(json_node_get_object(n)) : 999;
  }

private:
  JsonNode* root_;
};

std::string gatewayConfig(uint16_t genesysPort, uint16_t rtpBase, bool passthrough, const std::string& security) {
  std::string agents;
  for (int i = 1; i <= kCalls; ++i) {
    char line[128];
    std::snprintf(line, sizeof(line), "  - {user: \"agent%04d\", password: load-smoke, dn: \"%04d\"}\n", i, i);
    agents += line;
  }
  return "listeners:\n"
         "  admin: {address: 127.0.0.1, port: 0}\n"
         "  wss: [{address: 127.0.0.1, port: 0}]\n"
         "upstream:\n"
         "  sip_bind: {address: 127.0.0.1, port: 0}\n"
         "  servers: [{host: 127.0.0.1, port: " + std::to_string(genesysPort) + "}]\n"
         "agents:\n" + agents +
         "media: {workers: 1, rtp_address: 127.0.0.1, rtp_port_min: " + std::to_string(rtpBase) +
         ", rtp_port_max: " + std::to_string(rtpBase + 39) + ", ice_port_min: " + std::to_string(rtpBase + 40) +
         ", ice_port_max: " + std::to_string(rtpBase + 79) + "}\n"
         "ice: {candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}\n"
         "security: {max_calls: 10" + security + "}\n"
         "codecs: {passthrough: " + (passthrough ? "true" : "false") + "}\n";
}

struct LoadOutcome {
  int exitCode = -1;
  std::string report, out, err;
  std::string gatewayLog;
};

struct RunShape {
  int calls = kCalls, concurrency = kCalls;
  std::string hold = "4", rate = "50";
  std::string security;  // more of the gateway's `security:` map
};

LoadOutcome runLoad(const std::string& codec, const std::string& direction, bool passthrough,
                    const RunShape& shape = {}) {
  const uint16_t genesysPort = freePort();
  Rtcgate gateway(gatewayConfig(genesysPort, freePortRangeBase(80), passthrough, shape.security));
  EXPECT_NE(gateway.wss, 0) << gateway.err();
  if (gateway.wss == 0) return {};
  TempDir dir;
  const std::string reportPath = dir.path() + "/report.json";
  Child load({RTCGATE_LOAD_BINARY, "--wss", "wss://127.0.0.1:" + std::to_string(gateway.wss) + "/",
              "--genesys-listen", "127.0.0.1:" + std::to_string(genesysPort), "--password", "load-smoke",
              "--agents", std::to_string(shape.concurrency), "--concurrency", std::to_string(shape.concurrency),
              "--calls", std::to_string(shape.calls), "--rate", shape.rate, "--hold", shape.hold, "--duration", "60",
              "--codec", codec,
              "--direction", direction, "--report", reportPath, "--cpu-of", std::to_string(gateway.pid())},
             dir.path());
  LoadOutcome o;
  o.exitCode = load.wait(45s);
  o.report = readFile(reportPath);
  o.out = load.out();
  o.err = load.err();
  EXPECT_TRUE(gateway.running()) << gateway.err();
  o.gatewayLog = gateway.err();
  return o;
}

void expectEveryPacketDelivered(const LoadOutcome& o, const std::string& browserCodec, int calls = kCalls) {
  ASSERT_EQ(o.exitCode, 0) << o.err << o.out;
  Report r(o.report);
  ASSERT_TRUE(r.valid()) << o.report;
  EXPECT_EQ(r.integer("calls.attempted"), calls) << o.report;
  EXPECT_EQ(r.integer("calls.established"), calls) << o.report;
  EXPECT_EQ(r.members("calls.failed"), 0u) << o.report;
  EXPECT_EQ(r.integer("calls.codecs.browser." + browserCodec), calls) << o.report;
  EXPECT_EQ(r.integer("calls.codecs.genesys.pcmu"), calls) << o.report;
  // On loopback nothing is lost: no SIP message went twice either way, and no re-REGISTER failed.
  EXPECT_EQ(r.integer("genesys.retransmissions_sent"), 0) << o.report;
  EXPECT_EQ(r.integer("genesys.requests_repeated_by_gateway"), 0) << o.report;
  EXPECT_EQ(r.members("registrations.refresh_failed"), 0u) << o.report;
  for (const std::string d : {"directions.to_genesys.", "directions.to_browser."}) {
    // Media ran (at 50 packets/s for 4 s a call: some, whatever the machine's speed), and all of it arrived once.
    EXPECT_GT(r.integer(d + "packets_sent"), 0) << d << o.report;
    EXPECT_EQ(r.integer(d + "packets_received"), r.integer(d + "packets_sent")) << d << o.report;
    EXPECT_EQ(r.integer(d + "lost"), 0) << d << o.report;
    EXPECT_EQ(r.integer(d + "duplicates"), 0) << d << o.report;
  }
  EXPECT_EQ(r.integer("unexpected_packets"), 0) << o.report;
}

TEST(LoadSmoke, OpusTranscodedAgentsCallOut) {
  expectEveryPacketDelivered(runLoad("opus", "outbound", false), "opus");
}

TEST(LoadSmoke, PcmuPassthroughGenesysCallsIn) {
  expectEveryPacketDelivered(runLoad("pcmu", "inbound", true), "pcmu");
}

TEST(LoadSmoke, AgentsReRegisterBeforeTheirTenSecondRegistrationExpires) {
  // rtcgate grants 10 s (its smallest maximum). Two agents, one call each, 10.5 s apart (--rate 0.095): agent 2's
  // call (Genesys calling its DN) comes after its first registration would have expired. Without a refresh at half
  // the expiry rtcgate drops the agent and its DN and that call fails.
  RunShape shape;
  shape.calls = 2;
  shape.concurrency = 2;
  shape.hold = "1";
  shape.rate = "0.095";
  shape.security = ", register_min_expires_s: 10, register_max_expires_s: 10";
  const LoadOutcome o = runLoad("pcmu", "inbound", true, shape);
  expectEveryPacketDelivered(o, "pcmu", 2);
  Report r(o.report);
  EXPECT_GE(r.integer("registrations.refreshed"), 2) << o.report;  // each agent at ~5 s
  // rtcgate's registrar sweeps every second: an agent that did not refresh in time is logged as expired.
  EXPECT_EQ(o.gatewayLog.find("removed: expired"), std::string::npos) << o.gatewayLog;
}

}  // namespace
}  // namespace rtcgate::test

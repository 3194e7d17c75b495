// SPDX-License-Identifier: Apache-2.0
// security.max_pending_media_sessions against the real daemon (issue 11): calls whose browser ICE never completes
// fill the cap; the next INVITE, from an agent or from Genesys, gets 503 + Retry-After and is counted; once the
// pending calls have failed at ice.connect_timeout_ms a new call is admitted, and descriptors and ports are back.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "component/daemon_harness.h"
#include "component/udp_peer.h"
#include "support/test_support.h"

namespace rtcgate {
namespace {

using namespace std::chrono_literals;

// The upstream "Genesys" of the agents' calls: rings on every INVITE and never answers; a CANCEL gets 200 and the
// INVITE 487 (RFC 3261 9.2); the DN REGISTER that follows the agent's gets 200. Runs on its own thread.
class RingingUpstream {
public:
  RingingUpstream() : thread_([this] { serve(); }) {}
  ~RingingUpstream() {
    stop_ = true;
    thread_.join();
  }
  RingingUpstream(const RingingUpstream&) = delete;
  RingingUpstream& operator=(const RingingUpstream&) = delete;
  uint16_t port() const { return peer_.port(); }
  int invites() const { return invites_; }
  int cancels() const { return cancels_; }

private:
  // Via, From, To (tagged when `tag`), Call-ID and `cseq` (the request's own CSeq line when empty).
  static std::string echoed(const std::string& request, bool tag, const std::string& cseq = {}) {
    std::string out;
    std::istringstream in(request.substr(0, request.find("\r\n\r\n") + 2));
    for (std::string line; std::getline(in, line);) {
      line = line.substr(0, line.find('\r'));
      if (line.rfind("Via:", 0) == 0 || line.rfind("From:", 0) == 0 || line.rfind("Call-ID:", 0) == 0)
        out += line + "\r\n";
      else if (line.rfind("To:", 0) == 0)
        out += line + (tag && line.find(";tag=") == std::string::npos ? ";tag=ring" : "") + "\r\n";
      else if (line.rfind("CSeq:", 0) == 0)
        out += (cseq.empty() ? line : cseq) + "\r\n";
    }
    return out + "Content-Length: 0\r\n\r\n";
  }
  void reply(const std::string& request, const std::string& text) {
    const size_t via = request.find("Via: SIP/2.0/UDP 127.0.0.1:");
    if (via != std::string::npos) peer_.sendTo(static_cast<uint16_t>(std::stoi(request.substr(via + 27))), text);
  }
  void serve() {
    while (!stop_) {
      const std::string got = peer_.receive(50ms);
      if (got.rfind("INVITE ", 0) == 0) {
        ++invites_;
        reply(got, "SIP/2.0 180 Ringing\r\n" + echoed(got, true));
      } else if (got.rfind("CANCEL ", 0) == 0) {
        ++cancels_;
        reply(got, "SIP/2.0 200 OK\r\n" + echoed(got, false));
        const size_t at = got.find("\r\nCSeq: ");
        const std::string number = got.substr(at + 8, got.find(' ', at + 8) - at - 8);
        reply(got, "SIP/2.0 487 Request Terminated\r\n" + echoed(got, true, "CSeq: " + number + " INVITE"));
      } else if (got.rfind("REGISTER ", 0) == 0 || got.rfind("OPTIONS ", 0) == 0) {
        reply(got, "SIP/2.0 200 OK\r\n" + echoed(got, true));
      }
    }
  }
  test::UdpPeer peer_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> invites_{0};
  std::atomic<int> cancels_{0};
  std::thread thread_;
};

double metricValue(uint16_t adminPort, const std::string& name) {
  std::string body;
  if (test::httpGet(adminPort, "/metrics", &body) != 200) return -1;
  const size_t at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

TEST(PendingMediaCap, TheCallOverTheCapGets503WithRetryAfterOnBothSidesAndCallsAreAdmittedAgainAfterTheDeadline) {
  constexpr int kCap = 3;
  RingingUpstream upstream;
  test::Rtcgate d("listeners:\n  admin: {address: 127.0.0.1, port: 0}\n  wss: [{address: 127.0.0.1, port: 0}]\n"
                  "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n"
                  "  servers: [{host: 127.0.0.1, port: " + std::to_string(upstream.port()) + "}]\n"
                  "agents: [{user: \"1001\", password: demo-1001, dn: \"1001\"}]\n"
                  "security: {allowed_origins: [\"https://app.example\"], max_calls: 10, max_calls_per_agent: 10,"
                  " max_pending_media_sessions: " + std::to_string(kCap) + "}\n"
                  "ice: {connect_timeout_ms: 2000}\n"
                  "media: {workers: 1}\n");
  ASSERT_NE(d.wss, 0) << d.err();
  // The baseline once the control loop has answered a request: READY=1 arrives before the daemon has closed the
  // socket it sent it on.
  test::UdpPeer options(d.sip);
  options.send(test::optionsRequest(options.port(), 1));
  std::string answer;
  for (int i = 0; i < 50 && test::statusOf(answer) < 200; ++i) answer = options.receive(100ms);
  ASSERT_EQ(test::statusOf(answer), 200) << answer;
  const auto baseline = test::footprintOf(d.pid());

  test::TempDir jsDir;
  test::Child js({RTCGATE_NODE, RTCGATE_SOURCE_DIR "/tests/js/signaling/sip_clients.mjs", "pending-cap",
                  std::to_string(d.wss), "https://app.example", std::to_string(kCap), std::to_string(d.sip)},
                 jsDir.path());
  ASSERT_EQ(js.wait(40s), 0) << js.out() << js.err() << d.err();
  const std::string out = js.out();
  for (const std::string line : {"open=open", "register=200", "admitted=3", "over_cap=503", "over_cap_retry_after=5",
                                  "upstream_over_cap=503", "upstream_over_cap_retry_after=5",
                                  // ICE failed at its deadline: the browser's INVITE gets 488, Genesys a CANCEL.
                                  "pending_finals=488,488,488", "after=admitted", "after_final=488"})
    EXPECT_NE(out.find("RESULT " + line + "\n"), std::string::npos) << line << "\n" << out << js.err();
  EXPECT_EQ(metricValue(d.admin, "rtcgate_calls_refused_pending_total"), 2.0);
  EXPECT_EQ(metricValue(d.admin, "rtcgate_calls_refused_total"), 0.0);
  // The three pending calls and the one after reached the upstream and were cancelled there; the refused ones never.
  EXPECT_EQ(upstream.invites(), kCap + 1);
  EXPECT_EQ(upstream.cancels(), kCap + 1);
  EXPECT_EQ(metricValue(d.admin, "rtcgate_calls_active"), 0.0);
  // Descriptors and ports only: under ASan freed memory stays in quarantine (RSS is left out with a wide bound).
  test::expectBackToBaseline(d.pid(), baseline, 64 * 1024);
}

}  // namespace
}  // namespace rtcgate

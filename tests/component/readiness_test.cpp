// SPDX-License-Identifier: Apache-2.0
// /readyz of the real daemon (issue 13): not ready, with one line per reason, while the DN registrations fail at the
// registrar (SIPp answering 403) or no upstream server answers OPTIONS; ready once they do.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "component/daemon_harness.h"
#include "component/daemon_probes.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate::test {
namespace {

using namespace std::chrono_literals;

struct Answer {
  int status = 0;
  std::string body;
};

Answer readyz(uint16_t adminPort) {
  Answer a;
  a.status = httpGet(adminPort, "/readyz", &a.body);
  return a;
}

// Polls /readyz until it answers `status` with `body`; bounded. The last answer, for the failure message.
Answer awaitReadyz(uint16_t adminPort, int status, const std::string& body, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Answer a = readyz(adminPort);
  while ((a.status != status || a.body != body) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // /readyz has no change notification
    a = readyz(adminPort);
  }
  return a;
}

std::vector<std::string> sippUas(uint16_t port) {
  return {"-i", "127.0.0.1", "-p", std::to_string(port), "-mp", std::to_string(freeMediaPort()), "-timeout", "30s",
          "-bind_local"};
}

TEST(Readiness, ReadyzNamesFailedDnRegistrationsThenTurnsReadyWhenTheRegistrarAccepts) {
  const uint16_t upstreamPort = freePort();
  TempDir sippDir;
  auto refusing = std::make_unique<SippProcess>(sippDir.path(), scenario("register_answer_403.xml"), sippUas(upstreamPort));
  ASSERT_TRUE(refusing->started()) << "sipp could not be started (is sip-tester installed?)";
  // Two DNs that should be registered (always_registered), OPTIONS pings off (that condition is left out). The
  // first retry waits 2 s: the window in which the 403 is the last word.
  Rtcgate d("listeners:\n  admin: {address: 127.0.0.1, port: 0}\n"
            "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n"
            "  servers: [{host: 127.0.0.1, port: " + std::to_string(upstreamPort) + "}]\n"
            "  register_retry_min_ms: 2000\n  register_retry_max_ms: 2000\n"
            "agents:\n"
            "  - {user: \"1001\", password: demo-1001, dn: \"1001\", always_registered: true}\n"
            "  - {user: \"1002\", password: demo-1002, dn: \"1002\", always_registered: true}\n"
            "media: {workers: 1}\n");
  ASSERT_NE(d.admin, 0) << d.err();

  auto notReady = awaitReadyz(d.admin, 503,
                              "not ready\nDN registrations: 0 of 2 registered (2 failed, last failure status 403)\n",
                              10s);
  EXPECT_EQ(notReady.status, 503) << notReady.body << d.err();
  EXPECT_EQ(notReady.body, "not ready\nDN registrations: 0 of 2 registered (2 failed, last failure status 403)\n")
      << d.err();
  std::string metrics;
  ASSERT_EQ(httpGet(d.admin, "/metrics", &metrics), 200);
  EXPECT_NE(metrics.find("rtcgate_dn_registrations{state=\"retry-wait\"} 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("rtcgate_dn_registrations{state=\"registered\"} 0\n"), std::string::npos) << metrics;

  // The registrar changes its mind: the next attempt of each DN gets 200.
  refusing->stop();
  refusing.reset();
  SippProcess accepting(sippDir.path(), scenario("register_answer_200.xml"), sippUas(upstreamPort));
  ASSERT_TRUE(accepting.started());
  EXPECT_TRUE(awaitMetric(d.admin, "rtcgate_dn_registrations{state=\"registered\"}", 2, 15s)) << d.err();
  EXPECT_EQ(metricValue(d.admin, "rtcgate_dn_registrations{state=\"retry-wait\"}"), 0);
  auto ready = readyz(d.admin);
  EXPECT_EQ(ready.status, 200) << ready.body << d.err();
  EXPECT_EQ(ready.body, "ready\n");
}

TEST(Readiness, ReadyzWaitsForAnUpstreamServerThatAnswersOptions) {
  const uint16_t upstreamPort = freePort();
  Rtcgate d("listeners:\n  admin: {address: 127.0.0.1, port: 0}\n"
            "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n"
            "  servers: [{host: 127.0.0.1, port: " + std::to_string(upstreamPort) + "}]\n"
            "  options_ping_interval_ms: 1000\n"
            "media: {workers: 1}\n");
  ASSERT_NE(d.admin, 0) << d.err();
  // Nobody listens yet: unknown at first, down once a ping went unanswered; either way not ready, and why.
  auto first = readyz(d.admin);
  EXPECT_EQ(first.status, 503) << first.body;
  EXPECT_EQ(first.body.rfind("not ready\nno upstream server answers OPTIONS (1 configured, ", 0), 0u) << first.body;

  TempDir sippDir;
  SippProcess upstream(sippDir.path(), scenario("options_ping_answered.xml"), sippUas(upstreamPort));
  ASSERT_TRUE(upstream.started()) << "sipp could not be started (is sip-tester installed?)";
  auto ready = awaitReadyz(d.admin, 200, "ready\n", 15s);
  EXPECT_EQ(ready.status, 200) << ready.body << d.err();
  EXPECT_EQ(ready.body, "ready\n");
}

}  // namespace
}  // namespace rtcgate::test

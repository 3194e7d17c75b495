// SPDX-License-Identifier: Apache-2.0
// systemd's watchdog (WatchdogSec= in config/rtcgate.service.in): the real daemon, a notify socket playing systemd.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "component/daemon_harness.h"
#include "support/test_support.h"

namespace rtcgate {
namespace {

using namespace std::chrono_literals;
using test::Child;
using test::NotifySocket;

const char* kConfig = R"(listeners:
  admin: {address: 127.0.0.1, port: 0}
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: 5999}]
media: {workers: 1}
)";

// Every message up to and including the first that contains `last` (bounded by waitFor's timeout per message).
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

size_t countOf(const std::vector<std::string>& messages, const std::string& what) {
  size_t n = 0;
  for (auto& m : messages) n += m == what ? 1 : 0;
  return n;
}

// WATCHDOG_USEC=2000000: a ping every second, so two pings arrive within one watchdog period of READY=1.
TEST(SystemdWatchdog, PingsAtHalfTheWatchdogPeriodAfterReady) {
  test::TempDir dir;
  NotifySocket notify(dir.path() + "/notify.sock");
  Child d({RTCGATE_BINARY, "--config", dir.write("rtcgate.yaml", kConfig)}, dir.path(),
          {notify.env(), "WATCHDOG_USEC=2000000"});
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
// A period of 20 ms would otherwise have sent several pings before STOPPING=1.
TEST(SystemdWatchdog, StaysQuietWhenWatchdogPidIsAnotherProcess) {
  test::TempDir dir;
  NotifySocket notify(dir.path() + "/notify.sock");
  Child d({RTCGATE_BINARY, "--config", dir.write("rtcgate.yaml", kConfig)}, dir.path(),
          {notify.env(), "WATCHDOG_USEC=40000", "WATCHDOG_PID=" + std::to_string(::getpid())});
  ASSERT_FALSE(notify.waitFor("READY=1").empty()) << d.err();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  auto rest = messagesUntil(notify, "STOPPING=1");
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back(), "STOPPING=1");
  EXPECT_EQ(countOf(rest, "WATCHDOG=1"), 0u);
  EXPECT_EQ(d.wait(8s), 0) << d.err();
  EXPECT_EQ(d.err().find("systemd watchdog:"), std::string::npos) << d.err();
}

}  // namespace
}  // namespace rtcgate

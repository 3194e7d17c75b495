// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/sd_notify.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

namespace rtcgate {
namespace {

// Sets or clears WATCHDOG_USEC/WATCHDOG_PID for one test and restores the process's state afterwards.
class WatchdogEnv : public ::testing::Test {
protected:
  void TearDown() override {
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
  static void set(const char* usec, const char* pid) {
    if (usec != nullptr) ::setenv("WATCHDOG_USEC", usec, 1);
    if (pid != nullptr) ::setenv("WATCHDOG_PID", pid, 1);
  }
};

TEST_F(WatchdogEnv, HalfOfWatchdogUsec) {
  set("20000000", nullptr);
  EXPECT_EQ(sdWatchdogInterval().count(), 10000000);
  set(nullptr, std::to_string(::getpid()).c_str());
  EXPECT_EQ(sdWatchdogInterval().count(), 10000000);
}

TEST_F(WatchdogEnv, OffWithoutUsecOrForAnotherPid) {
  EXPECT_EQ(sdWatchdogInterval().count(), 0);
  set("20000000", std::to_string(::getpid() + 1).c_str());
  EXPECT_EQ(sdWatchdogInterval().count(), 0);
}

TEST_F(WatchdogEnv, OffOnValuesThatDoNotParse) {
  for (const char* bad : {"", "abc", "2000000x", "-5", " 2000000", "0"}) {
    set(bad, nullptr);
    EXPECT_EQ(sdWatchdogInterval().count(), 0) << "'" << bad << "'";
  }
  set("2000000", "12ab");
  EXPECT_EQ(sdWatchdogInterval().count(), 0);
}

}  // namespace
}  // namespace rtcgate

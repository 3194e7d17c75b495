// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/config/config_loader.h"
#include "rtcgate/config/config_store.h"
#include "support/test_support.h"

namespace rtcgate::config {
namespace {

TEST(ConfigStore, ReloadSwapsValidFileAndNotifies) {
  test::TempDir dir;
  auto path = dir.write("c.yaml", "security: {max_calls: 5}\n");
  ConfigStore store(std::make_shared<const Config>(loadFromFile(path)), path);
  ConfigPtr seen;
  store.onChange([&](const ConfigPtr& c) { seen = c; });
  dir.write("c.yaml", "security: {max_calls: 7}\n");
  auto r = store.reload();
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(store.current()->security.maxCalls, 7u);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->security.maxCalls, 7u);
}

TEST(ConfigStore, InvalidFileKeepsTheRunningConfig) {
  test::TempDir dir;
  auto path = dir.write("c.yaml", "security: {max_calls: 5}\n");
  ConfigStore store(std::make_shared<const Config>(loadFromFile(path)), path);
  auto before = store.current();
  bool notified = false;
  store.onChange([&](const ConfigPtr&) { notified = true; });
  dir.write("c.yaml", "security: {max_calls: -1}\n");
  auto r = store.reload();
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.error.find("c.yaml:1:23: security.max_calls"), std::string::npos) << r.error;
  EXPECT_EQ(store.current(), before);
  EXPECT_EQ(store.current()->security.maxCalls, 5u);
  EXPECT_FALSE(notified);
  EXPECT_EQ(store.reloadFailures(), 1u);
}

TEST(ConfigStore, ReportsChangesThatNeedARestart) {
  Config a;
  Config b = a;
  b.media.rtpPortMin = 21000;
  b.listeners.admin.bind.port = 9999;
  b.security.maxCalls = 3;  // reloadable: not reported
  a.listeners.wss.emplace_back();
  b.listeners.wss.push_back(a.listeners.wss.back());
  b.listeners.wss.back().webRoot = "/srv/softphone";  // reloadable: not reported
  auto keys = restartOnlyChanges(a, b);
  EXPECT_EQ(keys, (std::vector<std::string>{"listeners", "media.rtp_port_min/max"}));
  b.listeners.admin = a.listeners.admin;
  EXPECT_EQ(restartOnlyChanges(a, b), (std::vector<std::string>{"media.rtp_port_min/max"}));  // web_root alone
}

}  // namespace
}  // namespace rtcgate::config

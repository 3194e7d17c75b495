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
  EXPECT_EQ(keys, (std::vector<std::string>{"listeners.admin", "media.rtp_port_min/max"}));
}

TEST(ConfigStore, ARestartOnlyChangeKeepsItsRunningValueAndTheRestApplies) {
  Config a;
  a.listeners.wss.push_back(WssListener{{"127.0.0.1", 8443}, "/old.crt", "/old.key"});
  ConfigStore store(std::make_shared<const Config>(a), "");
  Config b = a;
  b.media.rtpPortMin = 21000;
  b.media.workers = 7;
  b.listeners.wss[0].bind.port = 9443;
  b.listeners.wss[0].tlsCertFile = "/new.crt";  // [reload]: taken although the listener's port change is not
  b.listeners.wss[0].tlsKeyFile = "/new.key";
  b.security.maxCalls = 3;
  auto r = store.apply(b);
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.restartOnly, (std::vector<std::string>{"listeners.wss (address, port, count)", "media.workers",
                                                     "media.rtp_port_min/max"}));
  const auto& now = *store.current();
  EXPECT_EQ(now.media.rtpPortMin, 20000);
  EXPECT_EQ(now.media.workers, a.media.workers);
  EXPECT_EQ(now.listeners.wss.at(0).bind.port, 8443);
  EXPECT_EQ(now.listeners.wss.at(0).tlsCertFile, "/new.crt");
  EXPECT_EQ(now.security.maxCalls, 3u);
  EXPECT_EQ(restartOnlyChanges(a, now), std::vector<std::string>{});  // only [reload] keys moved
}

// Issue 13: the agents file is judged on its own. On SIGHUP a bad one keeps the agents it gave before while the
// YAML's changes apply; on its own change (reloadAgentsFile) a bad one changes nothing, a good one only the agents.
TEST(ConfigStore, ABadAgentsFileKeepsItsAgentsAndDoesNotHoldBackTheYaml) {
  test::TempDir dir;
  dir.write("agents.csv", "user,password,dn\na1,p1,7001\na2,p2,7002\n");
  auto path = dir.write("c.yaml", "agents_file: agents.csv\nsecurity: {max_calls: 5}\n");
  ConfigStore store(std::make_shared<const Config>(loadFromFile(path)), path);
  ASSERT_EQ(store.current()->agents.size(), 2u);

  dir.write("agents.csv", "user,password,dn\na1,,7001\n");
  dir.write("c.yaml", "agents_file: agents.csv\nsecurity: {max_calls: 7}\n");
  auto r = store.reload();
  EXPECT_TRUE(r.applied) << r.error;
  EXPECT_EQ(store.current()->security.maxCalls, 7u);
  EXPECT_NE(r.agentsFileError.find("agents.csv:2: agent 'a1': exactly one of password and ha1"), std::string::npos)
      << r.agentsFileError;
  ASSERT_EQ(store.current()->agents.size(), 2u);
  EXPECT_EQ(store.current()->agents[1].user, "a2");

  auto before = store.current();
  auto f = store.reloadAgentsFile();
  EXPECT_FALSE(f.applied);
  EXPECT_EQ(store.current(), before);

  dir.write("agents.csv", "user,password,dn\na3,p3,7003\n");
  f = store.reloadAgentsFile();
  EXPECT_TRUE(f.applied) << f.error;
  ASSERT_EQ(store.current()->agents.size(), 1u);
  EXPECT_EQ(store.current()->agents[0].user, "a3");
  EXPECT_EQ(store.current()->security.maxCalls, 7u);

  // The agents kept from a refused file may not clash with a new YAML list: then nothing is applied.
  dir.write("agents.csv", "garbage\n");
  dir.write("c.yaml", "agents_file: agents.csv\nagents: [{user: a3, password: p, dn: \"9\"}]\n");
  r = store.reload();
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.error.find("agent 'a3' kept from before clashes with the YAML list"), std::string::npos) << r.error;
  EXPECT_EQ(store.current()->security.maxCalls, 7u);
}

}  // namespace
}  // namespace rtcgate::config

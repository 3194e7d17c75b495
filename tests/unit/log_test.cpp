// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <fstream>
#include <sstream>

#include "rtcgate/core/log.h"
#include "rtcgate/core/secret.h"
#include "support/test_support.h"

namespace rtcgate::log {
namespace {

// The log sinks are fixed at the first init(), so this test process logs to one file for all cases.
class LogTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    Settings s;
    s.file = dir_->path() + "/log.txt";
    s.level = spdlog::level::info;
    s.componentLevels[Component::Sip] = spdlog::level::debug;
    // Other suites in this binary may have logged first and fixed the sinks: take them over.
    reinitForTest(s);
  }
  static void TearDownTestSuite() {
    reinitForTest(Settings{});
    delete dir_;
    dir_ = nullptr;
  }
  static std::string contents() {
    for (auto c : {Component::Core, Component::Sip, Component::Session}) get(c)->flush();
    std::ifstream in(dir_->path() + "/log.txt");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static test::TempDir* dir_;
};
test::TempDir* LogTest::dir_ = nullptr;

// The WSS and SIP layers open scopes with the Call-ID of the message they handle; once a session has aliased both
// legs' Call-IDs, their lines carry the session's id.
TEST_F(LogTest, SipCallIdsOfBothLegsLogAsTheCallsOwnId) {
  aliasCallId("browser-dialog-id@x", "c0001");
  aliasCallId("genesys-dialog-id@y", "c0001");
  {
    CallScope scope("browser-dialog-id@x");
    get(Component::Session)->info("from the WSS layer");
  }
  {
    CallScope scope("genesys-dialog-id@y");
    get(Component::Sip)->info("from the SIP layer");
  }
  unaliasCallId("browser-dialog-id@x");
  unaliasCallId("genesys-dialog-id@y");
  {
    CallScope scope("browser-dialog-id@x");
    get(Component::Session)->info("after the call");
  }
  auto text = contents();
  EXPECT_NE(text.find("call=c0001 from the WSS layer"), std::string::npos) << text;
  EXPECT_NE(text.find("call=c0001 from the SIP layer"), std::string::npos) << text;
  EXPECT_NE(text.find("call=browser-dialog-id@x after the call"), std::string::npos) << text;
}

TEST(LogEscaped, ControlBytesNonAsciiAndBackslashAreHexAndLongTextIsCut) {
  EXPECT_EQ(escaped("abc@host-1.example"), "abc@host-1.example");
  EXPECT_EQ(escaped("a\r\nforged line"), "a\\x0d\\x0aforged line");
  EXPECT_EQ(escaped("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(escaped("back\\slash"), "back\\x5cslash");
  EXPECT_EQ(escaped("\xc3\xa9"), "\\xc3\\xa9");
  EXPECT_EQ(escaped(std::string(300, 'x'), 10), "xxxxxxxxxx...");
}

TEST_F(LogTest, CallScopeTagsEveryLineWhileOpen) {
  {
    CallScope scope("c-42");
    get(Component::Session)->info("answered");
    {
      CallScope inner("c-43");
      get(Component::Session)->info("nested");
    }
    get(Component::Session)->info("back");
  }
  get(Component::Session)->info("outside");
  auto text = contents();
  EXPECT_NE(text.find("[session] call=c-42 answered"), std::string::npos) << text;
  EXPECT_NE(text.find("[session] call=c-43 nested"), std::string::npos) << text;
  EXPECT_NE(text.find("[session] call=c-42 back"), std::string::npos) << text;
  EXPECT_NE(text.find("[session] outside"), std::string::npos) << text;
}

// Issue 11: a folded Call-ID forged a log line, and ESC bytes from a Request-URI, X-Genesys-CallUUID or an Origin
// reached the text log raw. Whatever a call site forgets, the line stays one line without control bytes.
TEST_F(LogTest, ControlBytesFromTheNetworkNeverReachTheTextLog) {
  {
    CallScope scope("abc\r\n2026-01-01T00:00:00.000 info [1] [sip] forged");
    get(Component::Sip)->info("INVITE to DN '{}' (CallUUID {})", "1001\x1b[2J", "X\nY");
  }
  auto text = contents();
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find("\n2026-01-01T00:00:00.000 info [1] [sip] forged"), std::string::npos) << text;
  EXPECT_NE(text.find("call=abc\\x0d\\x0a2026-01-01T00:00:00.000 info [1] [sip] forged INVITE to DN '1001\\x1b[2J' "
                      "(CallUUID X\\x0aY)"),
            std::string::npos)
      << text;
}

TEST_F(LogTest, ComponentLevelsApply) {
  get(Component::Sip)->debug("sip-debug-visible");
  get(Component::Core)->debug("core-debug-hidden");
  auto text = contents();
  EXPECT_NE(text.find("sip-debug-visible"), std::string::npos);
  EXPECT_EQ(text.find("core-debug-hidden"), std::string::npos);
}

TEST_F(LogTest, SecretsAreRedactedInLogLines) {
  Secret pw("hunter2");
  get(Component::Core)->info("agent password is {}", pw);
  auto text = contents();
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_NE(text.find("agent password is <redacted>"), std::string::npos);
}

TEST(LogNames, ParseRoundTrips) {
  for (int i = 0; i < static_cast<int>(Component::Count); ++i) {
    auto c = static_cast<Component>(i);
    EXPECT_EQ(parseComponent(name(c)), c);
  }
  EXPECT_FALSE(parseComponent("nope"));
  EXPECT_EQ(parseLevel("warn"), spdlog::level::warn);
  EXPECT_FALSE(parseLevel("loud"));
}

}  // namespace
}  // namespace rtcgate::log

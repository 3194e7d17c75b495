// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/session/agent_presence.h"

namespace rtcgate::session {
namespace {

signaling::Registration binding(const std::string& user, const std::string& dn, signaling::ConnectionId conn,
                                const std::string& contact) {
  signaling::Registration r;
  r.user = user;
  r.dn = dn;
  r.connection = conn;
  r.contactUri = contact;
  r.expiresS = 600;
  r.expiresAt = std::chrono::steady_clock::now() + std::chrono::seconds(600);
  return r;
}

TEST(AgentPresence, DnFollowsTheFirstAndLastBrowserBinding) {
  EventLoop loop("control");
  loop.adoptCurrentThread();
  signaling::Registrar registrar(loop);
  std::vector<std::string> calls;
  AgentPresence presence(
      registrar, [&](const std::string& dn) { calls.push_back("reg " + dn); },
      [&](const std::string& dn) { calls.push_back("unreg " + dn); });

  registrar.bind(binding("alice", "1001", 1, "sip:a@x.invalid;transport=ws"));
  registrar.bind(binding("alice", "1001", 2, "sip:b@y.invalid;transport=ws"));  // a second tab
  registrar.bind(binding("alice", "1001", 1, "sip:a@x.invalid;transport=ws"));  // a refresh
  EXPECT_EQ(calls, (std::vector<std::string>{"reg 1001"}));
  EXPECT_TRUE(presence.present("1001"));

  registrar.connectionClosed(1);
  EXPECT_EQ(calls.size(), 1u);  // the other tab keeps the DN registered
  registrar.unbind("alice", "sip:b@y.invalid;transport=ws");
  EXPECT_EQ(calls, (std::vector<std::string>{"reg 1001", "unreg 1001"}));
  EXPECT_FALSE(presence.present("1001"));
}

// Issue 10: a browser that reconnects before its old connection is seen closed replaces its binding: the DN must
// not be unregistered and registered again upstream.
TEST(AgentPresence, ReplacedBindingDoesNotFlapTheDn) {
  EventLoop loop("control");
  loop.adoptCurrentThread();
  signaling::Registrar registrar(loop);
  std::vector<std::string> calls;
  AgentPresence presence(
      registrar, [&](const std::string& dn) { calls.push_back("reg " + dn); },
      [&](const std::string& dn) { calls.push_back("unreg " + dn); });
  registrar.bind(binding("alice", "1001", 1, "sip:a@x.invalid;transport=ws"));
  registrar.bind(binding("alice", "1001", 2, "sip:a@x.invalid;transport=ws"));  // same UA, new connection
  EXPECT_EQ(calls, (std::vector<std::string>{"reg 1001"}));
  registrar.connectionClosed(1);  // the old socket is finally seen closed: no binding of it is left
  registrar.connectionClosed(2);
  EXPECT_EQ(calls, (std::vector<std::string>{"reg 1001", "unreg 1001"}));
}

// Issue 10: while a call waits for the agent's browser to reconnect, the DN stays registered upstream.
TEST(AgentPresence, DnStaysRegisteredWhileACallWaitsForTheBrowser) {
  EventLoop loop("control");
  loop.adoptCurrentThread();
  signaling::Registrar registrar(loop);
  std::vector<std::string> calls;
  AgentPresence presence(
      registrar, [&](const std::string& dn) { calls.push_back("reg " + dn); },
      [&](const std::string& dn) { calls.push_back("unreg " + dn); });

  registrar.bind(binding("alice", "1001", 1, "sip:a@x.invalid;transport=ws"));
  presence.keepForReconnect("alice", true);
  registrar.connectionClosed(1);
  EXPECT_EQ(calls, (std::vector<std::string>{"reg 1001"}));
  EXPECT_TRUE(presence.present("1001"));
  // The browser is back: no second REGISTER upstream, and the binding alone keeps the DN.
  registrar.bind(binding("alice", "1001", 2, "sip:a@x.invalid;transport=ws"));
  presence.keepForReconnect("alice", false);
  EXPECT_EQ(calls, (std::vector<std::string>{"reg 1001"}));
  // It goes again and the call ends without it (grace over): now the DN goes.
  presence.keepForReconnect("alice", true);
  registrar.connectionClosed(2);
  EXPECT_EQ(calls.size(), 1u);
  presence.keepForReconnect("alice", false);
  EXPECT_EQ(calls, (std::vector<std::string>{"reg 1001", "unreg 1001"}));
  EXPECT_FALSE(presence.present("1001"));
  presence.keepForReconnect("bob", true);  // never registered: nothing to keep
  presence.keepForReconnect("bob", false);
  EXPECT_EQ(calls.size(), 2u);
}

}  // namespace
}  // namespace rtcgate::session

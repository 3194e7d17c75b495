// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/session/call_state_machine.h"

namespace rtcgate::session {
namespace {

using S = CallState;
using E = CallEvent;
using A = CallAction;

struct Row {
  S from;
  E event;
  S to;
  std::vector<A> actions;
};

// The whole table of transitions that do something; every other (state, event) pair must be ignored.
const std::vector<Row> kTable = {
    {S::Idle, E::CallerInvite, S::Routing, {A::StartCallee}},
    {S::Idle, E::Rejected, S::Closed, {A::RejectCaller, A::ReleaseMedia}},
    {S::Routing, E::Rejected, S::Closed, {A::RejectCaller, A::ReleaseMedia}},
    {S::Early, E::Rejected, S::Closed, {A::RejectCaller, A::ReleaseMedia}},
    {S::Routing, E::CalleeProvisional, S::Early, {A::RelayProvisional}},
    {S::Early, E::CalleeProvisional, S::Early, {A::RelayProvisional}},
    {S::Routing, E::CalleeEarlyMedia, S::Early, {A::RelayEarlyMedia}},
    {S::Early, E::CalleeEarlyMedia, S::Early, {A::RelayEarlyMedia}},
    {S::Routing, E::CalleeAnswered, S::Connected, {A::AnswerCaller}},
    {S::Early, E::CalleeAnswered, S::Connected, {A::AnswerCaller}},
    {S::Terminating, E::CalleeAnswered, S::Terminating, {A::ByeCallee}},
    {S::Routing, E::CalleeFailed, S::Closed, {A::RejectCaller, A::ReleaseMedia}},
    {S::Early, E::CalleeFailed, S::Closed, {A::RejectCaller, A::ReleaseMedia}},
    {S::Routing, E::CallerCancel, S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}},
    {S::Early, E::CallerCancel, S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}},
    {S::Connected, E::CallerCancel, S::Terminating, {A::ByeCallee, A::ReleaseMedia}},
    {S::Routing, E::CallerTransportLost, S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}},
    {S::Early, E::CallerTransportLost, S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}},
    {S::Connected, E::CallerTransportLost, S::Terminating, {A::ByeCallee, A::ReleaseMedia}},
    {S::Connected, E::CallerBye, S::Terminating, {A::ByeCallee, A::ReleaseMedia}},
    {S::Connected, E::CalleeBye, S::Terminating, {A::ByeCaller, A::ReleaseMedia}},
    {S::Routing, E::CalleeTransportLost, S::Terminating, {A::RejectCaller, A::ReleaseMedia}},
    {S::Early, E::CalleeTransportLost, S::Terminating, {A::RejectCaller, A::ReleaseMedia}},
    {S::Connected, E::CalleeTransportLost, S::Terminating, {A::ByeCaller, A::ReleaseMedia}},
    {S::Routing, E::MediaFailed, S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}},
    {S::Early, E::MediaFailed, S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}},
    {S::Connected, E::MediaFailed, S::Terminating, {A::ByeCaller, A::ByeCallee, A::ReleaseMedia}},
    {S::Routing, E::BrowserMediaClosed, S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}},
    {S::Early, E::BrowserMediaClosed, S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}},
    {S::Connected, E::BrowserMediaClosed, S::Terminating, {A::ByeCaller, A::ByeCallee, A::ReleaseMedia}},
    {S::Terminating, E::LegsClosed, S::Closed, {}},
};

TEST(CallStateMachine, EveryStateEventPairMatchesTheTable) {
  for (int s = 0; s <= static_cast<int>(S::Closed); ++s) {
    for (int e = 0; e <= static_cast<int>(E::LegsClosed); ++e) {
      auto state = static_cast<S>(s);
      auto event = static_cast<E>(e);
      auto t = decide(state, event);
      const Row* row = nullptr;
      for (auto& r : kTable)
        if (r.from == state && r.event == event) row = &r;
      SCOPED_TRACE(std::string(stateName(state)) + " + " + std::string(eventName(event)));
      if (row == nullptr) {
        EXPECT_TRUE(t.ignored);
        EXPECT_EQ(t.next, state);
        EXPECT_TRUE(t.actions.empty());
      } else {
        EXPECT_FALSE(t.ignored);
        EXPECT_EQ(t.next, row->to);
        EXPECT_EQ(t.actions, row->actions);
      }
    }
  }
}

TEST(CallStateMachine, ClosedIgnoresEverything) {
  for (int e = 0; e <= static_cast<int>(E::LegsClosed); ++e) EXPECT_TRUE(decide(S::Closed, static_cast<E>(e)).ignored);
}

TEST(CallStateMachine, ACallThatEndsAlwaysReleasesMedia) {
  // Any path out of a live state ends in Terminating or Closed and releases media on the way.
  for (auto s : {S::Routing, S::Early, S::Connected})
    for (auto e : {E::CallerCancel, E::CallerBye, E::CalleeBye, E::CallerTransportLost, E::CalleeTransportLost,
                   E::MediaFailed, E::BrowserMediaClosed, E::CalleeFailed, E::Rejected}) {
      auto t = decide(s, e);
      if (t.ignored) continue;
      EXPECT_NE(std::find(t.actions.begin(), t.actions.end(), A::ReleaseMedia), t.actions.end())
          << stateName(s) << " + " << eventName(e);
    }
}

TEST(FailureMapping, ChallengesRedirectsAndServerErrorsAreNotHandedThrough) {
  EXPECT_EQ(mapFailureCode(486), 486);
  EXPECT_EQ(mapFailureCode(404), 404);
  EXPECT_EQ(mapFailureCode(480), 480);
  EXPECT_EQ(mapFailureCode(487), 487);
  EXPECT_EQ(mapFailureCode(603), 603);
  EXPECT_EQ(mapFailureCode(401), 403);
  EXPECT_EQ(mapFailureCode(407), 403);
  EXPECT_EQ(mapFailureCode(302), 480);
  EXPECT_EQ(mapFailureCode(500), 502);
  EXPECT_EQ(mapFailureCode(503), 503);
  EXPECT_EQ(mapFailureCode(504), 504);
  EXPECT_EQ(mapFailureCode(200), 500);  // not a failure: a bug upstream of this call
}

}  // namespace
}  // namespace rtcgate::session

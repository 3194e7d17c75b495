// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace rtcgate::session {

// The B2BUA call state of one Session, independent of which side called: the caller leg is the browser for
// agent-originated calls and Genesys for calls to an agent's DN; the callee leg is the other one.
// Pure: it decides transitions and the actions the Session must carry out, and does no I/O (unit-tested
// transition table). Thread: control.
enum class CallState { Idle, Routing, Early, Connected, Terminating, Closed };

enum class CallEvent {
  CallerInvite,         // initial INVITE from the caller leg
  Rejected,             // admission refused or no route (code set by the Session)
  CalleeProvisional,    // 180 without SDP
  CalleeEarlyMedia,     // 183 (or 18x) with SDP
  CalleeAnswered,       // 2xx
  CalleeFailed,         // 3xx-6xx final response
  CallerCancel,         // CANCEL from the caller before an answer
  CallerBye,
  CalleeBye,
  CallerTransportLost,  // browser WebSocket closed, or Genesys unreachable
  CalleeTransportLost,
  MediaFailed,          // ICE/DTLS failure, consent lost, RTP timeout
  BrowserMediaClosed,   // the browser closed DTLS (close_notify) and sent no BYE/CANCEL within the grace period:
                        // a normal hangup, torn down like MediaFailed but not counted as a failure
  LegsClosed,           // every leg has finished its own teardown
};

enum class CallAction {
  StartCallee,          // create the callee leg and send its INVITE
  RejectCaller,         // final error response to the caller (mapped code)
  RelayProvisional,     // 180 to the caller
  RelayEarlyMedia,      // 183 with our own SDP to the caller
  AnswerCaller,         // 200 with our own SDP to the caller
  CancelCallee,
  ByeCaller,
  ByeCallee,
  ReleaseMedia,
};

struct Transition {
  CallState next;
  std::vector<CallAction> actions;
  bool ignored = false;  // the event does not apply in this state (late, duplicate or racing): nothing happens
};

std::string_view stateName(CallState s);
std::string_view eventName(CallEvent e);
std::string_view actionName(CallAction a);

Transition decide(CallState state, CallEvent event);

// Final-response mapping between legs (RFC 3261 §16.7 step 6 in spirit): a challenge of one leg is never handed
// to the other (401/407 become 403), redirects are not followed (3xx become 480), and server errors of the far side
// become 502/503/504 so the near side can tell the gateway is fine and the far end is not.
uint16_t mapFailureCode(uint16_t farEndCode);

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/call_state_machine.h"

namespace rtcgate::session {

std::string_view stateName(CallState s) {
  switch (s) {
    case CallState::Idle: return "idle";
    case CallState::Routing: return "routing";
    case CallState::Early: return "early";
    case CallState::Connected: return "connected";
    case CallState::Terminating: return "terminating";
    case CallState::Closed: return "closed";
  }
  return "?";
}

std::string_view eventName(CallEvent e) {
  switch (e) {
    case CallEvent::CallerInvite: return "caller-invite";
    case CallEvent::Rejected: return "rejected";
    case CallEvent::CalleeProvisional: return "callee-provisional";
    case CallEvent::CalleeEarlyMedia: return "callee-early-media";
    case CallEvent::CalleeAnswered: return "callee-answered";
    case CallEvent::CalleeFailed: return "callee-failed";
    case CallEvent::CallerCancel: return "caller-cancel";
    case CallEvent::CallerBye: return "caller-bye";
    case CallEvent::CalleeBye: return "callee-bye";
    case CallEvent::CallerTransportLost: return "caller-transport-lost";
    case CallEvent::CalleeTransportLost: return "callee-transport-lost";
    case CallEvent::MediaFailed: return "media-failed";
    case CallEvent::BrowserMediaClosed: return "browser-media-closed";
    case CallEvent::LegsClosed: return "legs-closed";
  }
  return "?";
}

std::string_view actionName(CallAction a) {
  switch (a) {
    case CallAction::StartCallee: return "start-callee";
    case CallAction::RejectCaller: return "reject-caller";
    case CallAction::RelayProvisional: return "relay-provisional";
    case CallAction::RelayEarlyMedia: return "relay-early-media";
    case CallAction::AnswerCaller: return "answer-caller";
    case CallAction::CancelCallee: return "cancel-callee";
    case CallAction::ByeCaller: return "bye-caller";
    case CallAction::ByeCallee: return "bye-callee";
    case CallAction::ReleaseMedia: return "release-media";
  }
  return "?";
}

Transition decide(CallState s, CallEvent e) {
  using S = CallState;
  using E = CallEvent;
  using A = CallAction;
  const bool ringing = s == S::Routing || s == S::Early;
  switch (e) {
    case E::CallerInvite:
      if (s == S::Idle) return {S::Routing, {A::StartCallee}};
      break;
    case E::Rejected:
      if (s == S::Idle || ringing) return {S::Closed, {A::RejectCaller, A::ReleaseMedia}};
      break;
    case E::CalleeProvisional:
      if (ringing) return {S::Early, {A::RelayProvisional}};
      break;
    case E::CalleeEarlyMedia:
      if (ringing) return {S::Early, {A::RelayEarlyMedia}};
      break;
    case E::CalleeAnswered:
      if (ringing) return {S::Connected, {A::AnswerCaller}};
      // CANCEL and 200 crossed (RFC 3261 §9.1): the callee's dialog is up and must be ended with BYE.
      if (s == S::Terminating) return {S::Terminating, {A::ByeCallee}};
      break;
    case E::CalleeFailed:
      if (ringing) return {S::Closed, {A::RejectCaller, A::ReleaseMedia}};
      break;
    case E::CallerCancel:
    case E::CallerTransportLost:
      if (ringing) return {S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}};
      if (s == S::Connected) return {S::Terminating, {A::ByeCallee, A::ReleaseMedia}};
      break;
    case E::CallerBye:
      if (s == S::Connected) return {S::Terminating, {A::ByeCallee, A::ReleaseMedia}};
      break;
    case E::CalleeBye:
      if (s == S::Connected) return {S::Terminating, {A::ByeCaller, A::ReleaseMedia}};
      break;
    case E::CalleeTransportLost:
      if (ringing) return {S::Terminating, {A::RejectCaller, A::ReleaseMedia}};
      if (s == S::Connected) return {S::Terminating, {A::ByeCaller, A::ReleaseMedia}};
      break;
    case E::MediaFailed:
    case E::BrowserMediaClosed:
      if (ringing) return {S::Terminating, {A::CancelCallee, A::RejectCaller, A::ReleaseMedia}};
      if (s == S::Connected) return {S::Terminating, {A::ByeCaller, A::ByeCallee, A::ReleaseMedia}};
      break;
    case E::LegsClosed:
      if (s == S::Terminating) return {S::Closed, {}};
      break;
  }
  return {s, {}, true};
}

uint16_t mapFailureCode(uint16_t code) {
  if (code == 401 || code == 407) return 403;
  if (code >= 300 && code < 400) return 480;
  if (code == 503 || code == 504) return code;
  if (code >= 500 && code < 600) return 502;
  if (code >= 400 && code < 700) return code;
  return 500;
}

}  // namespace rtcgate::session

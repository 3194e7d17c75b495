// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sofia-sip/sip.h>

#include <string>

// What rtcgate takes from an INVITE of the upstream for the browser's INVITE: only bounded, cleaned values (the
// browser leg never sees the upstream's headers as such). Thread: any (pure functions of the parsed message).
namespace rtcgate::sip {

// The INVITE's Call-Info entries that ask for auto-answer (";answer-after=N", the BroadWorks / common convention),
// printed by sofia's own header printer, joined with ", ". Bounded; anything else of Call-Info is not passed on.
std::string autoAnswerCallInfo(const sip_t* sip);

// The caller's identity from the INVITE's From, as far as it is safe to put in a header of our own: the user part
// when it is 1..64 SIP user characters (RFC 3261 unreserved and user-unreserved, no escapes), the display name with
// quotes, backslashes and control characters removed, at most 64 bytes (cut on a UTF-8 boundary).
void callerIdentity(const sip_t* sip, std::string* user, std::string* name);

}  // namespace rtcgate::sip

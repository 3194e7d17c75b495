// SPDX-License-Identifier: Apache-2.0
#pragma once

// Every rtcgate file that includes sofia's nua goes through this header, so nua's magic pointers are typed the
// same way everywhere: the stack's callback receives SipStack* and HandleOwner* without casts.
namespace rtcgate::sip {
class SipStack;
class HandleOwner;
}  // namespace rtcgate::sip
#define NUA_MAGIC_T ::rtcgate::sip::SipStack
#define NUA_HMAGIC_T ::rtcgate::sip::HandleOwner

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include <string>
#include <string_view>

#include "rtcgate/sip/sip_stack.h"

namespace rtcgate::sip {

struct SipStack::Event {
  nua_event_t event;
  int status;
  const char* phrase;
  nua_t* nua;
  nua_handle_t* nh;
  HandleOwner* owner;
  const sip_t* sip;
  tagi_t* tags;
};

// The methods rtcgate answers to (Allow) and the BroadSoft remote-control events Genesys expects (Allow-Events,
// interop notes §1.5).
inline constexpr const char* kAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, UPDATE, REFER";
// Outside a dialog REFER is refused by nua itself (405): sofia-sip 1.12 sends a NOTIFY "100 Trying" for an
// out-of-dialog REFER whatever the answer, to whoever sent it. Call handles get kAllow (nua_set_hparams).
inline constexpr const char* kAllowOutsideDialog = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, UPDATE";
inline constexpr const char* kAllowEvents = "talk, hold";

std::string_view bodyOf(const sip_t* sip);
// Value of the first extension header named `name` (case-insensitive), empty if absent.
std::string unknownHeader(const sip_t* sip, std::string_view name);
// NUTAG_AUTH credentials answering the challenge in a 401/407, or empty when there is none.
std::string digestCredentials(const sip_t* sip, const std::string& user, const std::string& password);

}  // namespace rtcgate::sip

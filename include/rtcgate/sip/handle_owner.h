// SPDX-License-Identifier: Apache-2.0
#pragma once

// Sofia types, declared here so rtcgate headers stay free of sofia's headers.
struct nua_handle_s;
struct sip_s;

#include <string_view>

namespace rtcgate::sip {

// Whatever owns a nua handle (a call, a DN registration, an upstream monitor) and receives its events. SipStack's
// single trampoline turns each nua event into one of these methods; owners override the ones they expect.
// Thread: the control loop.
class HandleOwner {
public:
  virtual ~HandleOwner() = default;
  virtual void onRegisterReply(int /*status*/, const char* /*phrase*/, const sip_s* /*sip*/) {}
  virtual void onUnregisterReply(int /*status*/, const char* /*phrase*/, const sip_s* /*sip*/) {}
  virtual void onOptionsReply(int /*status*/, const char* /*phrase*/, const sip_s* /*sip*/) {}
  virtual void onInviteReply(int /*status*/, const char* /*phrase*/, const sip_s* /*sip*/) {}
  // nua_i_state: `callState` is a nua_callstate value.
  virtual void onCallState(int /*callState*/, int /*status*/, const char* /*phrase*/, const sip_s* /*sip*/) {}
  virtual void onReinvite(const sip_s* /*sip*/) {}
  virtual void onAck(const sip_s* /*sip*/) {}
  virtual void onBye(const sip_s* /*sip*/) {}
  virtual void onCancel() {}
  // An in-dialog NOTIFY (nua hands NOTIFY to the application). `event` is the Event package ("talk", "hold").
  // True: the owner accepts it (200); false: 481, as before NOTIFY reached the application.
  virtual bool onNotify(std::string_view /*event*/) { return false; }
  // The responses to our REFER (nua_r_refer), and the NOTIFYs of its implicit subscription (Event: refer, RFC 3515).
  // `sip` is null when nua gave up waiting for a NOTIFY (status 408). True: the owner takes the NOTIFY (200 when
  // nua left the answer to us); false: 481.
  virtual void onReferReply(int /*status*/, const char* /*phrase*/, const sip_s* /*sip*/) {}
  virtual bool onReferNotify(int /*status*/, const sip_s* /*sip*/) { return false; }
};

// Owns one nua handle; destroying it stops event delivery for the handle (nua_handle_destroy).
struct NuaHandleDeleter {
  void operator()(nua_handle_s* nh) const noexcept;
};

}  // namespace rtcgate::sip

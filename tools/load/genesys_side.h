// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "load_env.h"
#include "rtcgate/signaling/sip_message.h"
#include "udp_socket.h"

namespace rtcgate::load {

// The generator's Genesys: SIP over UDP on --genesys-listen as registrar (200 to every REGISTER, Contacts kept per
// DN), UAS (INVITEs from rtcgate answered with PCMU/PCMA after --answer-delay-ms) and UAC (inbound calls: INVITE to
// the Contact rtcgate registered for the agent's DN), with plain RTP on a socket pair per call. Over UDP it is a
// transaction user as RFC 3261 17 asks: its INVITE, BYE and 2xx are sent again on their timers (counted), a request
// rtcgate sends again is answered with the same response (counted), and in-dialog requests follow the dialog's
// route set (12.2.1.1). Thread: the generator's loop.
class GenesysSide {
public:
  explicit GenesysSide(LoadEnv& env);
  // Inbound: INVITE toward the agent's DN (its registered Contact), or with --inbound-via to the agent's user there.
  void call(LoadCall& call, const std::string& dn, const std::string& user);
  void hangUp(LoadCall& call);                        // BYE; hooks.hungUp when answered
  // The call is over: its sockets closed, later requests of its dialog answered without it; `sendBye` (a failed
  // call) ends a confirmed dialog first.
  void release(LoadCall& call, bool sendBye);
  // RTCP on the RFC 3550 interval from now until release (once media runs).
  void startRtcp(LoadCall& call, bool first = true);
  bool hasContact(const std::string& dn) const { return contacts_.count(dn) != 0; }
  uint64_t retransmissionsSent() const { return retransmissionsSent_; }
  uint64_t requestsRepeated() const { return requestsRepeated_; }

private:
  void onReadable();
  void onRequest(signaling::SipMessage& msg, const std::string& fromIp, uint16_t fromPort);
  void onResponse(signaling::SipMessage& msg);
  void onInvite(signaling::SipMessage& msg, const std::string& fromIp, uint16_t fromPort);
  bool openRtp(LoadCall& call);
  void onRtp(LoadCall& call);
  void onRtcp(LoadCall& call);
  void sendRtcp(LoadCall& call);
  bool setRemoteMedia(LoadCall& call, const std::string& sdp);
  std::string ourSdp(const LoadCall& call) const;
  std::vector<std::string> dialogHeaders(const LoadCall& call, const std::string& method, uint32_t cseq) const;
  void sendRequest(const std::string& target, const std::string& text);
  // An in-dialog request (ACK of a 2xx, BYE) through the dialog's route set; `retransmit`: on Timer E until answered.
  void sendInDialog(LoadCall& call, const std::string& method, uint32_t cseq, bool retransmit);
  // Sends `text` to `ip`:`port` now and again on `kind`'s timers until call.genesysTx.stop().
  void sendReliably(LoadCall& call, RetransmitKind kind, const std::string& method, const std::string& text,
                    const std::string& ip, uint16_t port, const std::string& timeoutReason);
  // Non-INVITE requests answered, by top Via branch and method, to answer a repeat with the same response.
  void remember(const signaling::SipMessage& req, const std::string& response);

  LoadEnv& env_;
  UdpSocket sip_;
  std::map<std::string, std::string> contacts_;  // DN → Contact URI rtcgate registered
  std::map<std::string, LoadCall*> calls_;        // Call-ID → call (calls that are not finished)
  std::map<std::string, std::string> answered_;   // branch + method → our response (bounded by answeredOrder_)
  std::deque<std::string> answeredOrder_;
  uint64_t retransmissionsSent_ = 0, requestsRepeated_ = 0;
};

}  // namespace rtcgate::load

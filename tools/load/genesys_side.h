// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <memory>
#include <string>

#include "load_env.h"
#include "rtcgate/signaling/sip_message.h"
#include "udp_socket.h"

namespace rtcgate::load {

// The generator's Genesys: SIP over UDP on --genesys-listen as registrar (200 to every REGISTER, Contacts kept per
// DN), UAS (INVITEs from rtcgate answered with PCMU/PCMA after --answer-delay-ms) and UAC (inbound calls: INVITE to
// the Contact rtcgate registered for the agent's DN), with plain RTP on a socket pair per call. Requests are sent
// once: on loopback nothing is lost, and a lost one shows as a failed call rather than being hidden.
// Thread: the generator's loop.
class GenesysSide {
public:
  explicit GenesysSide(LoadEnv& env);
  void call(LoadCall& call, const std::string& dn);  // inbound: INVITE toward the agent's DN
  void hangUp(LoadCall& call);                        // BYE; hooks.hungUp when answered
  // The call is over: its sockets closed, later requests of its dialog answered without it; `sendBye` (a failed
  // call) ends a confirmed dialog first.
  void release(LoadCall& call, bool sendBye);
  bool hasContact(const std::string& dn) const { return contacts_.count(dn) != 0; }

private:
  void onReadable();
  void onRequest(signaling::SipMessage& msg, const std::string& fromIp, uint16_t fromPort);
  void onResponse(signaling::SipMessage& msg);
  void onInvite(signaling::SipMessage& msg, const std::string& fromIp, uint16_t fromPort);
  bool openRtp(LoadCall& call);
  void onRtp(LoadCall& call);
  bool setRemoteMedia(LoadCall& call, const std::string& sdp);
  std::string ourSdp(const LoadCall& call) const;
  std::vector<std::string> dialogHeaders(const LoadCall& call, const std::string& method, uint32_t cseq) const;
  void sendRequest(const std::string& target, const std::string& text);

  LoadEnv& env_;
  UdpSocket sip_;
  std::map<std::string, std::string> contacts_;  // DN → Contact URI rtcgate registered
  std::map<std::string, LoadCall*> calls_;        // Call-ID → call (calls that are not finished)
};

}  // namespace rtcgate::load

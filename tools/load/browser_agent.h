// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "load_env.h"
#include "rtcgate/signaling/sip_message.h"
#include "wss_client.h"

namespace rtcgate::load {

// One browser agent as JsSIP would be: its own WSS connection to rtcgate, REGISTER with digest, outbound INVITEs
// (BrowserLeg as offerer), inbound INVITEs answered (BrowserLeg as answerer), BYE. At most one call at a time.
// Thread: the generator's loop.
class BrowserAgent {
public:
  BrowserAgent(LoadEnv& env, int index);
  ~BrowserAgent();
  BrowserAgent(const BrowserAgent&) = delete;
  BrowserAgent& operator=(const BrowserAgent&) = delete;

  void connect();                   // WSS, then REGISTER; hooks.agentRegistered follows
  void startCall(LoadCall& call);   // outbound: gather, then INVITE
  void hangUp(LoadCall& call);      // BYE; hooks.hungUp when it is answered
  void abandon(LoadCall& call);     // a failed call: BYE when its dialog is up, the leg closed
  const std::string& user() const { return user_; }
  const std::string& dn() const { return dn_; }
  bool registered() const { return registered_; }

private:
  void sendRegister(const std::string& authorization);
  void registrationFailed(const std::string& reason);
  void onMessage(const std::string& text);
  void onResponse(signaling::SipMessage& msg);
  void onRequest(std::unique_ptr<signaling::SipMessage> msg);
  void onIncomingInvite(std::unique_ptr<signaling::SipMessage> msg, LoadCall* call);
  void sendInvite(LoadCall& call, const std::string& authorization);
  void sendAck(LoadCall& call, uint32_t cseq, const std::string& branch);
  bool sendInDialog(LoadCall& call, const std::string& method, uint32_t cseq, const std::string& branch);
  void createLeg(LoadCall& call, media::LegRole role);
  void closeLeg(LoadCall& call);
  std::vector<std::string> dialogHeaders(const LoadCall& call, const std::string& method, uint32_t cseq,
                                         const std::string& branch) const;
  std::string via(const std::string& branch) const;
  void reply(const signaling::SipMessage& req, int code, const std::string& reason, const std::string& toTag = {},
             const std::vector<std::string>& headers = {}, const std::string& body = {});

  LoadEnv& env_;
  int index_;
  std::string user_, dn_, aor_;
  std::string viaHost_, contact_;
  std::shared_ptr<WssClient::Connection> conn_;
  bool registered_ = false;
  std::string regCallId_, regTag_;
  uint32_t regCseq_ = 1;
  unsigned nonceCount_ = 0;
  bool regAuthSent_ = false;
  Timer refresh_;  // the next re-REGISTER
  // Outbound INVITE in progress: its branch and CSeq (for the ACK of a non-2xx answer and auth retries).
  std::string inviteBranch_, inviteOffer_;
  uint32_t inviteCseq_ = 0;
  bool inviteAuthSent_ = false;
  std::string byeBranch_;
  // Inbound INVITE waiting for the leg's answer.
  std::unique_ptr<signaling::SipMessage> pendingInvite_;
  std::string answerSdp_;
  std::function<void(const sdp::TransportParams&)> pendingAnswer_;  // builds and sends the 200 of pendingInvite_
};

}  // namespace rtcgate::load

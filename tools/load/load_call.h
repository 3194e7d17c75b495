// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "media_flow.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/media/browser_leg.h"
#include "udp_socket.h"

namespace rtcgate::load {

// One SIP dialog as the generator holds it (either side). Thread: the generator's loop.
struct Dialog {
  std::string callId, localTag, remoteTag;
  std::string localUri, remoteUri;  // From / To URIs as we send them
  std::string remoteTarget;         // Contact of the peer: Request-URI of in-dialog requests
  uint32_t cseq = 1;
  std::string lastResponse;         // our last response to the INVITE, re-sent on retransmissions (UDP)
};

// One call of the load: its browser leg (SIP over WSS + BrowserLeg) and its Genesys leg (SIP/UDP + plain RTP),
// joined by the agent index, and the media both ends send and receive. Thread: the generator's loop.
struct LoadCall {
  int agent = 0;  // 1-based
  bool outbound = true;
  Clock::time_point attemptAt{}, establishedAt{};
  // Progress: the browser's INVITE transaction is done (200 + ACK), the leg's DTLS is up, the Genesys dialog is
  // confirmed (ACK received or sent).
  bool browserConfirmed = false, legConnected = false, genesysConfirmed = false;
  bool established = false, mediaRunning = false, hangingUp = false, finished = false;
  std::string failure;  // reason, when the call failed

  Dialog browser, genesys;
  std::unique_ptr<media::BrowserLeg> leg;
  uint8_t browserPt = 0;
  const EncodedTone* browserTone = nullptr;
  uint8_t genesysPt = 0;
  const EncodedTone* genesysTone = nullptr;

  std::unique_ptr<UdpSocket> rtp, rtcp;  // the Genesys side's plain RTP (even port) and RTCP sink (port + 1)
  sockaddr_storage rtcgateRtp{};
  socklen_t rtcgateRtpLen = 0;

  std::unique_ptr<RtpSender> toGenesysSender, toBrowserSender;
  std::unique_ptr<RtpReceiver> toGenesysReceiver, toBrowserReceiver;
  Clock::time_point mediaStartAt{};  // the 20 ms schedule's origin
  uint64_t ticksRun = 0;             // pacer ticks that ran (the pacer's skippedTicks() are the others)
  uint64_t unexpectedPackets = 0;  // RTP before media started (not counted in the directions)
  Timer startDelay, pacer, hold, drain, setupTimeout, answerTimer, byeTimeout;
};

}  // namespace rtcgate::load

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media_flow.h"
#include "retransmission.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/media/browser_leg.h"
#include "udp_socket.h"

namespace rtcgate::load {

// One SIP dialog as the generator holds it (either side). Thread: the generator's loop.
struct Dialog {
  std::string callId, localTag, remoteTag;
  std::string localUri, remoteUri;  // From / To URIs as we send them
  std::string remoteTarget;         // Contact of the peer: Request-URI of in-dialog requests
  std::vector<std::string> routeSet;  // RFC 3261 12.1: from Record-Route, Route headers of in-dialog requests
  std::string inviteUri, firstHop;    // our initial INVITE's Request-URI and where it went (its non-2xx ACK too)
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
  std::optional<double> browserRttMs;  // the leg's last RTCP round-trip time, kept when the leg closes
  uint8_t browserPt = 0;
  const EncodedTone* browserTone = nullptr;
  uint8_t genesysPt = 0;
  const EncodedTone* genesysTone = nullptr;

  std::unique_ptr<UdpSocket> rtp, rtcp;  // the Genesys side's plain RTP (even port) and RTCP (port + 1)
  sockaddr_storage rtcgateRtp{}, rtcgateRtcp{};
  socklen_t rtcgateRtpLen = 0, rtcgateRtcpLen = 0;
  // The Genesys side's RTCP (RFC 3550 6.2): SR with a report block on rtcgate's stream, RTT from rtcgate's reports.
  media::RtcpReporter genesysRtcp;
  Timer genesysRtcpTimer;

  std::unique_ptr<RtpSender> toGenesysSender, toBrowserSender;
  std::unique_ptr<RtpReceiver> toGenesysReceiver, toBrowserReceiver;
  Clock::time_point mediaStartAt{};  // the 20 ms schedule's origin
  uint64_t ticksRun = 0;             // pacer ticks that ran (the pacer's skippedTicks() are the others)
  uint64_t unexpectedPackets = 0;  // RTP before media started (not counted in the directions)
  Timer startDelay, pacer, hold, drain, setupTimeout, answerTimer, byeTimeout;
  // The Genesys side's one message in flight over UDP: its INVITE (inbound), its 2xx until the ACK (outbound) or
  // its BYE (RFC 3261 17.1.1.2, 13.3.1.4, 17.1.2.2).
  Retransmission genesysTx;
  std::string genesysTxMethod;  // the CSeq method of what genesysTx sends (its response stops it)
};

}  // namespace rtcgate::load

// SPDX-License-Identifier: Apache-2.0
// Target (d): one datagram on a browser leg's ICE component: the RFC 7983 first-byte demux (classifyPacket, the
// function BrowserLeg::onReceive uses), then what each kind meets. STUN: libnice's message validation as an ICE
// agent runs it (RFC 5389 with short-term credentials and FINGERPRINT, MESSAGE-INTEGRITY checked against the RFC
// 5769 §2.1 credentials so those vectors validate); RTP: parseRtp and the receive statistics; RTCP: parseRtcp.
// DTLS records go to OpenSSL, which OSS-Fuzz covers; they stop at the demux here.
#include <stun/stunagent.h>

#include <array>
#include <cstring>

#include "fuzz_support.h"
#include "rtcgate/media/rtp/packet_demux.h"
#include "rtcgate/media/rtp/rtcp_packet.h"
#include "rtcgate/media/rtp/rtp_packet.h"
#include "rtcgate/media/rtp/rtp_receive_stats.h"

namespace {

using namespace rtcgate::media;

// The attributes an ICE agent knows (libnice's list for RFC 5389); anything else comprehension-required fails.
const uint16_t kKnownAttributes[] = {
    STUN_ATTRIBUTE_MAPPED_ADDRESS, STUN_ATTRIBUTE_USERNAME,       STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_ERROR_CODE,     STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, STUN_ATTRIBUTE_REALM,
    STUN_ATTRIBUTE_NONCE,          STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_PRIORITY,
    STUN_ATTRIBUTE_USE_CANDIDATE,  STUN_ATTRIBUTE_SOFTWARE,       STUN_ATTRIBUTE_FINGERPRINT,
    STUN_ATTRIBUTE_ICE_CONTROLLED, STUN_ATTRIBUTE_ICE_CONTROLLING, 0};

// RFC 5769 §2.1: USERNAME "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt".
bool validater(StunAgent*, StunMessage*, uint8_t* username, uint16_t usernameLen, uint8_t** password,
               size_t* passwordLen, void*) {
  static char kPassword[] = "VOkJxbRl1RmTxUk/WvJxBt";
  static constexpr char kUsername[] = "evtj:h6vY";
  if (usernameLen != sizeof kUsername - 1 || std::memcmp(username, kUsername, usernameLen) != 0) return false;
  *password = reinterpret_cast<uint8_t*>(kPassword);
  *passwordLen = sizeof kPassword - 1;
  return true;
}

void stun(std::span<const uint8_t> datagram) {
  StunAgent agent;
  stun_agent_init(&agent, kKnownAttributes, STUN_COMPATIBILITY_RFC5389,
                  static_cast<StunAgentUsageFlags>(STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                                                   STUN_AGENT_USAGE_USE_FINGERPRINT));
  StunMessage msg;
  if (stun_agent_validate(&agent, &msg, datagram.data(), datagram.size(), validater, nullptr) !=
      STUN_VALIDATION_SUCCESS)
    return;
  // What an ICE agent reads from a valid request.
  uint32_t priority = 0;
  (void)stun_message_find32(&msg, STUN_ATTRIBUTE_PRIORITY, &priority);
  uint64_t tiebreaker = 0;
  (void)stun_message_find64(&msg, STUN_ATTRIBUTE_ICE_CONTROLLING, &tiebreaker);
  sockaddr_storage address;
  socklen_t addressLen = sizeof address;
  (void)stun_message_find_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &address, &addressLen);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rtcgate::fuzz::silenceLogs();
  std::span<const uint8_t> datagram(data, size);
  switch (classifyPacket(datagram)) {
    case PacketKind::Stun:
      stun(datagram);
      break;
    case PacketKind::Rtp: {
      RtpHeader h;
      if (parseRtp(datagram, h) != RtpStatus::Ok) break;
      if (h.headerSize + h.payloadSize > size) __builtin_trap();  // the parsed payload must lie in the packet
      RtpReceiveStats stats;
      stats.update(h.sequence, h.timestamp, h.timestamp + 160);
      stats.update(static_cast<uint16_t>(h.sequence + 1), h.timestamp + 160, h.timestamp + 480);
      (void)stats.makeReport(h.ssrc);
      break;
    }
    case PacketKind::Rtcp: {
      RtcpSummary summary;
      (void)parseRtcp(datagram, summary);
      break;
    }
    case PacketKind::Dtls:
    case PacketKind::Unknown:
      break;
  }
  return 0;
}

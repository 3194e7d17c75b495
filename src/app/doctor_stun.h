// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stun/stunagent.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "doctor_udp.h"

// STUN exchanges with libnice's STUN library (stun/stunagent.h, stun/usages/*): the same encoder and parser the
// daemon's ICE agent uses, no second one.
namespace rtcgate::app::doctor {

// A validated STUN response; `message` points into `bytes`, so it is kept behind a pointer and never copied.
struct StunReply {
  std::vector<uint8_t> bytes;
  StunMessage message{};
  StunReply() = default;
  StunReply(const StunReply&) = delete;
  StunReply& operator=(const StunReply&) = delete;
};

// An agent for RFC 5389 exchanges; longTerm: TURN's long-term credentials (RFC 5389 10.2).
void initStunAgent(StunAgent& agent, bool longTerm);

// Sends `request` (built on `agent`) and waits for its response, retransmitting until `timeout`. null: no answer.
std::unique_ptr<StunReply> stunExchange(UdpProbe& socket, StunAgent& agent, const IpAddress& server, uint16_t port,
                                        const uint8_t* request, size_t length, std::chrono::milliseconds timeout);

// "401 Unauthorized" from an error response's ERROR-CODE (RFC 5389 15.6); "" when it has none.
std::string stunErrorText(const StunMessage& message);

// "1.2.3.4" of a sockaddr filled by a stun usage.
std::string sockaddrHost(const sockaddr_storage& address);

}  // namespace rtcgate::app::doctor

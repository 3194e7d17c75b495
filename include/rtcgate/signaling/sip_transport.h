// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

namespace rtcgate::signaling {

// Identifies one browser WebSocket connection for its whole life; never reused within a process.
using ConnectionId = uint64_t;

// Sends SIP text over a browser connection. The WSS server implements it; unit tests use a recording fake.
// Thread: control.
class SipTransport {
public:
  virtual ~SipTransport() = default;
  // Queue one SIP message as one WebSocket text frame. False when the connection is gone or its queue is full
  // (the connection is then being closed).
  virtual bool send(ConnectionId connection, std::string message) = 0;
  virtual void close(ConnectionId connection) = 0;
};

}  // namespace rtcgate::signaling

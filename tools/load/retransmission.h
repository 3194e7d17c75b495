// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>

#include "rtcgate/core/event_loop.h"

namespace rtcgate::load {

// What is sent again over UDP, and how (RFC 3261): an INVITE (17.1.1.2 Timer A doubling without a cap, Timer B),
// a non-INVITE request (17.1.2.2 Timer E doubling up to T2, Timer F) or a 2xx to an INVITE (13.3.1.4: doubling
// up to T2 until the ACK, given up after 64*T1).
enum class RetransmitKind { InviteRequest, NonInviteRequest, InviteAnswer };

// The timers of one message, without a clock: each next() is the wait from the previous step to the next copy, or
// to the timeout (the last step, 64*T1 after the first copy). Thread: plain value.
class RetransmitSchedule {
public:
  struct Step {
    std::chrono::milliseconds wait;
    bool timeout;  // the transaction gave up (Timer B / F / 64*T1 without the ACK)
  };
  explicit RetransmitSchedule(RetransmitKind kind, std::chrono::milliseconds t1 = std::chrono::milliseconds(500),
                              std::chrono::milliseconds t2 = std::chrono::seconds(4));
  Step next();

private:
  RetransmitKind kind_;
  std::chrono::milliseconds t2_, interval_, elapsed_{0}, limit_;
};

// One message's retransmissions on the loop: `resend` at each step until stop(), `timeout` once at the end.
// Thread: the loop's.
class Retransmission {
public:
  void start(EventLoop& loop, RetransmitKind kind, std::function<void()> resend, std::function<void()> timeout);
  void stop() { timer_.cancel(); }
  bool active() const { return timer_.active(); }

private:
  void arm(EventLoop& loop);
  RetransmitSchedule schedule_{RetransmitKind::NonInviteRequest};
  std::function<void()> resend_, timeout_;
  Timer timer_;
};

}  // namespace rtcgate::load

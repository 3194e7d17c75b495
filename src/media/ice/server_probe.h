// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <string>

#include "rtcgate/core/event_loop.h"

namespace rtcgate::media {

// Whether one STUN/TURN server (UDP) can answer at all, told apart faster than libnice can: libnice sends its
// discovery requests from the unconnected candidate socket, which never learns of an ICMP port or host unreachable
// (Linux reports those only on connected sockets), so it retransmits for its full STUN timeout. The probe sends
// one RFC 5389 Binding request from a connected socket of its own: a Binding response means the server answers,
// sendto()/recv() failing with ECONNREFUSED (ICMP port unreachable), ENETUNREACH or EHOSTUNREACH means it cannot.
// Silence decides nothing (the gathering deadline does).
// Thread: the owning loop; the result callback runs there, at most once, and must not destroy the probe
// (cancel() it instead).
class ServerProbe {
public:
  enum class Result { Answered, Unreachable };
  ServerProbe(EventLoop& loop, const std::string& host, uint16_t port, std::function<void(Result, int error)> done);
  ~ServerProbe();
  ServerProbe(const ServerProbe&) = delete;
  ServerProbe& operator=(const ServerProbe&) = delete;
  // false: the host is not a numeric address (nothing is probed; the deadline decides).
  bool started() const { return fd_ >= 0 || failNow_.active(); }
  // Closes the socket; no result is reported afterwards. Safe from inside the result callback.
  void cancel() {
    done_ = nullptr;
    stop();
  }

private:
  static gboolean onReadable(gint fd, GIOCondition, gpointer self) noexcept;
  void finish(Result r, int error);
  void stop();

  std::function<void(Result, int)> done_;
  int fd_ = -1;
  GSource* watch_ = nullptr;
  uint8_t transaction_[12]{};
  Timer failNow_;
};

}  // namespace rtcgate::media

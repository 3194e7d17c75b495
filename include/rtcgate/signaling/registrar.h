// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/signaling/sip_transport.h"

namespace rtcgate::signaling {

// One agent's browser binding: the Contact learned on one WebSocket connection (RFC 7118 5: requests to it go
// over that connection, its .invalid host is not routable).
struct Registration {
  std::string user;
  std::string dn;
  ConnectionId connection = 0;
  std::string contactUri;    // the Contact URI as sent (e.g. sip:k3l2@x7.invalid;transport=ws)
  std::string instance;      // +sip.instance, empty when absent
  uint32_t expiresS = 0;
  std::chrono::steady_clock::time_point expiresAt;
  // Authenticated by an agent_tokens JWT: the agent may be in no list, and its DN is the token's.
  bool byToken = false;
};

// Agent registrations from browsers, with expiry and change events for the session layer. A binding ends on
// REGISTER with Expires 0, on expiry, or when its WebSocket closes. Thread: control.
class Registrar {
public:
  enum class Reason { Unregistered, Expired, ConnectionClosed, Replaced };
  struct Listener {
    std::function<void(const Registration&)> registered;  // a new binding (not a refresh)
    std::function<void(const Registration&, Reason)> unregistered;
  };

  explicit Registrar(EventLoop& loop);
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

  int addListener(Listener listener);
  void removeListener(int id);

  // Add or refresh the binding (user, contactUri). A binding of the same user and +sip.instance on another
  // connection is replaced (the browser reconnected).
  void bind(Registration registration);
  bool unbind(const std::string& user, const std::string& contactUri);
  void unbindAll(const std::string& user);
  void connectionClosed(ConnectionId connection);

  std::vector<Registration> lookup(const std::string& user) const;
  std::vector<Registration> all() const;
  size_t size() const { return bindings_.size(); }

private:
  using Key = std::pair<std::string, std::string>;
  void remove(std::map<Key, Registration>::iterator it, Reason reason);
  bool sweep();

  EventLoop& loop_;
  std::map<Key, Registration> bindings_;
  std::map<int, Listener> listeners_;
  int nextListener_ = 1;
  Timer sweepTimer_;
};

const char* toString(Registrar::Reason reason);

}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/registrar.h"

#include "rtcgate/core/log.h"

namespace rtcgate::signaling {

const char* toString(Registrar::Reason reason) {
  switch (reason) {
    case Registrar::Reason::Unregistered: return "unregistered";
    case Registrar::Reason::Expired: return "expired";
    case Registrar::Reason::ConnectionClosed: return "connection closed";
    case Registrar::Reason::Replaced: return "replaced";
  }
  return "?";
}

Registrar::Registrar(EventLoop& loop)
    : loop_(loop), sweepTimer_(loop, std::chrono::seconds(1), [this] { return sweep(); }) {}

int Registrar::addListener(Listener listener) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  int id = nextListener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void Registrar::removeListener(int id) { listeners_.erase(id); }

void Registrar::bind(Registration registration) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!registration.instance.empty()) {
    for (auto it = bindings_.begin(); it != bindings_.end();) {
      auto next = std::next(it);
      if (it->second.user == registration.user && it->second.instance == registration.instance &&
          it->second.contactUri != registration.contactUri)
        remove(it, Reason::Replaced);
      it = next;
    }
  }
  Key key{registration.user, registration.contactUri};
  auto it = bindings_.find(key);
  if (it != bindings_.end() && it->second.connection == registration.connection) {
    it->second = std::move(registration);  // refresh
    return;
  }
  if (it != bindings_.end()) remove(it, Reason::Replaced);
  auto [pos, inserted] = bindings_.emplace(key, std::move(registration));
  log::get(log::Component::Wss)
      ->info("agent {} (DN {}) registered on connection {}, expires {} s", pos->second.user, pos->second.dn,
             pos->second.connection, pos->second.expiresS);
  auto snapshot = pos->second;
  for (auto& [id, l] : std::map<int, Listener>(listeners_))
    if (l.registered) l.registered(snapshot);
}

bool Registrar::unbind(const std::string& user, const std::string& contactUri) {
  auto it = bindings_.find(Key{user, contactUri});
  if (it == bindings_.end()) return false;
  remove(it, Reason::Unregistered);
  return true;
}

void Registrar::unbindAll(const std::string& user) {
  for (auto it = bindings_.begin(); it != bindings_.end();) {
    auto next = std::next(it);
    if (it->second.user == user) remove(it, Reason::Unregistered);
    it = next;
  }
}

void Registrar::connectionClosed(ConnectionId connection) {
  for (auto it = bindings_.begin(); it != bindings_.end();) {
    auto next = std::next(it);
    if (it->second.connection == connection) remove(it, Reason::ConnectionClosed);
    it = next;
  }
}

std::vector<Registration> Registrar::lookup(const std::string& user) const {
  std::vector<Registration> out;
  for (auto it = bindings_.lower_bound(Key{user, ""}); it != bindings_.end() && it->first.first == user; ++it)
    out.push_back(it->second);
  return out;
}

std::vector<Registration> Registrar::all() const {
  std::vector<Registration> out;
  for (const auto& [k, r] : bindings_) out.push_back(r);
  return out;
}

void Registrar::remove(std::map<Key, Registration>::iterator it, Reason reason) {
  Registration gone = std::move(it->second);
  bindings_.erase(it);
  log::get(log::Component::Wss)
      ->info("agent {} (DN {}) binding on connection {} removed: {}", gone.user, gone.dn, gone.connection,
             toString(reason));
  for (auto& [id, l] : std::map<int, Listener>(listeners_))
    if (l.unregistered) l.unregistered(gone, reason);
}

bool Registrar::sweep() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = bindings_.begin(); it != bindings_.end();) {
    auto next = std::next(it);
    if (it->second.expiresAt <= now) remove(it, Reason::Expired);
    it = next;
  }
  return true;
}

}  // namespace rtcgate::signaling

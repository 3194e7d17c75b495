// SPDX-License-Identifier: Apache-2.0
#include "ice/ice_agent.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>

#include "rtcgate/core/log.h"
#include "rtcgate/media/turn_credentials.h"

namespace rtcgate::media {

namespace {

auto logger() { return log::get(log::Component::Ice); }

// libnice 0.1.21 declares consent lost 10 s after the last consent response (NICE_AGENT_TIMER_CONSENT_TIMEOUT,
// agent-priv.h); it is not configurable there. See consentSuspect() for how the configured timeout is applied.
constexpr std::chrono::milliseconds kLibniceConsentTimeout{10000};
// Re-selecting a pair restarts libnice's consent clock at its next check (4-6 s later), so without answers it
// fails the pair again at most 16 s after the re-select. No failure for longer than that means answers came back.
constexpr std::chrono::milliseconds kConsentRecoveredAfter{17000};

const char* typeName(NiceCandidateType t) {
  switch (t) {
    case NICE_CANDIDATE_TYPE_HOST: return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED: return "relay";
  }
  return "host";
}

std::string addressString(const NiceAddress& a) {
  char buf[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&a, buf);
  return buf;
}

std::string endpoint(const NiceAddress& a) {
  auto s = addressString(a);
  if (s.find(':') != std::string::npos) s = "[" + s + "]";
  return s + ":" + std::to_string(nice_address_get_port(&a));
}

NiceRelayType relayType(config::TurnTransport t) {
  switch (t) {
    case config::TurnTransport::Udp: return NICE_RELAY_TYPE_TURN_UDP;
    case config::TurnTransport::Tcp: return NICE_RELAY_TYPE_TURN_TCP;
    case config::TurnTransport::Tls: return NICE_RELAY_TYPE_TURN_TLS;  // never reached: refused above
  }
  return NICE_RELAY_TYPE_TURN_UDP;
}

// Servers in an "unanswered" episode, process-wide: one log line when a server stops answering and one when it
// answers again, however many calls gather meanwhile (a flood of calls must not become a flood of log lines).
// Thread: any media worker; the mutex guards the set.
class UnansweredEpisodes {
public:
  static bool enter(const std::string& key) {
    std::lock_guard lock(mutex());
    return set().insert(key).second;
  }
  static bool leave(const std::string& key) {
    std::lock_guard lock(mutex());
    return set().erase(key) > 0;
  }

private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& set() {
    static std::set<std::string> s;
    return s;
  }
};

struct CandidateListFree {
  void operator()(GSList* l) const noexcept { g_slist_free_full(l, reinterpret_cast<GDestroyNotify>(&nice_candidate_free)); }
};
using CandidateList = std::unique_ptr<GSList, CandidateListFree>;

}  // namespace

IceAgent::IceAgent(EventLoop& loop, Settings settings, Callbacks callbacks)
    : loop_(loop), settings_(std::move(settings)), callbacks_(std::move(callbacks)) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (settings_.ice == nullptr) throw std::invalid_argument("IceAgent needs ice settings");
  if (settings_.localAddresses.empty())
    throw std::runtime_error("no local address allowed by ice.candidates for ICE host candidates");
  agent_.reset(nice_agent_new_full(
      loop_.context(), NICE_COMPATIBILITY_RFC5245,
      static_cast<NiceAgentOption>(NICE_AGENT_OPTION_REGULAR_NOMINATION | NICE_AGENT_OPTION_CONSENT_FRESHNESS)));
  if (!agent_) throw std::runtime_error("nice_agent_new_full failed");
  // No UPnP port mapping (the DMZ host must not open holes on its own); no ICE-TCP host candidates (browsers
  // reach us over UDP or through TURN; TURN-over-TCP/TLS allocations do not need ICE-TCP).
  g_object_set(agent_.get(), "upnp", FALSE, "ice-tcp", FALSE, "controlling-mode", settings_.controlling ? TRUE : FALSE,
               "force-relay", settings_.ice->relayOnly ? TRUE : FALSE, nullptr);
  const auto& ice = *settings_.ice;
  if (!ice.stunServers.empty()) {
    // libnice takes one STUN server per agent; the first configured one is used.
    g_object_set(agent_.get(), "stun-server", ice.stunServers[0].address.c_str(), "stun-server-port",
                 static_cast<guint>(ice.stunServers[0].port), nullptr);
  }
  for (auto& la : settings_.localAddresses) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (nice_address_set_from_string(&addr, la.address.c_str())) nice_agent_add_local_address(agent_.get(), &addr);
  }
  streamId_ = nice_agent_add_stream(agent_.get(), 1);
  if (streamId_ == 0) throw std::runtime_error("nice_agent_add_stream failed");
  nice_agent_set_stream_name(agent_.get(), streamId_, "audio");
  if (settings_.portMin != 0 || settings_.portMax != 0)
    nice_agent_set_port_range(agent_.get(), streamId_, 1, settings_.portMin, settings_.portMax);
  for (auto& turn : ice.turnServers) {
    if (turn.transport == config::TurnTransport::Tls) {
      // libnice 0.1.21 wraps NICE_RELAY_TYPE_TURN_TLS in TLS only for the Google/MSOC dialects; with RFC 5245 it
      // speaks plain TCP (agent.c agent_create_tcp_turn_socket), which a TLS port rejects. Skip it loudly.
      logger()->error("TURN over TLS ({}:{}) is not supported by libnice 0.1.21; use transport udp or tcp", turn.host,
                      turn.port);
      continue;
    }
    addRelay(turn);
  }
  if (!ice.stunServers.empty()) {
    Server sv;
    sv.endpoint = fmt::format("{}:{}", ice.stunServers[0].address, ice.stunServers[0].port);
    servers_.push_back(std::move(sv));
  }
  for (size_t i = 0; i < ice.turnServers.size(); ++i) {
    const auto& turn = ice.turnServers[i];
    if (turn.transport == config::TurnTransport::Tls) continue;
    Server sv;
    sv.turn = true;
    sv.index = i;
    sv.endpoint = fmt::format("{}:{}", turn.host, turn.port);
    sv.udp = turn.transport == config::TurnTransport::Udp;
    servers_.push_back(std::move(sv));
  }
  if (settings_.metrics != nullptr)
    for (auto& sv : servers_)
      sv.unanswered = &settings_.metrics->counter(
          "rtcgate_ice_server_unanswered_total",
          "Gatherings in which ice.stun_servers[index] (type stun) or ice.turn_servers[index] (type turn) did not "
          "answer (silent until the deadline, or unreachable)",
          {{"type", sv.turn ? "turn" : "stun"}, {"index", std::to_string(sv.index)}});
  handlers_.push_back(g_signal_connect(agent_.get(), "new-candidate-full", G_CALLBACK(&IceAgent::onNewCandidate), this));
  handlers_.push_back(g_signal_connect(agent_.get(), "candidate-gathering-done", G_CALLBACK(&IceAgent::onGatheringDone), this));
  handlers_.push_back(g_signal_connect(agent_.get(), "component-state-changed", G_CALLBACK(&IceAgent::onStateChanged), this));
  handlers_.push_back(g_signal_connect(agent_.get(), "new-selected-pair-full", G_CALLBACK(&IceAgent::onSelectedPair), this));
  nice_agent_attach_recv(agent_.get(), streamId_, 1, loop_.context(), &IceAgent::onReceive, this);
}

void IceAgent::addRelay(const config::TurnServer& turn) {
  auto creds = turnCredentials(turn, std::chrono::system_clock::now());
  if (!nice_agent_set_relay_info(agent_.get(), streamId_, 1, turn.host.c_str(), turn.port, creds.username.c_str(),
                                 creds.password.reveal().c_str(), relayType(turn.transport)))
    logger()->warn("TURN server {}:{} refused by libnice", turn.host, turn.port);
}

IceAgent::~IceAgent() {
  if (agent_) closeAsync(nullptr);
}

void IceAgent::gather() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!nice_agent_gather_candidates(agent_.get(), streamId_)) {
    fail("ICE gathering could not start (no usable local address or port)");
    return;
  }
  // An unreachable STUN/TURN server must not hold the answer back (the seed deployment took 40 s): after the
  // deadline the description goes out with what was gathered; the agent keeps using late candidates for checks.
  gatherDeadline_ = Timer(loop_, std::chrono::milliseconds(settings_.ice->gatherDeadlineMs), [this] {
    reportGathered(GatherEnd::Deadline);
    return false;
  });
  // A server that provably cannot answer must not hold the deadline either (ServerProbe); TCP TURN servers are
  // not probed (libnice's own connect reports them).
  for (size_t i = 0; i < servers_.size(); ++i) {
    auto& sv = servers_[i];
    if (!sv.udp) continue;
    const auto colon = sv.endpoint.rfind(':');
    sv.probe = std::make_unique<ServerProbe>(
        loop_, sv.endpoint.substr(0, colon), static_cast<uint16_t>(std::stoi(sv.endpoint.substr(colon + 1))),
        [this, i](ServerProbe::Result r, int error) { onProbe(i, r, error); });
  }
  connectTimer_ = Timer(loop_, std::chrono::milliseconds(settings_.ice->connectTimeoutMs), [this] {
    if (connected_ || failed_) return false;
    if (regathered_ && callbacks_.relayLost) {
      callbacks_.relayLost("ICE did not connect again within ice.connect_timeout_ms after the restart");
      return false;
    }
    fail("ICE did not connect within ice.connect_timeout_ms", &connectTimer_);
    return false;
  });
}

void IceAgent::onProbe(size_t index, ServerProbe::Result result, int error) {
  auto& sv = servers_[index];
  if (gathered_ || sv.state != Server::State::Pending) return;
  if (result == ServerProbe::Result::Unreachable) {
    sv.state = Server::State::Unreachable;
    sv.unreachableWhy = std::strerror(error);
  } else if (sv.turn) {
    sv.probeAnswered = true;  // answered: its relay candidate decides (maybeGatheredEarly)
  } else {
    sv.state = Server::State::Answered;
  }
  maybeGatheredEarly();
}

// Gathering is complete before the deadline when the STUN server answered (or cannot) and every TURN server that
// can answer has given its relay candidate. libnice does not say which server a relay candidate came from, so the
// relay candidates are counted.
void IceAgent::maybeGatheredEarly() {
  if (gathered_ || servers_.empty()) return;
  size_t turnsExpected = 0;
  bool unreachable = false;
  for (auto& sv : servers_) {
    if (sv.state == Server::State::Unreachable) {
      unreachable = true;
      continue;
    }
    if (!sv.turn && sv.state == Server::State::Pending) return;
    if (sv.turn) ++turnsExpected;
  }
  if (relayCandidates_ < turnsExpected) return;
  for (auto& sv : servers_)
    if (sv.turn && sv.state == Server::State::Pending) sv.state = Server::State::Answered;
  reportGathered(unreachable ? GatherEnd::Unreachable : GatherEnd::Answered);
}

void IceAgent::reportGathered(GatherEnd end) {
  if (gathered_) return;
  gathered_ = true;
  gatherEnd_ = end;
  if (settings_.metrics != nullptr && !servers_.empty()) {
    const char* name = end == GatherEnd::Deadline      ? "rtcgate_ice_gathering_deadline_total"
                       : end == GatherEnd::Unreachable ? "rtcgate_ice_gathering_unreachable_total"
                                                       : "rtcgate_ice_gathering_answered_total";
    const char* help = end == GatherEnd::Deadline
                           ? "ICE gatherings ended by ice.gather_deadline_ms with a STUN/TURN server still silent"
                       : end == GatherEnd::Unreachable
                           ? "ICE gatherings ended early: every STUN/TURN server answered or was unreachable"
                           : "ICE gatherings ended early: every STUN/TURN server answered";
    settings_.metrics->counter(name, help).fetch_add(1, std::memory_order_relaxed);
  }
  for (auto& sv : servers_) {
    if (sv.probe) sv.probe->cancel();  // possibly from inside its own callback: released with the agent
    // A TURN server that answered our Binding request but gave no relay candidate in time did answer (its
    // allocation may follow and is still used for checks).
    const bool answered = sv.state == Server::State::Answered || (sv.turn && sv.probeAnswered);
    const std::string key = fmt::format("{} {}", sv.turn ? "TURN" : "STUN", sv.endpoint);
    if (answered) {
      if (UnansweredEpisodes::leave(key)) logger()->info("{} server {} answers again", sv.turn ? "TURN" : "STUN", sv.endpoint);
      continue;
    }
    if (sv.unanswered) sv.unanswered->fetch_add(1, std::memory_order_relaxed);
    if (UnansweredEpisodes::enter(key))
      logger()->warn("{} server {} (ice.{}_servers[{}]) {}; calls go on without its candidates (logged once until "
                     "it answers again, counted in rtcgate_ice_server_unanswered_total{{type=\"{}\",index=\"{}\"}})",
                     sv.turn ? "TURN" : "STUN", sv.endpoint, sv.turn ? "turn" : "stun", sv.index,
                     sv.state == Server::State::Unreachable ? "is unreachable (" + sv.unreachableWhy + ")"
                                                            : "did not answer within ice.gather_deadline_ms",
                     sv.turn ? "turn" : "stun", sv.index);
  }
  if (callbacks_.gathered) callbacks_.gathered();
}

std::string IceAgent::localUfrag() const {
  gchar *ufrag = nullptr, *pwd = nullptr;
  nice_agent_get_local_credentials(agent_.get(), streamId_, &ufrag, &pwd);
  std::string out = ufrag ? ufrag : "";
  g_free(ufrag);
  g_free(pwd);
  return out;
}

std::string IceAgent::localPwd() const {
  gchar *ufrag = nullptr, *pwd = nullptr;
  nice_agent_get_local_credentials(agent_.get(), streamId_, &ufrag, &pwd);
  std::string out = pwd ? pwd : "";
  g_free(ufrag);
  g_free(pwd);
  return out;
}

std::vector<sdp::IceCandidate> IceAgent::localCandidates() const {
  std::vector<sdp::IceCandidate> out;
  CandidateList list(nice_agent_get_local_candidates(agent_.get(), streamId_, 1));
  for (GSList* i = list.get(); i != nullptr; i = i->next) {
    auto* c = static_cast<NiceCandidate*>(i->data);
    if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP) continue;
    sdp::IceCandidate sc;
    sc.foundation = c->foundation;
    sc.component = c->component_id;
    sc.priority = c->priority;
    sc.address = addressString(c->addr);
    sc.port = static_cast<uint16_t>(nice_address_get_port(&c->addr));
    sc.type = typeName(c->type);
    if (c->type == NICE_CANDIDATE_TYPE_HOST) {
      // RFC 8445 §5.1.1.1 lets an agent advertise another address for a host candidate when a static 1:1 NAT
      // maps it (the browser's checks then arrive at the local address through the NAT).
      for (auto& [local, adv] : settings_.advertised)
        if (local == sc.address) sc.address = adv;
    } else {
      sc.relAddr = addressString(c->base_addr);
      sc.relPort = static_cast<uint16_t>(nice_address_get_port(&c->base_addr));
    }
    // Browsers on the internet should check the reachable pair first (issue 12). libnice keeps its own
    // priorities for the checks it paces; 0.1.21 has no API to set a candidate's local preference.
    sc.priority = preferPublicPriority(c->priority, sc.address);
    out.push_back(std::move(sc));
  }
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.priority > b.priority; });
  return out;
}

bool IceAgent::setRemote(const std::string& ufrag, const std::string& pwd,
                         const std::vector<sdp::IceCandidate>& candidates, std::string* error, size_t* refused) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  // RFC 8445 §5.3: ufrag at least 4 and password at least 22 characters; bounded above against abuse.
  if (ufrag.size() < 4 || ufrag.size() > 256 || pwd.size() < 22 || pwd.size() > 256) {
    if (error) *error = "ICE credentials missing or malformed (ice-ufrag/ice-pwd)";
    return false;
  }
  if (!nice_agent_set_remote_credentials(agent_.get(), streamId_, ufrag.c_str(), pwd.c_str())) {
    if (error) *error = "libnice refused the remote ICE credentials";
    return false;
  }
  // After regather(): JsSIP answers our ICE-restart re-INVITE before Chromium has gathered again (its
  // iceGatheringState is still 'complete' from the old generation), so the answer may carry no candidate at all.
  // The browser's previous addresses are checked too: usually still right, and through our new relay the checks
  // install the TURN permissions (per IP address, RFC 8656 §9) that let the browser's own checks reach us.
  std::vector<sdp::IceCandidate> all = candidates;
  for (auto& prev : previousRemotes_) {
    const bool known = std::any_of(all.begin(), all.end(), [&](const sdp::IceCandidate& c) {
      return c.address == prev.address && c.port == prev.port;
    });
    if (!known) all.push_back(prev);
  }
  previousRemotes_.clear();
  GSList* list = nullptr;
  size_t count = 0;
  for (auto& c : all) {
    if (c.transport != "udp" || c.component != 1 || ++count > 64) continue;
    if (!decideRemoteCandidate(settings_.ice->candidates, c.address).allowed) {
      if (refused) ++*refused;
      continue;
    }
    NiceCandidateType type = NICE_CANDIDATE_TYPE_HOST;
    if (c.type == "srflx") type = NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE;
    else if (c.type == "prflx") type = NICE_CANDIDATE_TYPE_PEER_REFLEXIVE;
    else if (c.type == "relay") type = NICE_CANDIDATE_TYPE_RELAYED;
    NiceCandidate* nc = nice_candidate_new(type);
    nc->stream_id = streamId_;
    nc->component_id = 1;
    nc->transport = NICE_CANDIDATE_TRANSPORT_UDP;
    nc->priority = c.priority;
    g_strlcpy(nc->foundation, c.foundation.c_str(), NICE_CANDIDATE_MAX_FOUNDATION);
    if (!nice_address_set_from_string(&nc->addr, c.address.c_str())) {
      nice_candidate_free(nc);
      continue;
    }
    nice_address_set_port(&nc->addr, c.port);
    list = g_slist_append(list, nc);
  }
  CandidateList owned(list);
  if (list != nullptr && nice_agent_set_remote_candidates(agent_.get(), streamId_, 1, list) < 0) {
    if (error) *error = "libnice refused the remote candidates";
    return false;
  }
  return true;
}

std::vector<std::string> IceAgent::remoteCandidates() const {
  std::vector<std::string> out;
  CandidateList list(nice_agent_get_remote_candidates(agent_.get(), streamId_, 1));
  for (GSList* i = list.get(); i != nullptr; i = i->next) out.push_back(endpoint(static_cast<NiceCandidate*>(i->data)->addr));
  return out;
}

void IceAgent::restart() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  nice_agent_restart_stream(agent_.get(), streamId_);
  consentSuspended_ = false;
  consentDeadline_.cancel();
  consentProbe_.cancel();
}

// Re-armed while media keeps coming; ends when the consent suspicion is over (answers or media came back:
// consentProbe_/consentDeadline_ clear consentSuspended_) or the relay is declared lost.
void IceAgent::armRelayCheck() {
  const auto quiet = std::chrono::steady_clock::now() - lastPeerActivity_;
  const auto wait = std::max(std::chrono::milliseconds(1),
                             std::chrono::duration_cast<std::chrono::milliseconds>(kLibniceConsentTimeout - quiet));
  relayCheck_ = Timer(loop_, wait, [this] {
    if (failed_ || !connected_ || !consentSuspended_) return false;
    if (std::chrono::steady_clock::now() - lastPeerActivity_ >= kLibniceConsentTimeout) relayLost();
    else armRelayCheck();  // a new timer replaces this one; returning false lets this source go
    return false;
  });
}

void IceAgent::relayLost() {
  connected_ = false;  // nothing more is sent on the dead pair
  callbacks_.relayLost("no ICE consent answer and no media through our TURN relay for 10 s");
}

void IceAgent::regather(std::optional<bool> controlling) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (failed_ || !agent_) return;
  // The new stream binds its sockets while the old one still holds its ports, so the new allocation comes from a
  // new local 5-tuple (RFC 8656 §7.2: an Allocate from a 5-tuple the server still holds gets 437).
  const guint fresh = nice_agent_add_stream(agent_.get(), 1);
  if (fresh == 0) {
    fail("nice_agent_add_stream failed while re-creating the TURN allocation");
    return;
  }
  const guint old = streamId_;
  previousRemotes_.clear();
  {
    CandidateList remotes(nice_agent_get_remote_candidates(agent_.get(), old, 1));
    for (GSList* i = remotes.get(); i != nullptr; i = i->next) {
      auto* c = static_cast<NiceCandidate*>(i->data);
      if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP) continue;
      sdp::IceCandidate sc;
      sc.foundation = "prev";
      sc.component = 1;
      sc.address = addressString(c->addr);
      sc.port = static_cast<uint16_t>(nice_address_get_port(&c->addr));
      // libnice pairs no signalled peer-reflexive candidate (they are learned): a learned one goes in as srflx.
      sc.type = c->type == NICE_CANDIDATE_TYPE_PEER_REFLEXIVE ? "srflx" : typeName(c->type);
      sc.transport = "udp";
      sc.priority = c->priority;
      previousRemotes_.push_back(std::move(sc));
    }
  }
  streamId_ = fresh;
  if (settings_.portMin != 0 || settings_.portMax != 0)
    nice_agent_set_port_range(agent_.get(), streamId_, 1, settings_.portMin, settings_.portMax);
  for (auto& turn : settings_.ice->turnServers)
    if (turn.transport != config::TurnTransport::Tls) addRelay(turn);  // fresh REST credentials too
  nice_agent_attach_recv(agent_.get(), old, 1, loop_.context(), nullptr, nullptr);
  nice_agent_attach_recv(agent_.get(), streamId_, 1, loop_.context(), &IceAgent::onReceive, this);
  nice_agent_remove_stream(agent_.get(), old);
  // libnice changes the role only while every component is disconnected (agent.c priv_update_controlling_mode):
  // now, between the old stream's removal and the new one's gathering.
  if (controlling) setControlling(*controlling);
  // The stream name goes with the stream: set it once the old one is gone (names are unique per agent).
  nice_agent_set_stream_name(agent_.get(), streamId_, "audio");
  cancelTimersExcept(nullptr);
  consentSuspended_ = false;
  connected_ = false;
  selectedLocalFoundation_.clear();
  selectedRemoteFoundation_.clear();
  selectedLocalRelay_ = false;
  relayCandidates_ = 0;
  gathered_ = false;
  gatherEnd_ = GatherEnd::Pending;
  for (auto& sv : servers_) {
    sv.state = Server::State::Pending;
    sv.probeAnswered = false;
    sv.unreachableWhy.clear();
  }
  regathered_ = true;
  gather();
}

void IceAgent::setControlling(bool controlling) {
  g_object_set(agent_.get(), "controlling-mode", controlling ? TRUE : FALSE, nullptr);
}

bool IceAgent::send(const uint8_t* data, size_t len) {
  if (!connected_ || failed_) return false;
  return nice_agent_send(agent_.get(), streamId_, 1, static_cast<guint>(len), reinterpret_cast<const gchar*>(data)) ==
         static_cast<gint>(len);
}

std::optional<IcePairInfo> IceAgent::selectedPair() const {
  NiceCandidate *local = nullptr, *remote = nullptr;
  if (!nice_agent_get_selected_pair(agent_.get(), streamId_, 1, &local, &remote) || !local || !remote)
    return std::nullopt;
  IcePairInfo p;
  p.localType = typeName(local->type);
  p.localAddress = endpoint(local->addr);
  p.remoteType = typeName(remote->type);
  p.remoteAddress = endpoint(remote->addr);
  return p;
}

void IceAgent::onNewCandidate(NiceAgent*, NiceCandidate* candidate, gpointer self) noexcept {
  try {
    auto* me = static_cast<IceAgent*>(self);
    if (candidate->stream_id != me->streamId_) return;  // a stream regather() replaced
    if (candidate->type == NICE_CANDIDATE_TYPE_RELAYED) {
      ++me->relayCandidates_;
      me->maybeGatheredEarly();
    }
  } catch (...) {
    logger()->error("new-candidate handler threw");
  }
}

void IceAgent::onGatheringDone(NiceAgent*, guint streamId, gpointer self) noexcept {
  try {
    auto* me = static_cast<IceAgent*>(self);
    if (streamId != me->streamId_) return;
    // libnice finished every discovery: answers, or its own STUN timeouts (counted as a deadline: a server
    // stayed silent).
    bool unreachable = false, silent = false;
    for (auto& sv : me->servers_) {
      unreachable = unreachable || sv.state == Server::State::Unreachable;
      silent = silent || (sv.state == Server::State::Pending && !sv.probeAnswered);
    }
    me->reportGathered(silent ? GatherEnd::Deadline : unreachable ? GatherEnd::Unreachable : GatherEnd::Answered);
  } catch (...) {
    logger()->error("gathering-done handler threw");
  }
}

void IceAgent::onStateChanged(NiceAgent*, guint streamId, guint, guint state, gpointer self) noexcept {
  try {
    auto* me = static_cast<IceAgent*>(self);
    if (streamId == me->streamId_) me->handleState(state);
  } catch (...) {
    logger()->error("component-state handler threw");
  }
}

void IceAgent::onSelectedPair(NiceAgent*, guint streamId, guint, NiceCandidate* local, NiceCandidate* remote,
                              gpointer self) noexcept {
  try {
    auto* me = static_cast<IceAgent*>(self);
    if (streamId != me->streamId_) return;
    me->selectedLocalFoundation_ = local->foundation;
    me->selectedLocalRelay_ = local->type == NICE_CANDIDATE_TYPE_RELAYED;
    me->selectedRemoteFoundation_ = remote->foundation;
    logger()->debug("selected pair {} {} -> {} {}", typeName(local->type), endpoint(local->addr),
                    typeName(remote->type), endpoint(remote->addr));
  } catch (...) {
    logger()->error("selected-pair handler threw");
  }
}

void IceAgent::onReceive(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer self) noexcept {
  auto* me = static_cast<IceAgent*>(self);
  try {
    // libnice has already consumed STUN and dropped packets from addresses that are not validated remote
    // candidates (nice_component_verify_remote_candidate).
    if (me->callbacks_.receive && len > 0) me->callbacks_.receive(reinterpret_cast<const uint8_t*>(buf), len);
  } catch (...) {
    logger()->error("receive handler threw");
  }
}

void IceAgent::handleState(guint state) {
  if (failed_) return;
  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
      if (!connected_) {
        connected_ = true;
        if (callbacks_.connected) callbacks_.connected();
      }
      break;
    case NICE_COMPONENT_STATE_FAILED:
      // Before the first connection FAILED is not final: a peer-reflexive check from the browser can still
      // succeed (libnice goes FAILED -> CONNECTING then); connect_timeout_ms decides.
      if (!connected_) break;
      // libnice 0.1.21 drops a TURN allocation silently when a Refresh fails or times out (conncheck.c
      // priv_map_reply_to_relay_refresh / refresh_free) and never re-allocates; a restarted TURN server has no
      // allocation either. Through a relay, consent failing (no answer for 10 s, RFC 7675) with no authenticated
      // media from the peer in that time is that loss: re-create it instead of waiting for the consent timeout.
      // A browser on hold keeps answering consent checks and sending RTCP, so it never gets here.
      if (selectedLocalRelay_ && callbacks_.relayLost) {
        const auto quiet = std::chrono::steady_clock::now() - lastPeerActivity_;
        if (quiet >= kLibniceConsentTimeout) {
          relayLost();
          break;
        }
        // Media came within the last 10 s: lost only if none comes for 10 s after it (the consent path keeps
        // the pair meanwhile).
        armRelayCheck();
      }
      consentSuspect();
      break;
    default:
      break;
  }
}

// RFC 7675 §5.1: consent expires when no check has been answered for the consent timeout (30 s recommended).
// libnice 0.1.21 hard-codes 10 s and then refuses to send (PERMISSION_DENIED) and reports FAILED. When the
// configured timeout is longer, the leg keeps the pair: it re-selects it (which restores permission to send;
// libnice keeps sending consent checks on it, and answers refresh its clock) and fails only when the configured
// time since the last answer has passed. A timeout at or below 10 s acts as 10 s (libnice cannot tell earlier).
void IceAgent::consentSuspect() {
  auto now = std::chrono::steady_clock::now();
  auto configured = std::chrono::milliseconds(settings_.ice->consentTimeoutMs);
  if (!consentSuspended_) {
    consentSuspended_ = true;
    consentLostSince_ = now - kLibniceConsentTimeout;
    auto remaining = configured - kLibniceConsentTimeout;
    if (remaining <= std::chrono::milliseconds(0)) {
      fail("ICE consent expired (no consent response for 10 s)");
      return;
    }
    logger()->info("no ICE consent response for 10 s; keeping the pair until ice.consent_timeout_ms ({} ms)",
                   configured.count());
    consentDeadline_ = Timer(loop_, remaining, [this, configured] {
      // libnice does not report consent answers to us; authenticated media from the peer during the last 10 s
      // shows it is there and still wants this session, so the suspicion is dropped (the next libnice failure
      // starts a new one).
      if (std::chrono::steady_clock::now() - lastPeerActivity_ < kLibniceConsentTimeout) {
        logger()->info("ICE consent unconfirmed but the peer is sending authenticated media; keeping the pair");
        consentSuspended_ = false;
        return false;
      }
      fail(fmt::format("ICE consent expired (no consent response for {} ms)", configured.count()), &consentDeadline_);
      return false;
    });
  }
  // Deferred: re-selecting from inside libnice's signal emission would re-enter it.
  reselect_ = Timer(loop_, std::chrono::milliseconds(0), [this] {
    if (!failed_ && consentSuspended_ && !selectedLocalFoundation_.empty())
      nice_agent_set_selected_pair(agent_.get(), streamId_, 1, selectedLocalFoundation_.c_str(),
                                   selectedRemoteFoundation_.c_str());
    consentProbe_ = Timer(loop_, kConsentRecoveredAfter, [this] {
      if (consentSuspended_ && !failed_) {
        logger()->info("ICE consent responses resumed");
        consentSuspended_ = false;
        consentDeadline_.cancel();
      }
      return false;
    });
    return false;
  });
}

void IceAgent::cancelTimersExcept(Timer* firing) {
  // A Timer must not be cancelled from its own callback (it releases its source when the callback returns).
  for (Timer* t : {&gatherDeadline_, &connectTimer_, &consentDeadline_, &consentProbe_, &reselect_, &relayCheck_})
    if (t != firing) t->cancel();
  for (auto& sv : servers_) sv.probe.reset();
}

void IceAgent::fail(const std::string& reason, Timer* firing) {
  if (failed_) return;
  failed_ = true;
  cancelTimersExcept(firing);
  logger()->warn("{}", reason);
  if (callbacks_.failed) callbacks_.failed(reason);
}

void IceAgent::closeAsync(std::function<void()> done) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  failed_ = true;
  cancelTimersExcept(nullptr);
  if (!agent_) return;
  for (auto h : handlers_) g_signal_handler_disconnect(agent_.get(), h);
  handlers_.clear();
  nice_agent_attach_recv(agent_.get(), streamId_, 1, loop_.context(), nullptr, nullptr);
  struct Closing {
    GObjectPtr<NiceAgent> agent;
    std::function<void()> done;
  };
  auto* closing = new Closing{std::move(agent_), std::move(done)};
  // The agent (and its sockets and TURN allocations) lives until libnice reports the close on this loop's context.
  nice_agent_close_async(closing->agent.get(), [](GObject*, GAsyncResult*, gpointer data) {
    std::unique_ptr<Closing> c(static_cast<Closing*>(data));
    c->agent.reset();
    if (c->done) {
      try {
        c->done();
      } catch (...) {
        logger()->error("close callback threw");
      }
    }
  }, closing);
}

}  // namespace rtcgate::media

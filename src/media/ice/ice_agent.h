// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <nice/agent.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/core/c_handle.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/media/candidate_policy.h"
#include "ice/server_probe.h"
#include "rtcgate/sdp/ice_candidate.h"

namespace rtcgate::media {

struct IcePairInfo {
  std::string localType, localAddress;  // "host" / "203.0.113.7:30000"
  std::string remoteType, remoteAddress;
  std::string transport = "udp";
};

// Full ICE (RFC 8445) for one stream with one component (rtcp-mux, BUNDLE) on a libnice agent that lives on one
// media loop; owns the policy-driven gathering with its deadline and the RFC 7675 consent timeout.
// Thread: the owning media loop; all callbacks run there, synchronously from libnice signals or timers, and
// must not destroy this object.
class IceAgent {
public:
  struct Settings {
    bool controlling = false;
    const config::Ice* ice = nullptr;           // required
    uint16_t portMin = 0, portMax = 0;           // 0: any port
    std::vector<LocalAddress> localAddresses;   // already allowed by the candidate policy
    std::vector<std::pair<std::string, std::string>> advertised;  // local -> advertised (nat_1to1)
    Metrics* metrics = nullptr;  // optional: gathering outcome and unanswered-server counters
  };
  // Why gathering was reported complete (rtcgate_ice_gathering_*_total).
  enum class GatherEnd { Pending, Answered, Unreachable, Deadline };
  struct Callbacks {
    std::function<void()> gathered;  // once per gathering (deadline or done, whichever first)
    std::function<void()> connected;
    std::function<void(const std::string& reason)> failed;
    std::function<void(const uint8_t* data, size_t len)> receive;
    // Optional. The selected pair runs through our own TURN relay and neither consent answers nor authenticated
    // media came back for 10 s (the allocation is gone: TURN server restarted, allocation expired, refresh failed),
    // or the ICE restart after regather() did not connect within ice.connect_timeout_ms. Without this callback the
    // ordinary consent handling applies (failed).
    std::function<void(const std::string& reason)> relayLost;
  };

  IceAgent(EventLoop& loop, Settings settings, Callbacks callbacks);
  ~IceAgent();
  IceAgent(const IceAgent&) = delete;
  IceAgent& operator=(const IceAgent&) = delete;

  void gather();
  bool gatheredOnce() const { return gathered_; }
  GatherEnd gatherEnd() const { return gatherEnd_; }
  std::string localUfrag() const;
  std::string localPwd() const;
  // Local candidates gathered so far, host addresses rewritten to their nat_1to1 advertised address.
  std::vector<sdp::IceCandidate> localCandidates() const;

  // Remote credentials and candidates; returns false (with reason) if libnice refuses them. Candidates the remote
  // candidate policy refuses (decideRemoteCandidate) never reach libnice: `refused` counts them.
  bool setRemote(const std::string& ufrag, const std::string& pwd, const std::vector<sdp::IceCandidate>& candidates,
                 std::string* error, size_t* refused = nullptr);
  // The remote candidates libnice holds (checked, or learned peer-reflexive), as "address:port".
  std::vector<std::string> remoteCandidates() const;
  // New local ufrag/pwd (RFC 8445 §9); remote credentials must be set again afterwards.
  void restart();
  void setControlling(bool controlling);
  // A fresh stream in the same agent: new sockets (a new local port, so a TURN server that still holds the old
  // 5-tuple cannot answer 437), new allocations on every TURN server, new ufrag/pwd; the old stream and its
  // allocations are released. Gathering runs as in gather(); remote credentials must be set again afterwards.
  // controlling: the ICE role for the new stream (the offerer of the restart controls).
  void regather(std::optional<bool> controlling = std::nullopt);
  // The selected pair's local candidate is one of our relay candidates.
  bool selectedIsRelay() const { return selectedLocalRelay_; }

  // false if there is no selected pair or consent forbids sending.
  bool send(const uint8_t* data, size_t len);
  bool isConnected() const { return connected_; }
  // The leg saw an authenticated packet (DTLS record or SRTP/SRTCP that passed authentication) from the peer.
  void notePeerActivity() { lastPeerActivity_ = std::chrono::steady_clock::now(); }
  std::optional<IcePairInfo> selectedPair() const;
  // nice_agent_close_async: the agent is released when libnice has closed its sockets and TURN allocations;
  // done (optional) runs on this loop afterwards. This object may be destroyed right after calling it.
  void closeAsync(std::function<void()> done);

private:
  static void onGatheringDone(NiceAgent*, guint streamId, gpointer self) noexcept;
  static void onStateChanged(NiceAgent*, guint streamId, guint componentId, guint state, gpointer self) noexcept;
  static void onSelectedPair(NiceAgent*, guint streamId, guint componentId, NiceCandidate* local,
                             NiceCandidate* remote, gpointer self) noexcept;
  static void onReceive(NiceAgent*, guint streamId, guint componentId, guint len, gchar* buf, gpointer self) noexcept;
  static void onNewCandidate(NiceAgent*, NiceCandidate* candidate, gpointer self) noexcept;
  void reportGathered(GatherEnd end);
  void addRelay(const config::TurnServer& turn);
  void onProbe(size_t server, ServerProbe::Result result, int error);
  void maybeGatheredEarly();
  void handleState(guint state);
  void consentSuspect();
  void relayLost();
  void armRelayCheck();
  void fail(const std::string& reason, Timer* firing = nullptr);
  void cancelTimersExcept(Timer* firing);

  EventLoop& loop_;
  Settings settings_;
  Callbacks callbacks_;
  GObjectPtr<NiceAgent> agent_;
  guint streamId_ = 0;
  std::vector<gulong> handlers_;
  bool gathered_ = false;
  GatherEnd gatherEnd_ = GatherEnd::Pending;
  // The STUN server libnice uses (the first configured) and each UDP/TCP TURN server, while gathering runs.
  struct Server {
    enum class State { Pending, Answered, Unreachable };
    bool turn = false;
    size_t index = 0;  // in ice.stun_servers / ice.turn_servers
    std::string endpoint;
    bool udp = true;
    State state = State::Pending;
    bool probeAnswered = false;  // a TURN server answered our Binding request; its allocation may still be coming
    std::string unreachableWhy;
    std::unique_ptr<ServerProbe> probe;
    std::atomic<uint64_t>* unanswered = nullptr;
  };
  std::vector<Server> servers_;
  size_t relayCandidates_ = 0;
  bool connected_ = false;
  bool failed_ = false;
  std::string selectedLocalFoundation_, selectedRemoteFoundation_;
  bool selectedLocalRelay_ = false;
  bool regathered_ = false;  // the current stream replaced a lost one (regather)
  // The replaced stream's remote candidates (regather), checked again with the next remote description's.
  std::vector<sdp::IceCandidate> previousRemotes_;
  std::chrono::steady_clock::time_point consentLostSince_{};
  bool consentSuspended_ = false;
  std::chrono::steady_clock::time_point lastPeerActivity_{};
  Timer gatherDeadline_;
  Timer connectTimer_;
  Timer consentDeadline_;
  Timer consentProbe_;
  Timer reselect_;
  Timer relayCheck_;  // a relay pair whose consent failed while media still came: lost if media stops too
};

}  // namespace rtcgate::media

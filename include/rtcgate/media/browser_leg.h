// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/media/candidate_policy.h"
#include "rtcgate/media/dtls_certificate.h"
#include "rtcgate/media/dtls_transport.h"
#include "rtcgate/media/rtp/rtcp_reporter.h"
#include "rtcgate/media/rtp/rtp_receive_stats.h"
#include "rtcgate/media/rtp/rtp_packet.h"
#include "rtcgate/media/srtp_session.h"
#include "rtcgate/sdp/session_description.h"

namespace rtcgate::media {

class LegSetupMetrics;

class IceAgent;

enum class LegRole { Offerer, Answerer };  // who made the first offer of this leg
// PeerClosed: the browser closed DTLS (close_notify), normally because its RTCPeerConnection closed at hangup.
enum class LegState { New, Gathering, Connecting, Connected, Failed, PeerClosed, Closed };
const char* toString(LegState s);
enum class SendStatus { Ok, NotReady, BadSize, ProtectFailed, SendFailed };

struct LegStats {
  LegState state = LegState::New;
  std::string failureReason;
  std::string iceLocalType, iceLocalAddress, iceRemoteType, iceRemoteAddress;
  DtlsState dtlsState = DtlsState::New;
  std::string dtlsRole;     // "client" / "server" / ""
  std::string srtpProfile;  // "" until DTLS completed
  uint64_t rtpPacketsSent = 0, rtpBytesSent = 0, rtcpPacketsSent = 0;
  uint64_t rtpPacketsReceived = 0, rtpBytesReceived = 0, rtcpPacketsReceived = 0;
  uint64_t srtpAuthFailures = 0, srtpReplayFailures = 0, droppedBeforeDtls = 0;
  uint64_t rtpMalformed = 0;  // authenticated, but not a valid RTP packet
  uint64_t rtpRateLimited = 0;  // authenticated, over media.packet_rate: dropped before the bridge
  uint64_t demuxUnknown = 0;    // not DTLS, RTP or RTCP by RFC 7983 (and no STUN libnice took): dropped
  int64_t packetsLost = 0;   // RFC 3550 A.3, current inbound SSRC
  double jitterMs = 0;       // RFC 3550 A.8, needs the payload type's clock rate (setClockRate)
  uint64_t rtcpMalformed = 0;  // authenticated SRTCP that is no valid compound RTCP (RFC 3550 A.2): ignored
  std::optional<double> rttMs;  // RFC 3550 6.4.1 from the browser's report block about our SR; nullopt until one
};

// Process-wide parts every leg shares. Thread: immutable after start, read by all media workers.
struct MediaContext {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const DtlsCertificate> certificate;
  Metrics* metrics = nullptr;  // required
  // Local addresses to choose from; empty: getifaddrs() at leg creation.
  std::vector<LocalAddress> localAddressesOverride;
  // RTCP report interval before randomisation: RFC 3550 6.2's 5 s minimum; tests shorten it.
  std::chrono::milliseconds rtcpInterval{5000};
};

// The browser-facing media endpoint of one call: ICE (libnice) + DTLS 1.2 + SRTP on one UDP component with
// rtcp-mux, demultiplexed per RFC 7983. The session layer gives it the browser's transport (sdp::TransportParams
// of the audio m-line), reads the leg's own transport for its SDP, sends plain RTP/RTCP and receives decrypted
// RTP/RTCP.
// Thread: created, used and destroyed on one media worker loop. Event callbacks (localDescription, connected,
// failed) are posted, so the owner may destroy the leg in them; rtp/rtcp run synchronously on the packet path and
// must not destroy it. Ownership: the session layer, which calls close() and destroys it on this loop.
class BrowserLeg {
public:
  struct Callbacks {
    // Local ICE/DTLS pieces, once gathering finished or its deadline passed (and, for an answerer, once the
    // remote description is known). Again after restartIce().
    std::function<void(const sdp::TransportParams& local)> localDescription;
    std::function<void()> connected;  // DTLS done; SRTP keys installed
    std::function<void(const std::string& reason)> failed;
    // The browser sent DTLS close_notify: not a failure (failed() does not follow, and later ICE/consent losses are
    // not reported). The leg sends nothing more; the owner decides when the call ends (normally at the BYE).
    std::function<void()> closedByPeer;
    // Decrypted RTP: the packet and its header, parsed once here (malformed ones are counted and dropped).
    std::function<void(const RtpHeader& header, const uint8_t* packet, size_t len)> rtp;
    std::function<void(const uint8_t* data, size_t len)> rtcp;  // decrypted RTCP
    // Optional. Our TURN allocation under the selected pair was lost and re-created on new sockets: this offer (new
    // ice-ufrag/ice-pwd and candidates, the same fingerprint, a=setup:actpass) must reach the browser (re-INVITE);
    // its answer comes back through setRemoteDescription, a failure through relayRestartFailed. Without it a lost
    // allocation ends in the ordinary consent failure.
    std::function<void(const sdp::TransportParams& offer)> relayRestartOffer;
  };
  // Attempts to re-create a lost TURN allocation before the leg fails (per loss; backoff 0, 1, 2 s).
  static constexpr int kMaxRelayAttempts = 3;

  BrowserLeg(EventLoop& loop, std::string callId, LegRole role, MediaContext context, Callbacks callbacks);
  ~BrowserLeg();
  BrowserLeg(const BrowserLeg&) = delete;
  BrowserLeg& operator=(const BrowserLeg&) = delete;

  // Legs alive in the process (constructed, not yet destroyed), on any worker: exported as the gauge
  // rtcgate_browser_legs_live so a leak of legs (and of their ICE agent, SSL and buffers) shows as a count.
  static uint64_t liveCount();

  // Starts gathering (the description follows through localDescription).
  void start();
  // The browser's transport for our m-line (offer or answer). A new ufrag/pwd is an ICE restart (RFC 8839
  // §4.4.1.1.1): the leg restarts too and reports a new local description. Returns false with a reason if it is
  // unacceptable (no fingerprint, no rtcp-mux, actpass in an answer, DTLS role change...).
  bool setRemoteDescription(const sdp::TransportParams& remote, std::string* error);
  // Our transport as it goes into our next SDP: setup actpass in offers, the established/chosen role in answers.
  sdp::TransportParams localTransport(bool forOffer) const;
  // New local ICE credentials (our re-offer with ICE restart); a new localDescription follows.
  void restartIce();
  // The re-offer of relayRestartOffer did not reach an answer (re-INVITE failed, answer refused): counts as a
  // failed attempt; the next one follows after its backoff, or the leg fails.
  void relayRestartFailed(const std::string& why);

  // One plain RTP/RTCP packet; protected and sent on the selected pair. NotReady before DTLS completed.
  SendStatus sendRtp(const uint8_t* data, size_t len);
  // The same, protected in the caller's buffer when it has SrtpSession::kMaxOverhead bytes of room after the
  // packet (the media bridge's packet buffer does): the payload is not copied again.
  SendStatus sendRtpInPlace(uint8_t* packet, size_t len, size_t capacity);
  SendStatus sendRtcp(const uint8_t* data, size_t len);
  // Clock rate for jitter of a payload type (the negotiated codec's).
  void setClockRate(int payloadType, uint32_t hz);

  LegState state() const { return state_; }
  LegStats stats() const;
  // The browser's candidates the ICE agent holds (those the remote candidate policy let through, and learned
  // peer-reflexive ones), as "address:port".
  std::vector<std::string> remoteCandidates() const;
  // Sends DTLS close_notify, closes the ICE agent asynchronously (nice_agent_close_async); closed runs on this loop
  // when libnice has released its sockets. No callback of the leg runs after close().
  void close(std::function<void()> closed = nullptr);

private:
  void onGathered();
  void onIceConnected();
  void onReceive(const uint8_t* data, size_t len);
  void onDtlsConnected(const DtlsSrtpKeys& keys);
  void maybeReportLocal();
  void maybeStartDtls();
  void fail(const std::string& reason);
  void onDtlsClosedByPeer();
  void onRelayLost(const std::string& reason);
  void recreateRelay();
  void handleSrtp(uint8_t* data, size_t len);
  void updateInbound(const RtpHeader& h);
  void onRtcp(const uint8_t* data, size_t len);
  void armRtcp(bool first);
  void sendReport();
  SendStatus sendProtected(const uint8_t* data, size_t len, bool rtcp);
  SendStatus protectAndSend(uint8_t* buf, size_t len, size_t capacity, bool rtcp);
  template <typename Fn>
  void emit(Fn fn);

  EventLoop& loop_;
  std::string callId_;
  LegRole role_;
  MediaContext ctx_;
  Callbacks callbacks_;
  std::shared_ptr<bool> alive_;
  std::unique_ptr<IceAgent> ice_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_;
  LegState state_ = LegState::New;
  std::string failureReason_;
  // fail() that also counts `byReason`, the failure counter of its reason (LegSetupMetrics), once with the failure.
  void fail(const std::string& reason, std::atomic<uint64_t>* byReason);
  // Setup time histograms and failures by reason (leg_setup_metrics.h); the ICE clock starts when both our
  // gathering and the browser's description are there, the DTLS one when the handshake starts.
  std::unique_ptr<LegSetupMetrics> setupMetrics_;
  std::chrono::steady_clock::time_point startedAt_, remoteAt_, dtlsStartedAt_;
  bool iceTimed_ = false;
  bool remoteSet_ = false;
  bool localPending_ = false;
  bool nextLocalIsOffer_ = false;  // whether the next reported local description goes into an offer
  bool awaitingAnswer_ = false;    // we offered; the next remote description is the answer
  std::string remoteUfrag_, remotePwd_;
  std::optional<DtlsRole> dtlsRole_;
  std::vector<sdp::Fingerprint> lastFingerprints_;
  std::string mid_ = "0";
  std::map<int, uint32_t> clockRates_;
  // A lost TURN allocation being re-created (onRelayLost): attempts in this loss, when it was noticed.
  bool relayRecovering_ = false;
  bool relayOfferPending_ = false;  // the next local description is the relayRestartOffer
  int relayAttempts_ = 0;
  std::chrono::steady_clock::time_point relayLostAt_{};
  Timer relayRetry_;
  // Packet path state (no allocation per packet).
  std::vector<uint8_t> sendBuffer_;
  std::vector<uint8_t> recvBuffer_;
  LegStats counters_;
  TokenBucket rtpRate_{0, 1};  // media.packet_rate, set at construction
  // Receive statistics of the current inbound SSRC (a new SSRC starts them again).
  struct Inbound {
    uint32_t ssrc = 0;
    uint32_t clockRate = 0;  // of the last packet whose payload type had one; 0: jitter unknown
    RtpReceiveStats stats;
  };
  std::optional<Inbound> inbound_;
  // Our SR/RR toward the browser (Chromium answers an SR with LSR/DLSR: the RTT) and what its reports say.
  RtcpReporter rtcp_;
  Timer rtcpTimer_;
  RtcpReporter::Outbound outbound_;  // SSRC and timestamp of the RTP we last sent (the bridge chooses them)
  std::atomic<uint64_t>* rtcpMalformed_;
  std::atomic<uint64_t>* authFailures_;
  std::atomic<uint64_t>* replayFailures_;
  std::atomic<uint64_t>* droppedBeforeDtls_;
  std::atomic<uint64_t>* demuxUnknown_;
  std::atomic<uint64_t>* remoteCandidatesRefused_;
  std::atomic<uint64_t>* legsFailed_;
  std::atomic<uint64_t>* legsClosedByPeer_;
  std::atomic<uint64_t>* rtpRateLimited_;
  std::atomic<uint64_t>* turnLost_;
  std::atomic<uint64_t>* turnRecreated_;
  std::atomic<uint64_t>* turnRecoveryFailed_;
  std::atomic<uint64_t>* iceRestartsTurnLost_;
};

}  // namespace rtcgate::media

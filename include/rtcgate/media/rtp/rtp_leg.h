// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <glib.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/core/rate_limiter.h"
#include "rtcgate/media/rtp/datagram_batch.h"
#include "rtcgate/media/rtp/rtcp_packet.h"
#include "rtcgate/media/rtp/rtcp_reporter.h"
#include "rtcgate/media/rtp/rtp_packet.h"
#include "rtcgate/media/rtp/rtp_port_pool.h"
#include "rtcgate/media/rtp/rtp_receive_stats.h"

namespace rtcgate::media {

struct RtpLegConfig {
  std::string localAddress = "127.0.0.1";        // media.rtp_address
  std::chrono::milliseconds inactivityTimeout{30000};  // media.rtp_timeout_ms; 0: never
  std::chrono::milliseconds rtcpInterval{5000};  // RFC 3550 §6.2 minimum for a two-party session; randomised x0.5..1.5
  uint32_t clockRate = 8000;
  std::string cname = "rtcgate";
  Rate packetRate{};  // media.packet_rate: RTP packets accepted from the peer; perSecond 0 = no cap
};

struct RtpLegStats {
  uint64_t packetsSent = 0, bytesSent = 0;          // payload octets, as in the SR
  uint64_t packetsReceived = 0, bytesReceived = 0;
  int64_t packetsLost = 0;
  uint32_t jitter = 0;                              // timestamp units (RFC 3550 A.8)
  uint64_t droppedForeign = 0;                      // from an address or port other than the SDP's
  uint64_t malformed = 0;                           // did not parse, or larger than a datagram buffer (cut)
  uint64_t rateLimited = 0;                         // over media.packet_rate, dropped before the bridge
  uint64_t srReceived = 0, rrReceived = 0, rtcpSent = 0;
  uint64_t rtpReceiveCalls = 0;                     // recvmmsg calls on the RTP socket (up to 16 datagrams each)
  std::optional<ReportBlock> remoteReport;          // the peer's latest report about our stream
  std::optional<double> rttMs;                      // RFC 3550 6.4.1 from that report; nullopt until one gave it
};

// The plain RTP/RTCP leg toward Genesys: an even/odd UDP port pair on the private side, locked to the address and
// ports the SDP names, RTCP SR/RR, inactivity timeout, RFC 3550 statistics.
// Thread: one media worker's loop (construct, use, destroy there). No exceptions or allocation per packet.
class RtpLeg {
public:
  using PacketFn = std::function<void(const RtpHeader&, std::span<const uint8_t> payload)>;

  RtpLeg(EventLoop& loop, RtpPortSlice& ports, RtpLegConfig config, Metrics& metrics);
  ~RtpLeg();
  RtpLeg(const RtpLeg&) = delete;
  RtpLeg& operator=(const RtpLeg&) = delete;

  // Binds a port pair and starts receiving; false when the slice has no free pair.
  bool open();
  uint16_t localPort() const { return sockets_.port; }
  const std::string& localAddress() const { return config_.localAddress; }
  // The peer's media from its SDP (numeric addresses): RTP goes to and is accepted only from address:port, RTCP
  // only rtcpAddress:rtcpPort (RFC 3605 a=rtcp; empty / 0: the same address, port + 1). Packets from any other
  // address or port are dropped and counted (RTP injection and bleed, issue 11); symmetric RTP (RFC 4961) means a
  // legitimate peer sends from the port it announced. The caller has checked the destination (session's
  // MediaDestinationPolicy).
  bool setRemote(const std::string& address, uint16_t port, const std::string& rtcpAddress = {},
                 uint16_t rtcpPort = 0);
  // No destination (RFC 3264 §8.4 c=0.0.0.0 hold, a rejected stream): nothing is sent, RTP or RTCP, until the
  // next setRemote. What the previous peer still sends (music on hold) is accepted from where it was locked.
  void clearRemote();
  bool hasDestination() const { return haveRemote_ && sending_; }

  // The payload points into the worker's DatagramBatch: valid during the call only. The callback must not iterate
  // the worker's GMainContext (the leg's sources may recurse, and a nested receive would reuse that batch).
  void setOnPacket(PacketFn fn) { onPacket_ = std::move(fn); }
  // Called once when no RTP arrived for inactivityTimeout (again only after RTP resumed and stopped again).
  void setOnTimeout(std::function<void()> fn) { onTimeout_ = std::move(fn); }
  // Hold: while the peer's SDP says it sends nothing (inactive, recvonly, c=0.0.0.0) silence is no failure, so the
  // inactivity timeout is suspended; resuming restarts its count from now.
  void setExpectingMedia(bool expecting);

  RtpStatus send(uint8_t payloadType, uint32_t timestamp, bool marker, std::span<const uint8_t> payload);
  // Sends an SR (when we sent RTP since the last report) or an RR now; the timer does this every rtcpInterval
  // (randomised, RtcpReporter::nextInterval).
  void sendRtcp();
  RtpLegStats stats() const;
  uint32_t ssrc() const { return ssrc_; }

private:
  static gboolean onReadable(gint fd, GIOCondition, gpointer self);
  void readRtp();
  void readRtcp();
  void handleRtp(const DatagramBatch::Datagram& d);
  void handleRtcp(const DatagramBatch::Datagram& d);
  void countMalformed();
  bool from(const sockaddr_storage& src, const sockaddr_storage& expected) const;
  void countForeign();
  void checkInactivity();
  void armRtcp(bool first);

  EventLoop& loop_;
  RtpPortSlice& ports_;
  RtpLegConfig config_;
  std::atomic<uint64_t>& droppedForeignTotal_;
  std::atomic<uint64_t>& malformedTotal_;
  std::atomic<uint64_t>& timeoutsTotal_;
  std::atomic<uint64_t>& rateLimitedTotal_;
  TokenBucket packetRate_;
  RtpSocketPair sockets_;
  GSource* rtpSource_ = nullptr;
  GSource* rtcpSource_ = nullptr;
  Timer rtcpTimer_;
  Timer inactivityTimer_;
  sockaddr_storage remoteRtp_{};
  sockaddr_storage remoteRtcp_{};
  bool haveRemote_ = false;  // the SDP's address and ports are known: packets from there are accepted
  bool sending_ = false;     // ...and they are a destination
  PacketFn onPacket_;
  std::function<void()> onTimeout_;
  uint32_t ssrc_;
  uint16_t seq_;
  uint32_t lastTimestamp_ = 0;
  std::optional<uint32_t> remoteSsrc_;
  RtcpReporter rtcp_;
  std::chrono::steady_clock::time_point lastRx_;
  bool timedOut_ = false;
  bool expectingMedia_ = true;
  RtpLegStats stats_;
  RtpReceiveStats rx_;
};

}  // namespace rtcgate::media

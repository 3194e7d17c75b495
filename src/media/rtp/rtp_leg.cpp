// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/rtp_leg.h"

#include <glib-unix.h>
#include <netinet/in.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include "rtcgate/core/address.h"
#include "rtcgate/media/rtp/datagram_batch.h"

namespace rtcgate::media {
namespace {

// Batches (recvmmsg calls of DatagramBatch::kCapacity) per wakeup: at most 64 packets, which bounds the time one
// busy leg holds its worker; the socket stays readable and the loop comes back to it.
constexpr int kMaxBatchesPerWakeup = 4;

uint16_t portOf(const sockaddr_storage& s) {
  if (s.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(s).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(s).sin_port);
}

bool sameEndpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (portOf(a) != portOf(b)) return false;
  auto x = IpAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&a));
  return x && x == IpAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&b));
}

socklen_t lengthOf(const sockaddr_storage& s) {
  return s.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

GSource* watch(EventLoop& loop, int fd, GUnixFDSourceFunc fn, gpointer self) {
  GSource* s = g_unix_fd_source_new(fd, G_IO_IN);
  // GLib 2.74 blocks a source that cannot recurse while it dispatches: it takes the fd out of the context's poll
  // set and puts it back, and each change writes the context's wakeup eventfd, so every RTP wakeup cost two
  // write(2)s, then a read(2) and an extra poll round (issue 14: 1.5 of the ~7.6 syscalls per packet). The leg's
  // callbacks never iterate the context, so the source cannot recurse.
  g_source_set_can_recurse(s, TRUE);
  g_source_set_callback(s, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(fn)), self, nullptr);
  g_source_attach(s, loop.context());
  return s;
}

void unwatch(GSource*& s) {
  if (s == nullptr) return;
  g_source_destroy(s);
  g_source_unref(s);
  s = nullptr;
}

}  // namespace

RtpLeg::RtpLeg(EventLoop& loop, RtpPortSlice& ports, RtpLegConfig config, Metrics& metrics)
    : loop_(loop),
      ports_(ports),
      config_(std::move(config)),
      droppedForeignTotal_(metrics.counter("rtcgate_rtp_dropped_foreign_total",
                                           "RTP/RTCP packets dropped: source is not the SDP's address and port")),
      malformedTotal_(metrics.counter("rtcgate_rtp_malformed_total", "RTP/RTCP packets that did not parse")),
      timeoutsTotal_(metrics.counter("rtcgate_rtp_timeouts_total", "RTP legs that saw no RTP for rtp_timeout_ms")),
      rateLimitedTotal_(metrics.counter("rtcgate_rtp_rate_limited_total",
                                        "RTP packets from Genesys dropped over media.packet_rate (per stream)")),
      packetRate_(config_.packetRate.perSecond, std::max<uint32_t>(config_.packetRate.burst, 1)),
      ssrc_(g_random_int()),
      seq_(static_cast<uint16_t>(g_random_int())),
      lastRx_(std::chrono::steady_clock::now()) {}

RtpLeg::~RtpLeg() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  unwatch(rtpSource_);
  unwatch(rtcpSource_);
}

bool RtpLeg::open() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (sockets_.port != 0) return true;
  auto pair = ports_.bindPair(config_.localAddress);
  if (!pair) return false;
  sockets_ = std::move(*pair);
  rtpSource_ = watch(loop_, sockets_.rtp.fd(), &RtpLeg::onReadable, this);
  rtcpSource_ = watch(loop_, sockets_.rtcp.fd(), &RtpLeg::onReadable, this);
  armRtcp(true);
  lastRx_ = std::chrono::steady_clock::now();
  if (config_.inactivityTimeout.count() > 0) {
    auto tick = std::max(std::chrono::milliseconds(20), std::min(config_.inactivityTimeout / 4,
                                                                 std::chrono::milliseconds(1000)));
    inactivityTimer_ = Timer(loop_, tick, [this] {
      checkInactivity();
      return true;
    });
  }
  return true;
}

bool RtpLeg::setRemote(const std::string& address, uint16_t port, const std::string& rtcpAddress, uint16_t rtcpPort) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  auto a = IpAddress::parse(address);
  auto r = rtcpAddress.empty() ? a : IpAddress::parse(rtcpAddress);
  if (!a || !r || port == 0 || (rtcpPort == 0 && port == 65535)) return false;
  a->toSockaddr(port, remoteRtp_);
  r->toSockaddr(rtcpPort != 0 ? rtcpPort : static_cast<uint16_t>(port + 1), remoteRtcp_);
  haveRemote_ = sending_ = true;
  lastRx_ = std::chrono::steady_clock::now();
  return true;
}

void RtpLeg::clearRemote() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  sending_ = false;
}

RtpStatus RtpLeg::send(uint8_t payloadType, uint32_t timestamp, bool marker, std::span<const uint8_t> payload) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!haveRemote_ || !sending_ || sockets_.port == 0) return RtpStatus::NoSpace;
  if (payload.size() > DatagramBatch::kDatagramBytes - 12) return RtpStatus::NoSpace;
  RtpHeader h;
  h.payloadType = payloadType;
  h.marker = marker;
  h.sequence = seq_++;
  h.timestamp = timestamp;
  h.ssrc = ssrc_;
  // Our header and the caller's payload go out as two iovecs: the payload is not copied again on its way out.
  std::array<uint8_t, 12> header{};
  const size_t n = writeRtpHeader(h, header);
  iovec parts[2] = {{header.data(), n}, {const_cast<uint8_t*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr_storage*>(&remoteRtp_);
  msg.msg_namelen = lengthOf(remoteRtp_);
  msg.msg_iov = parts;
  msg.msg_iovlen = 2;
  ssize_t sent = sendmsg(sockets_.rtp.fd(), &msg, 0);
  if (sent < 0) return RtpStatus::NoSpace;
  lastTimestamp_ = timestamp;
  ++stats_.packetsSent;
  stats_.bytesSent += payload.size();
  return RtpStatus::Ok;
}

void RtpLeg::armRtcp(bool first) {
  // A new one-shot timer per report, each with its own random interval; replacing the timer from its own callback
  // is safe (the GSource keeps its callback until the dispatch returns).
  rtcpTimer_ = Timer(loop_, RtcpReporter::nextInterval(config_.rtcpInterval, first), [this] {
    sendRtcp();
    armRtcp(false);
    return false;
  });
}

void RtpLeg::sendRtcp() {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!haveRemote_ || !sending_ || sockets_.port == 0) return;
  std::array<uint8_t, 256> out{};
  const RtcpReporter::Outbound tx{ssrc_, lastTimestamp_, stats_.packetsSent, stats_.bytesSent};
  const size_t n = rtcp_.writeReport(tx, &rx_, remoteSsrc_, config_.cname.c_str(), out);
  if (n == 0) return;
  if (sendto(sockets_.rtcp.fd(), out.data(), n, 0, reinterpret_cast<const sockaddr*>(&remoteRtcp_),
             lengthOf(remoteRtcp_)) > 0)
    ++stats_.rtcpSent;
}

gboolean RtpLeg::onReadable(gint fd, GIOCondition, gpointer self) {
  auto* leg = static_cast<RtpLeg*>(self);
  if (fd == leg->sockets_.rtp.fd())
    leg->readRtp();
  else
    leg->readRtcp();
  return G_SOURCE_CONTINUE;
}

bool RtpLeg::from(const sockaddr_storage& src, const sockaddr_storage& expected) const {
  return haveRemote_ && sameEndpoint(src, expected);
}

void RtpLeg::countForeign() {
  ++stats_.droppedForeign;
  droppedForeignTotal_.fetch_add(1, std::memory_order_relaxed);
}

void RtpLeg::countMalformed() {
  ++stats_.malformed;
  malformedTotal_.fetch_add(1, std::memory_order_relaxed);
}

void RtpLeg::readRtp() {
  auto& batch = DatagramBatch::forThisThread();
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    const unsigned n = batch.receive(sockets_.rtp.fd());
    ++stats_.rtpReceiveCalls;
    // In arrival order: the receive statistics and the bridge see the packets as the socket queued them.
    for (unsigned i = 0; i < n; ++i) handleRtp(batch[i]);
    if (n < DatagramBatch::kCapacity) return;  // the queue was empty: no call that ends in EAGAIN
  }
}

void RtpLeg::handleRtp(const DatagramBatch::Datagram& d) {
  if (!from(*d.from, remoteRtp_)) {
    countForeign();
    return;
  }
  // ASVS 17.2.5 (reliability-security.md 3.10): a peer sending far above any codec's packet rate loses the excess
  // here, after the source check (a foreign sender cannot spend this stream's tokens), before parse and bridge.
  const auto now = std::chrono::steady_clock::now();
  if (config_.packetRate.perSecond > 0 && !packetRate_.take(now)) {
    ++stats_.rateLimited;
    rateLimitedTotal_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  RtpHeader h;
  // A datagram cut at the buffer's size is not the packet that was sent: counted, never forwarded in part.
  if (d.truncated || parseRtp(d.data, h) != RtpStatus::Ok) {
    countMalformed();
    return;
  }
  remoteSsrc_ = h.ssrc;
  ++stats_.packetsReceived;
  stats_.bytesReceived += h.payloadSize;
  rx_.update(h.sequence, h.timestamp, arrivalTimestamp(config_.clockRate));
  lastRx_ = now;
  timedOut_ = false;
  if (onPacket_) onPacket_(h, d.data.subspan(h.headerSize, h.payloadSize));
}

void RtpLeg::readRtcp() {
  auto& batch = DatagramBatch::forThisThread();
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    const unsigned n = batch.receive(sockets_.rtcp.fd());
    for (unsigned i = 0; i < n; ++i) handleRtcp(batch[i]);
    if (n < DatagramBatch::kCapacity) return;
  }
}

void RtpLeg::handleRtcp(const DatagramBatch::Datagram& d) {
  if (!from(*d.from, remoteRtcp_)) {
    countForeign();
    return;
  }
  RtcpSummary s;
  if (d.truncated || parseRtcp(d.data, s, ssrc_) != RtpStatus::Ok) {
    countMalformed();
    return;
  }
  ++(s.isSenderReport ? stats_.srReceived : stats_.rrReceived);
  rtcp_.onReport(s, ssrc_);
}

void RtpLeg::setExpectingMedia(bool expecting) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (expecting && !expectingMedia_) {
    lastRx_ = std::chrono::steady_clock::now();
    timedOut_ = false;
  }
  expectingMedia_ = expecting;
}

void RtpLeg::checkInactivity() {
  if (timedOut_ || !haveRemote_ || !expectingMedia_) return;
  if (std::chrono::steady_clock::now() - lastRx_ < config_.inactivityTimeout) return;
  timedOut_ = true;
  timeoutsTotal_.fetch_add(1, std::memory_order_relaxed);
  if (onTimeout_) onTimeout_();
}

RtpLegStats RtpLeg::stats() const {
  RtpLegStats s = stats_;
  s.packetsLost = rx_.lost();
  s.jitter = rx_.jitter();
  s.remoteReport = rtcp_.remoteReport();
  s.rttMs = rtcp_.rttMs();
  return s;
}

}  // namespace rtcgate::media

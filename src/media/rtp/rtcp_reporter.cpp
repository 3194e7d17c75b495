// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/rtcp_reporter.h"

#include <algorithm>
#include <random>

namespace rtcgate::media {
namespace {
// Seconds between 1900 (NTP epoch) and 1970.
constexpr uint64_t kNtpUnixOffset = 2208988800ull;
}  // namespace

uint64_t ntpNow() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  uint64_t secs = static_cast<uint64_t>(us / 1000000) + kNtpUnixOffset;
  uint64_t frac = (static_cast<uint64_t>(us % 1000000) << 32) / 1000000;
  return (secs << 32) | frac;
}

std::optional<double> roundTripMs(uint32_t arrivalMiddle, uint32_t lastSr, uint32_t delaySinceLastSr) {
  if (lastSr == 0) return std::nullopt;
  const auto rtt = static_cast<int32_t>(arrivalMiddle - lastSr - delaySinceLastSr);
  if (rtt < -1) return std::nullopt;
  return rtt <= 0 ? 0.0 : rtt * 1000.0 / 65536.0;
}

size_t RtcpReporter::writeReport(const Outbound& tx, RtpReceiveStats* rx, std::optional<uint32_t> remoteSsrc,
                                 const char* cname, std::span<uint8_t> out) {
  std::optional<ReportBlock> block;
  if (remoteSsrc && rx != nullptr) {
    block = rx->makeReport(*remoteSsrc);
    if (lastSrMiddle_ != 0) {
      // DLSR in 1/65536 s since the peer's last SR arrived (RFC 3550 6.4.1).
      auto since = std::chrono::steady_clock::now() - lastSrArrival_;
      block->lastSr = lastSrMiddle_;
      block->delaySinceLastSr =
          static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(since).count() * 65536 / 1000000);
    }
  }
  size_t n;
  if (tx.packets > sentAtLastReport_) {
    SenderInfo info{ntpNow(), tx.lastTimestamp, static_cast<uint32_t>(tx.packets), static_cast<uint32_t>(tx.octets)};
    n = writeSenderReport(tx.ssrc, info, block ? &*block : nullptr, cname, out);
  } else {
    n = writeReceiverReport(tx.ssrc, block ? &*block : nullptr, cname, out);
  }
  sentAtLastReport_ = tx.packets;
  return n;
}

void RtcpReporter::onReport(const RtcpSummary& s, uint32_t ourSsrc, uint64_t arrivalNtp) {
  if (s.isSenderReport) {
    lastSrMiddle_ = ntpMiddle(s.sender.ntp);
    lastSrArrival_ = std::chrono::steady_clock::now();
  }
  if (!s.report || s.report->ssrc != ourSsrc) return;
  remoteReport_ = s.report;
  if (auto rtt = roundTripMs(ntpMiddle(arrivalNtp), s.report->lastSr, s.report->delaySinceLastSr)) rttMs_ = rtt;
}

std::chrono::milliseconds RtcpReporter::nextInterval(std::chrono::milliseconds base, bool first) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(0.5, 1.5);
  const double ms = static_cast<double>(base.count()) * factor(rng) * (first ? 0.5 : 1.0);
  return std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(ms)));
}

}  // namespace rtcgate::media

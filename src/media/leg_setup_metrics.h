// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "rtcgate/core/metrics.h"

namespace rtcgate::media {

// A browser leg's setup figures (docs/metrics.md): ICE connect and DTLS handshake time histograms, and ICE/DTLS
// failures by a fixed set of reasons, so the label set stays bounded whatever text the failure carried.
// Thread: the leg's media worker (registration takes the Metrics mutex once per leg; observe is lock-free).
class LegSetupMetrics {
public:
  explicit LegSetupMetrics(Metrics& m);

  // The counter for a failure reported by the ICE agent / the DTLS transport with `reason` (their texts).
  std::atomic<uint64_t>& iceFailure(std::string_view reason);
  std::atomic<uint64_t>& dtlsFailure(std::string_view reason);

  void iceConnected(std::chrono::steady_clock::duration took) { observe(*iceConnect_, took); }
  void dtlsConnected(std::chrono::steady_clock::duration took) { observe(*dtlsHandshake_, took); }

private:
  static void observe(Metrics::Histogram& h, std::chrono::steady_clock::duration d) {
    h.observe(std::chrono::duration<double>(d).count());
  }
  Metrics& metrics_;
  Metrics::Histogram* iceConnect_;
  Metrics::Histogram* dtlsHandshake_;
};

}  // namespace rtcgate::media

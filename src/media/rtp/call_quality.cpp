// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/call_quality.h"

#include <algorithm>

namespace rtcgate::media {

double estimateMos(const QualityInputs& in) {
  // G.107 default R0 - Is with every other factor at its default.
  constexpr double kR0 = 93.2;
  const double loss = std::clamp(in.lossFraction, 0.0, 1.0) * 100.0;
  const double delay = std::max(0.0, in.rttMs) / 2.0 + 2.0 * std::max(0.0, in.jitterMs) + 20.0;
  // Cole & Rosenbluth's fit of G.107's Id for delays with echo cancelled: 0.024 d + 0.11 (d - 177.3) H(d - 177.3).
  const double id = 0.024 * delay + (delay > 177.3 ? 0.11 * (delay - 177.3) : 0.0);
  // G.107 (7-29) with BurstR = 1 (random loss).
  constexpr double kIe = 0.0, kBpl = 25.1;
  const double ieEff = kIe + (95.0 - kIe) * loss / (loss + kBpl);
  const double r = std::clamp(kR0 - id - ieEff, 0.0, 100.0);
  // G.107 Annex B: R to MOS (CQE).
  const double mos = 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6;
  return std::clamp(mos, 1.0, 4.5);
}

}  // namespace rtcgate::media

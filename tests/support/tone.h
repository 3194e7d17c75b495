// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace rtcgate::test {

// A sine tone of `freqHz` at `sampleRate`, amplitude `amp`, starting at sample index `start` (phase-continuous).
inline std::vector<int16_t> tone(double freqHz, size_t samples, size_t start = 0, int sampleRate = 8000,
                                 double amp = 8000.0) {
  std::vector<int16_t> out(samples);
  for (size_t i = 0; i < samples; ++i)
    out[i] = static_cast<int16_t>(amp * std::sin(2.0 * M_PI * freqHz * static_cast<double>(start + i) / sampleRate));
  return out;
}

// Goertzel power of `freqHz` in `pcm`.
inline double goertzelPower(std::span<const int16_t> pcm, double freqHz, int sampleRate = 8000) {
  double k = 2.0 * std::cos(2.0 * M_PI * freqHz / sampleRate);
  double s1 = 0, s2 = 0;
  for (int16_t x : pcm) {
    double s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

// The strongest frequency between 100 Hz and 3900 Hz in 10 Hz steps.
inline double dominantFrequency(std::span<const int16_t> pcm, int sampleRate = 8000) {
  double best = 0, bestPower = -1;
  for (double f = 100; f <= 3900; f += 10) {
    double p = goertzelPower(pcm, f, sampleRate);
    if (p > bestPower) {
      bestPower = p;
      best = f;
    }
  }
  return best;
}

}  // namespace rtcgate::test

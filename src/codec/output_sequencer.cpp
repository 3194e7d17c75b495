// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/output_sequencer.h"

namespace rtcgate::codec {

OutputSequencer::Header OutputSequencer::generated(uint32_t ticks, bool marker) {
  Header h{ssrc_, seq_++, nextTs_, marker};
  nextTs_ += ticks;
  haveSource_ = false;  // a forwarded packet after generated ones re-bases
  return h;
}

OutputSequencer::Header OutputSequencer::forwarded(uint32_t sourceSsrc, uint32_t sourceTs, uint32_t ticksPerFrame,
                                                   bool marker) {
  // Re-base on a new source or a jump of more than ~10 s either way (a sender restart, not a talk-spurt gap).
  const auto step = static_cast<int32_t>(sourceTs - lastSourceTs_);
  const int32_t kMaxStep = static_cast<int32_t>(ticksPerFrame) * 500;
  if (!haveSource_ || sourceSsrc != sourceSsrc_ || step > kMaxStep || step < -kMaxStep) {
    offset_ = nextTs_ - sourceTs;
    sourceSsrc_ = sourceSsrc;
    haveSource_ = true;
    marker = true;  // RFC 3551 §4.1: marker on the first packet after a discontinuity
  }
  lastSourceTs_ = sourceTs;
  uint32_t ts = sourceTs + offset_;
  // Next generated frame follows this one.
  if (static_cast<int32_t>(ts + ticksPerFrame - nextTs_) > 0) nextTs_ = ts + ticksPerFrame;
  return Header{ssrc_, seq_++, ts, marker};
}

}  // namespace rtcgate::codec

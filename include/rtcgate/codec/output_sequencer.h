// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace rtcgate::codec {

// The RTP identity of one output leg: one SSRC for the whole call, sequence numbers without gaps, and timestamps
// that keep advancing across re-INVITEs, source (SSRC) changes and codec switches on the other leg — what a
// browser or Genesys expects of a single continuous stream (interop checklist G10/G11).
// Thread: owning media worker.
class OutputSequencer {
public:
  OutputSequencer(uint32_t ssrc, uint16_t firstSeq, uint32_t firstTimestamp)
      : ssrc_(ssrc), seq_(firstSeq), nextTs_(firstTimestamp) {}

  struct Header {
    uint32_t ssrc;
    uint16_t seq;
    uint32_t timestamp;
    bool marker;
  };

  // A frame we generated (transcoded): it goes `ticks` after the previous one.
  Header generated(uint32_t ticks, bool marker);

  // A packet forwarded without decoding: its timestamp is the source's plus an offset, re-based whenever the
  // source changes SSRC or jumps, so the output never jumps. `ticksPerFrame` is the expected step.
  Header forwarded(uint32_t sourceSsrc, uint32_t sourceTimestamp, uint32_t ticksPerFrame, bool marker);

  // A packet of an RFC 4733 event: every packet of one event carries the event's start timestamp.
  Header event(uint32_t startTimestamp, bool marker) { return Header{ssrc_, seq_++, startTimestamp, marker}; }
  // Let the next generated frame start no earlier than `timestamp` (after an RFC 4733 event's duration).
  void advanceTo(uint32_t timestamp) {
    if (static_cast<int32_t>(timestamp - nextTs_) > 0) nextTs_ = timestamp;
  }
  // The timestamp the next generated frame will carry (an event starting now uses it).
  uint32_t nextTimestamp() const { return nextTs_; }

  uint32_t ssrc() const { return ssrc_; }
  uint16_t nextSeq() const { return seq_; }

private:
  uint32_t ssrc_;
  uint16_t seq_;
  uint32_t nextTs_;
  bool haveSource_ = false;
  uint32_t sourceSsrc_ = 0;
  uint32_t lastSourceTs_ = 0;
  uint32_t offset_ = 0;
};

}  // namespace rtcgate::codec

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "rtcgate/codec/audio_codec.h"
#include "rtcgate/codec/dtmf.h"
#include "rtcgate/codec/output_sequencer.h"
#include "rtcgate/media/rtp/rtp_packet.h"
#include "rtcgate/codec/transcode_stream.h"
#include "rtcgate/core/event_loop.h"

namespace rtcgate::codec {

// What the two legs agreed on, decided by the session layer's codec negotiation.
struct BridgeCodecs {
  CodecId browserCodec = CodecId::Opus;
  uint8_t browserPt = 111;
  CodecId upstreamCodec = CodecId::Pcmu;
  uint8_t upstreamPt = 0;
  std::optional<uint8_t> browserDtmfPt;   // telephone-event at the browser codec's clock rate
  std::optional<uint8_t> upstreamDtmfPt;  // telephone-event/8000 toward Genesys
  // G.711 on both legs: packets are forwarded without decoding (µ-law ⇄ A-law mapped byte by byte if they differ).
  bool passthrough() const { return browserCodec != CodecId::Opus && upstreamCodec != CodecId::Opus; }
};

// The media path of one call between the decrypted browser leg and the plain RTP leg toward Genesys: passthrough or
// Opus ⇄ G.711 transcoding, RFC 4733 DTMF interworking, continuous SSRC/sequence/timestamps on each output leg.
// Audio is driven by packet arrival in both modes (docs/adr/0005-packet-driven-transcoding.md): one output frame
// per input frame, timestamps carried over. Only generated RFC 4733 events need a clock, an absolute 20 ms one.
// Thread: owning media worker (packet callbacks and the event clock run there). Sinks are called synchronously.
class MediaBridge {
public:
  static constexpr size_t kRtpFixedHeader = 12;
  // Room after the largest packet for the SRTP auth tag and MKI (SrtpSession::kMaxOverhead, checked where both meet).
  static constexpr size_t kTrailerRoom = 160;
  struct Sinks {
    // Plain RTP for the browser leg to protect and send; `capacity` leaves kTrailerRoom after the packet so SRTP can
    // protect it in place (no second copy of the payload).
    std::function<void(uint8_t* packet, size_t len, size_t capacity)> toBrowser;
    // For the RTP leg, which writes its own SSRC and sequence number: the header as fields (parsed never again) and
    // the payload in the bridge's buffer.
    std::function<void(const media::RtpHeader&, std::span<const uint8_t> payload)> toUpstream;
    // A digit at the end of its event, with its duration (ms). From the browser: observed, for logs and the session
    // layer (the bridge itself re-generates it toward Genesys); from Genesys: the session sends INFO to the browser.
    std::function<void(char digit, uint16_t durationMs)> dtmfFromBrowser;
    std::function<void(char digit, uint16_t durationMs)> dtmfFromUpstream;
  };
  // Per direction ("browser→Genesys" = toUpstream): what came in, what went out, and why the difference.
  struct Direction {
    uint64_t packetsIn = 0, packetsOut = 0;
    uint64_t malformed = 0, unknownPayloadType = 0, tooLarge = 0, onHold = 0, duringDtmf = 0;
    uint64_t concealed = 0, gapFrames = 0, late = 0, restarts = 0, codecErrors = 0;
    uint64_t holdFill = 0;  // frames of silence generated while Genesys held the call without sending (to browser)
    // Time from a packet's arrival at the bridge to its output frame(s) leaving it: what the gateway adds.
    uint64_t addedDelayUsTotal = 0, addedDelayUsMax = 0;
    double addedDelayUsAvg() const { return packetsOut ? static_cast<double>(addedDelayUsTotal) / packetsOut : 0; }
  };
  struct Stats {
    Direction toUpstream, toBrowser;
    uint64_t dtmfEventsToUpstream = 0, dtmfTicksSkipped = 0;
  };

  MediaBridge(EventLoop& loop, const BridgeCodecs& codecs, const config::Opus& opus, uint32_t browserSsrc,
              uint32_t upstreamSsrc, Sinks sinks);
  ~MediaBridge();
  MediaBridge(const MediaBridge&) = delete;
  MediaBridge& operator=(const MediaBridge&) = delete;

  // Times every codec call of the transcoding streams into rtcgate_transcode_frame_seconds{op,codec} (docs/metrics.md).
  void setMetrics(Metrics* metrics);

  // A whole RTP packet (decrypted, from the browser leg) or an already parsed one (from the RTP leg).
  void fromBrowser(const uint8_t* data, size_t len);
  void fromBrowser(const media::RtpHeader& h, std::span<const uint8_t> payload);
  void fromUpstream(const uint8_t* data, size_t len);
  void fromUpstream(const media::RtpHeader& h, std::span<const uint8_t> payload);
  // An INFO digit from the browser: sent to Genesys as RFC 4733 events. Returns false if Genesys negotiated none.
  bool sendDtmfUpstream(char digit, uint16_t durationMs);
  // Hold: stop sending toward the side that put the call on hold (sendrecv again resumes).
  void setSending(bool toBrowser, bool toUpstream);
  // Genesys holds the call (inactive, c=0.0.0.0, or sendonly with or without music on hold). While on, a frame of
  // silence in the browser's codec goes to the browser whenever nothing has been sent to it for kHoldFillIdleMs,
  // paced by an absolute 20 ms clock: the browser's stream stays continuous (one SSRC, sequence and timestamps
  // advancing in real time, interop checklist G10) instead of stopping for the whole hold. Genesys's music still
  // passes; the fill only covers its absence. Off again at retrieve: forwarded audio re-bases on the fill's timeline.
  void setHoldFill(bool on);
  static constexpr int64_t kHoldFillIdleMs = 60;
  // New codecs after a re-negotiation; output SSRC, sequence and timestamps continue.
  void reconfigure(const BridgeCodecs& codecs);

  const BridgeCodecs& codecs() const { return codecs_; }
  Stats stats() const;
  // Tone detection in tests: the last 20 ms of decoded audio of each direction (transcoding only).
  std::span<const int16_t> lastPcmToUpstream() const;
  std::span<const int16_t> lastPcmToBrowser() const;

private:
  bool dtmfTick();
  bool holdFillTick();
  void prepareSilence();
  void setDtmfClockRates();
  void forward(const media::RtpHeader& h, std::span<const uint8_t> payload, bool toUpstream);
  void transcoded(bool toUpstream, uint32_t sourceSsrc, uint32_t position8k, size_t payloadBytes);
  void emit(bool toUpstream, const OutputSequencer::Header& h, uint8_t pt, size_t payloadBytes);
  void buildStreams();
  void timeStreams();
  Direction& dir(bool toUpstream) { return toUpstream ? stats_.toUpstream : stats_.toBrowser; }

  EventLoop& loop_;
  BridgeCodecs codecs_;
  config::Opus opus_;
  Sinks sinks_;
  OutputSequencer outBrowser_;
  OutputSequencer outUpstream_;
  std::unique_ptr<TranscodeStream> toUpstream_;
  std::unique_ptr<TranscodeStream> toBrowser_;
  Metrics* metrics_ = nullptr;
  DtmfReceiver dtmfFromBrowser_;
  DtmfReceiver dtmfFromUpstream_;
  std::optional<DtmfSender> dtmfToUpstream_;
  uint32_t dtmfStartTs_ = 0;
  bool sendToBrowser_ = true;
  bool sendToUpstream_ = true;
  Timer dtmfClock_;  // absolute 20 ms schedule while an event is being sent
  Timer holdFillClock_;  // absolute 20 ms schedule while Genesys holds
  bool holdFill_ = false;
  bool fillMarker_ = false;           // the next fill frame starts a talk spurt (RFC 3551 §4.1)
  int64_t lastToBrowserUs_ = 0;       // CLOCK_MONOTONIC µs of the last Genesys audio sent toward the browser
  std::vector<uint8_t> silence_;      // one 20 ms frame of silence in the browser codec (built at fill start)
  int64_t inputAtUs_ = 0;  // arrival of the packet being handled (CLOCK_MONOTONIC µs); 0 for generated frames
  uint32_t sourceSsrcToUpstream_ = 0, sourceSsrcToBrowser_ = 0;
  // One packet buffer: encoders and the passthrough copy write the payload behind the header in place.
  std::array<uint8_t, kRtpFixedHeader + kMaxEncodedBytes + kTrailerRoom> out_{};
  Stats stats_;
};

}  // namespace rtcgate::codec

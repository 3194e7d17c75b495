// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/media_bridge.h"

#include <algorithm>
#include <cstring>

namespace rtcgate::codec {
namespace {

// Marks the arrival of the packet being handled for the added-delay figures; generated frames (RFC 4733) have none.
struct InputClock {
  explicit InputClock(int64_t& at) : at_(at) { at_ = g_get_monotonic_time(); }
  ~InputClock() { at_ = 0; }
  InputClock(const InputClock&) = delete;
  InputClock& operator=(const InputClock&) = delete;
  int64_t& at_;
};

void addStreamStats(MediaBridge::Direction& d, const TranscodeStream::Stats& st) {
  d.concealed += st.concealed;
  d.gapFrames += st.gapFrames;
  d.late += st.late;
  d.restarts += st.restarts;
  d.codecErrors += st.decodeErrors + st.encodeErrors;
}

}  // namespace

MediaBridge::MediaBridge(EventLoop& loop, const BridgeCodecs& codecs, const config::Opus& opus, uint32_t browserSsrc,
                         uint32_t upstreamSsrc, Sinks sinks)
    : loop_(loop),
      codecs_(codecs),
      opus_(opus),
      sinks_(std::move(sinks)),
      // Random-looking starting points are the caller's job (SSRC); sequence and timestamp start from the SSRC's bits
      // so two calls do not share them (RFC 3550 §5.1 asks for random initial values).
      outBrowser_(browserSsrc, static_cast<uint16_t>(browserSsrc >> 7), browserSsrc * 2654435761u),
      outUpstream_(upstreamSsrc, static_cast<uint16_t>(upstreamSsrc >> 7), upstreamSsrc * 2654435761u) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  setDtmfClockRates();
  buildStreams();
}

void MediaBridge::setDtmfClockRates() {
  // Browser telephone-event runs at the browser codec's clock (Opus: 48 kHz); Genesys's at 8 kHz.
  dtmfFromBrowser_.setClockRate(rtpClockRate(codecs_.browserCodec));
  dtmfFromUpstream_.setClockRate(8000);
}

MediaBridge::~MediaBridge() { RTCGATE_ASSERT_ON_LOOP(loop_); }

void MediaBridge::prepareSilence() {
  silence_.clear();
  if (codecs_.browserCodec != CodecId::Opus) {
    // G.711 zero: 0xFF in µ-law, 0xD5 in A-law (ITU-T G.711 tables, even bits inverted for A-law).
    silence_.assign(kFrameSamples, codecs_.browserCodec == CodecId::Pcma ? 0xD5 : 0xFF);
    return;
  }
  // One Opus frame encoded from digital silence, reused for every fill frame: a valid packet the browser's decoder
  // plays as silence. The encoder is made only here (hold start), never on the packet path.
  try {
    auto enc = makeEncoder(CodecId::Opus, opus_);
    std::array<int16_t, kFrameSamples> zeros{};
    std::array<uint8_t, kMaxEncodedBytes> buf{};
    const size_t n = enc->encode(zeros, buf);
    silence_.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  } catch (const std::exception&) {
    silence_.clear();  // no fill rather than a broken frame; counted as codec errors below
  }
}

void MediaBridge::setHoldFill(bool on) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (on == holdFill_) return;
  holdFill_ = on;
  if (!on) {
    holdFillClock_.cancel();
    return;
  }
  prepareSilence();
  if (silence_.empty()) {
    ++stats_.toBrowser.codecErrors;
    holdFill_ = false;
    return;
  }
  fillMarker_ = true;
  holdFillClock_ = Timer::periodic(loop_, std::chrono::milliseconds(kFrameMs), [this] { return holdFillTick(); });
}

bool MediaBridge::holdFillTick() {
  if (!holdFill_) return false;
  if (g_get_monotonic_time() - lastToBrowserUs_ < kHoldFillIdleMs * 1000) {
    fillMarker_ = true;  // music on hold is flowing; a fill after it starts a new spurt
    return true;
  }
  std::copy(silence_.begin(), silence_.end(), out_.begin() + kRtpFixedHeader);
  const auto before = dir(false).packetsOut;
  emit(false, outBrowser_.generated(rtpTicksPerFrame(codecs_.browserCodec), fillMarker_), codecs_.browserPt,
       silence_.size());
  if (dir(false).packetsOut != before) ++dir(false).holdFill;
  fillMarker_ = false;
  return true;
}

void MediaBridge::buildStreams() {
  // A codec change keeps the old streams' counts in the call's totals.
  if (toUpstream_) addStreamStats(stats_.toUpstream, toUpstream_->stats());
  if (toBrowser_) addStreamStats(stats_.toBrowser, toBrowser_->stats());
  toUpstream_.reset();
  toBrowser_.reset();
  if (codecs_.passthrough()) return;
  const std::span<uint8_t> payloadArea(out_.data() + kRtpFixedHeader, kMaxEncodedBytes);
  toUpstream_ = std::make_unique<TranscodeStream>(
      codecs_.browserCodec, codecs_.upstreamCodec, opus_,
      [this](uint32_t pos, std::span<const uint8_t> p, bool) { transcoded(true, sourceSsrcToUpstream_, pos, p.size()); },
      payloadArea);
  toBrowser_ = std::make_unique<TranscodeStream>(
      codecs_.upstreamCodec, codecs_.browserCodec, opus_,
      [this](uint32_t pos, std::span<const uint8_t> p, bool) { transcoded(false, sourceSsrcToBrowser_, pos, p.size()); },
      payloadArea);
  timeStreams();
}

void MediaBridge::setMetrics(Metrics* metrics) {
  metrics_ = metrics;
  timeStreams();
}

void MediaBridge::timeStreams() {
  if (metrics_ == nullptr || !toUpstream_ || !toBrowser_) return;
  // Looked up once per stream (the registry's mutex), observed lock-free per frame. Opus at 8 kHz: encode ~63 us,
  // decode ~22 us; G.711 well under 1 us (docs/architecture.md budget), hence buckets from 1 us to 5 ms.
  static const std::vector<double> kBounds{0.000001, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001,
                                           0.00025,  0.0005,   0.001,   0.0025,   0.005};
  auto timer = [this](const char* op, CodecId codec) {
    return &metrics_->histogram("rtcgate_transcode_frame_seconds",
                                "Seconds one codec call (decode of a packet, encode of a 20 ms frame) took on a media "
                                "worker, transcoded calls only",
                                kBounds, {{"op", op}, {"codec", std::string(codecName(codec))}});
  };
  toUpstream_->setFrameTimers(timer("decode", codecs_.browserCodec), timer("encode", codecs_.upstreamCodec));
  toBrowser_->setFrameTimers(timer("decode", codecs_.upstreamCodec), timer("encode", codecs_.browserCodec));
}

MediaBridge::Stats MediaBridge::stats() const {
  Stats s = stats_;
  if (toUpstream_) addStreamStats(s.toUpstream, toUpstream_->stats());
  if (toBrowser_) addStreamStats(s.toBrowser, toBrowser_->stats());
  s.dtmfTicksSkipped += dtmfClock_.skippedTicks() + holdFillClock_.skippedTicks();
  return s;
}

void MediaBridge::reconfigure(const BridgeCodecs& codecs) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  codecs_ = codecs;
  setDtmfClockRates();
  buildStreams();
  if (holdFill_) prepareSilence();  // the browser codec may have changed
}

void MediaBridge::setSending(bool toBrowser, bool toUpstream) {
  sendToBrowser_ = toBrowser;
  sendToUpstream_ = toUpstream;
}

std::span<const int16_t> MediaBridge::lastPcmToUpstream() const {
  return toUpstream_ ? toUpstream_->lastPcm() : std::span<const int16_t>{};
}
std::span<const int16_t> MediaBridge::lastPcmToBrowser() const {
  return toBrowser_ ? toBrowser_->lastPcm() : std::span<const int16_t>{};
}

void MediaBridge::emit(bool toUpstream, const OutputSequencer::Header& h, uint8_t pt, size_t payloadBytes) {
  media::RtpHeader out;
  out.payloadType = pt;
  out.marker = h.marker;
  out.sequence = h.seq;
  out.timestamp = h.timestamp;
  out.ssrc = h.ssrc;
  media::writeRtpHeader(out, out_);
  const size_t len = kRtpFixedHeader + payloadBytes;
  auto& d = dir(toUpstream);
  if (!(toUpstream ? sendToUpstream_ : sendToBrowser_)) {
    ++d.onHold;
    return;
  }
  if (inputAtUs_ != 0) {
    const auto delay = static_cast<uint64_t>(std::max<int64_t>(0, g_get_monotonic_time() - inputAtUs_));
    d.addedDelayUsTotal += delay;
    d.addedDelayUsMax = std::max(d.addedDelayUsMax, delay);
  }
  if (toUpstream) {
    if (!sinks_.toUpstream) return;
    ++d.packetsOut;
    sinks_.toUpstream(out, std::span<const uint8_t>(out_.data() + kRtpFixedHeader, payloadBytes));
    return;
  }
  if (!sinks_.toBrowser) return;
  ++d.packetsOut;
  // Genesys's own audio (the fill covers its absence): the arrival time already taken for the delay figures, so the
  // packet path reads no clock for the fill. Generated frames (fill, RFC 4733) have no arrival time.
  if (inputAtUs_ != 0) lastToBrowserUs_ = inputAtUs_;
  sinks_.toBrowser(out_.data(), len, out_.size());
}

void MediaBridge::transcoded(bool toUpstream, uint32_t sourceSsrc, uint32_t position8k, size_t payloadBytes) {
  // While an event is being sent, audio toward Genesys pauses (RFC 4733 §2.5.1.2 allows either).
  if (toUpstream && dtmfToUpstream_) {
    ++dir(true).duringDtmf;
    return;
  }
  const CodecId outCodec = toUpstream ? codecs_.upstreamCodec : codecs_.browserCodec;
  // The input timeline (8 kHz) in the output codec's RTP clock; the sequencer adds the leg's own offset.
  const uint32_t sourceTs = position8k * (rtpClockRate(outCodec) / static_cast<uint32_t>(kSampleRateHz));
  auto& seq = toUpstream ? outUpstream_ : outBrowser_;
  emit(toUpstream, seq.forwarded(sourceSsrc, sourceTs, rtpTicksPerFrame(outCodec), false),
       toUpstream ? codecs_.upstreamPt : codecs_.browserPt, payloadBytes);
}

void MediaBridge::forward(const media::RtpHeader& h, std::span<const uint8_t> payload, bool toUpstream) {
  // Passthrough: the payload is copied once into the output buffer behind our own header.
  const CodecId from = toUpstream ? codecs_.browserCodec : codecs_.upstreamCodec;
  const CodecId to = toUpstream ? codecs_.upstreamCodec : codecs_.browserCodec;
  if (payload.size() > kMaxEncodedBytes) {
    ++dir(toUpstream).tooLarge;
    return;
  }
  transcodeG711(from, to, payload, std::span<uint8_t>(out_.data() + kRtpFixedHeader, payload.size()));
  auto& seq = toUpstream ? outUpstream_ : outBrowser_;
  auto hdr = seq.forwarded(h.ssrc, h.timestamp, rtpTicksPerFrame(to), h.marker);
  emit(toUpstream, hdr, toUpstream ? codecs_.upstreamPt : codecs_.browserPt, payload.size());
}

void MediaBridge::fromBrowser(const uint8_t* data, size_t len) {
  media::RtpHeader parsed;
  if (media::parseRtp({data, len}, parsed) != media::RtpStatus::Ok) {
    ++stats_.toUpstream.packetsIn;
    ++stats_.toUpstream.malformed;
    return;
  }
  fromBrowser(parsed, std::span<const uint8_t>(data + parsed.headerSize, parsed.payloadSize));
}

void MediaBridge::fromBrowser(const media::RtpHeader& hdr, std::span<const uint8_t> payload) {
  const auto* h = &hdr;
  ++stats_.toUpstream.packetsIn;
  const InputClock clock(inputAtUs_);
  if (codecs_.browserDtmfPt && h->payloadType == *codecs_.browserDtmfPt) {
    // Browser RFC 4733 (RTCDTMFSender) is re-generated toward Genesys at 8 kHz with Genesys's payload type and the
    // browser event's duration, once the browser has ended it (its end packet carries the final duration).
    auto r = dtmfFromBrowser_.onPacket(h->timestamp, payload);
    for (const auto& ended : {r.abandoned, r.ended}) {
      if (!ended) continue;
      if (sinks_.dtmfFromBrowser) sinks_.dtmfFromBrowser(ended->digit, ended->durationMs);
      sendDtmfUpstream(ended->digit, ended->durationMs);
    }
    return;
  }
  if (h->payloadType != codecs_.browserPt) {
    ++stats_.toUpstream.unknownPayloadType;
    return;
  }
  if (codecs_.passthrough()) {
    forward(*h, payload, true);
    return;
  }
  sourceSsrcToUpstream_ = h->ssrc;
  toUpstream_->push(h->ssrc, h->sequence, h->timestamp, payload);
}

void MediaBridge::fromUpstream(const uint8_t* data, size_t len) {
  media::RtpHeader parsed;
  if (media::parseRtp({data, len}, parsed) != media::RtpStatus::Ok) {
    ++stats_.toBrowser.packetsIn;
    ++stats_.toBrowser.malformed;
    return;
  }
  fromUpstream(parsed, std::span<const uint8_t>(data + parsed.headerSize, parsed.payloadSize));
}

void MediaBridge::fromUpstream(const media::RtpHeader& hdr, std::span<const uint8_t> payload) {
  const auto* h = &hdr;
  ++stats_.toBrowser.packetsIn;
  const InputClock clock(inputAtUs_);
  if (codecs_.upstreamDtmfPt && h->payloadType == *codecs_.upstreamDtmfPt) {
    // Genesys digits reach JsSIP as INFO (its newDTMF event) with their real duration; the session layer sends it.
    auto r = dtmfFromUpstream_.onPacket(h->timestamp, payload);
    for (const auto& ended : {r.abandoned, r.ended})
      if (ended && sinks_.dtmfFromUpstream) sinks_.dtmfFromUpstream(ended->digit, ended->durationMs);
    return;
  }
  if (h->payloadType != codecs_.upstreamPt) {
    ++stats_.toBrowser.unknownPayloadType;
    return;
  }
  if (codecs_.passthrough()) {
    forward(*h, payload, false);
    return;
  }
  sourceSsrcToBrowser_ = h->ssrc;
  toBrowser_->push(h->ssrc, h->sequence, h->timestamp, payload);
}

bool MediaBridge::sendDtmfUpstream(char digit, uint16_t durationMs) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  if (!codecs_.upstreamDtmfPt) return false;
  DtmfSender sender(digit, durationMs, 8000);
  if (!sender.valid()) return false;
  dtmfToUpstream_.emplace(sender);
  dtmfStartTs_ = outUpstream_.nextTimestamp();
  ++stats_.dtmfEventsToUpstream;
  // The first packet goes now; the rest every 20 ms of absolute time, as RFC 4733 §2.5.1.2 paces them.
  if (dtmfTick()) {
    stats_.dtmfTicksSkipped += dtmfClock_.skippedTicks();
    dtmfClock_ = Timer::periodic(loop_, std::chrono::milliseconds(kFrameMs), [this] { return dtmfTick(); });
  }
  return true;
}

bool MediaBridge::dtmfTick() {
  if (!dtmfToUpstream_) return false;
  bool marker = false;
  auto ev = dtmfToUpstream_->next(marker);
  writeTelephoneEvent(ev, std::span<uint8_t, 4>(out_.data() + kRtpFixedHeader, 4));
  emit(true, outUpstream_.event(dtmfStartTs_, marker), *codecs_.upstreamDtmfPt, 4);
  if (!dtmfToUpstream_->done()) return true;
  dtmfToUpstream_.reset();
  // Audio resumes after the event's duration.
  outUpstream_.advanceTo(dtmfStartTs_ + ev.duration);
  return false;
}

}  // namespace rtcgate::codec

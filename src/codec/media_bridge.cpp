// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/media_bridge.h"

#include <cstring>

namespace rtcgate::codec {

MediaBridge::MediaBridge(EventLoop& loop, const BridgeCodecs& codecs, const config::Opus& opus, uint32_t jitterMaxMs,
                         uint32_t browserSsrc, uint32_t upstreamSsrc, Sinks sinks)
    : loop_(loop),
      codecs_(codecs),
      opus_(opus),
      jitterMaxMs_(jitterMaxMs),
      sinks_(std::move(sinks)),
      // Random-looking starting points are the caller's job (SSRC); sequence and timestamp start from the SSRC's bits
      // so two calls do not share them (RFC 3550 §5.1 asks for random initial values).
      outBrowser_(browserSsrc, static_cast<uint16_t>(browserSsrc >> 7), browserSsrc * 2654435761u),
      outUpstream_(upstreamSsrc, static_cast<uint16_t>(upstreamSsrc >> 7), upstreamSsrc * 2654435761u) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  buildStreams();
  ticker_ = Timer(loop_, std::chrono::milliseconds(kFrameMs), [this] {
    tick();
    return true;
  });
}

MediaBridge::~MediaBridge() { RTCGATE_ASSERT_ON_LOOP(loop_); }

void MediaBridge::buildStreams() {
  if (codecs_.passthrough()) {
    toUpstream_.reset();
    toBrowser_.reset();
    return;
  }
  toUpstream_ = std::make_unique<TranscodeStream>(codecs_.browserCodec, codecs_.upstreamCodec, opus_, jitterMaxMs_);
  toBrowser_ = std::make_unique<TranscodeStream>(codecs_.upstreamCodec, codecs_.browserCodec, opus_, jitterMaxMs_);
}

void MediaBridge::reconfigure(const BridgeCodecs& codecs) {
  RTCGATE_ASSERT_ON_LOOP(loop_);
  codecs_ = codecs;
  buildStreams();
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
  if (toUpstream) {
    if (!sendToUpstream_ || !sinks_.toUpstream) return;
    ++stats_.toUpstream;
    sinks_.toUpstream(out_.data(), len);
  } else {
    if (!sendToBrowser_ || !sinks_.toBrowser) return;
    ++stats_.toBrowser;
    sinks_.toBrowser(out_.data(), len);
  }
}

void MediaBridge::forward(const media::RtpHeader& h, std::span<const uint8_t> payload, bool toUpstream) {
  // Passthrough: the payload is copied once into the output buffer behind our own header.
  const CodecId from = toUpstream ? codecs_.browserCodec : codecs_.upstreamCodec;
  const CodecId to = toUpstream ? codecs_.upstreamCodec : codecs_.browserCodec;
  if (payload.size() > kMaxEncodedBytes) {
    ++stats_.malformed;
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
    ++stats_.malformed;
    return;
  }
  fromBrowser(parsed, std::span<const uint8_t>(data + parsed.headerSize, parsed.payloadSize));
}

void MediaBridge::fromBrowser(const media::RtpHeader& hdr, std::span<const uint8_t> payload) {
  const auto* h = &hdr;
  ++stats_.fromBrowser;
  if (codecs_.browserDtmfPt && h->payloadType == *codecs_.browserDtmfPt) {
    // Browser RFC 4733 (RTCDTMFSender) is re-generated toward Genesys at 8 kHz with Genesys's payload type.
    if (auto digit = dtmfFromBrowser_.onPacket(h->timestamp, payload)) {
      if (sinks_.dtmfFromBrowser) sinks_.dtmfFromBrowser(*digit);
      sendDtmfUpstream(*digit, 100);
    }
    return;
  }
  if (h->payloadType != codecs_.browserPt) {
    ++stats_.unknownPayloadType;
    return;
  }
  if (codecs_.passthrough()) {
    forward(*h, payload, true);
    return;
  }
  toUpstream_->push(h->sequence, h->timestamp, payload, nowMs_);
}

void MediaBridge::fromUpstream(const uint8_t* data, size_t len) {
  media::RtpHeader parsed;
  if (media::parseRtp({data, len}, parsed) != media::RtpStatus::Ok) {
    ++stats_.malformed;
    return;
  }
  fromUpstream(parsed, std::span<const uint8_t>(data + parsed.headerSize, parsed.payloadSize));
}

void MediaBridge::fromUpstream(const media::RtpHeader& hdr, std::span<const uint8_t> payload) {
  const auto* h = &hdr;
  ++stats_.fromUpstream;
  if (codecs_.upstreamDtmfPt && h->payloadType == *codecs_.upstreamDtmfPt) {
    // Genesys digits reach JsSIP as INFO (its newDTMF event); the session layer sends it.
    if (auto digit = dtmfFromUpstream_.onPacket(h->timestamp, payload))
      if (sinks_.dtmfFromUpstream) sinks_.dtmfFromUpstream(*digit);
    return;
  }
  if (h->payloadType != codecs_.upstreamPt) {
    ++stats_.unknownPayloadType;
    return;
  }
  if (codecs_.passthrough()) {
    forward(*h, payload, false);
    return;
  }
  toBrowser_->push(h->sequence, h->timestamp, payload, nowMs_);
}

bool MediaBridge::sendDtmfUpstream(char digit, uint16_t durationMs) {
  if (!codecs_.upstreamDtmfPt) return false;
  DtmfSender sender(digit, durationMs, 8000);
  if (!sender.valid()) return false;
  dtmfToUpstream_.emplace(sender);
  dtmfStartTs_ = outUpstream_.nextTimestamp();
  return true;
}

void MediaBridge::tick() {
  nowMs_ += kFrameMs;
  if (dtmfToUpstream_) {
    bool marker = false;
    auto ev = dtmfToUpstream_->next(marker);
    writeTelephoneEvent(ev, std::span<uint8_t, 4>(out_.data() + kRtpFixedHeader, 4));
    emit(true, outUpstream_.event(dtmfStartTs_, marker), *codecs_.upstreamDtmfPt, 4);
    if (dtmfToUpstream_->done()) {
      dtmfToUpstream_.reset();
      // Audio resumes after the event's duration.
      outUpstream_.advanceTo(dtmfStartTs_ + ev.duration);
    }
  }
  if (codecs_.passthrough()) return;
  auto encodeInto = [&](TranscodeStream& stream, bool toUpstream) {
    auto frame = stream.tick(std::span<uint8_t>(out_.data() + kRtpFixedHeader, kMaxEncodedBytes));
    if (frame.concealed) ++stats_.concealed;
    if (frame.bytes == 0) return;
    const CodecId outCodec = toUpstream ? codecs_.upstreamCodec : codecs_.browserCodec;
    auto& seq = toUpstream ? outUpstream_ : outBrowser_;
    // While an event is being sent, audio toward Genesys pauses (RFC 4733 §2.5.1.2 allows either).
    if (toUpstream && dtmfToUpstream_) return;
    emit(toUpstream, seq.generated(rtpTicksPerFrame(outCodec), false), toUpstream ? codecs_.upstreamPt : codecs_.browserPt,
         frame.bytes);
  };
  encodeInto(*toUpstream_, true);
  encodeInto(*toBrowser_, false);
  stats_.codecErrors = toUpstream_->decodeErrors() + toUpstream_->encodeErrors() + toBrowser_->decodeErrors() +
                       toBrowser_->encodeErrors();
}

}  // namespace rtcgate::codec

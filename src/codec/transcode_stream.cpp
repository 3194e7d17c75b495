// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/codec/transcode_stream.h"

#include <algorithm>
#include <cstring>

namespace rtcgate::codec {

TranscodeStream::TranscodeStream(CodecId in, CodecId out, const config::Opus& opus, uint32_t jitterMaxMs)
    : decoder_(makeDecoder(in)), encoder_(makeEncoder(out, opus)), jitter_(rtpClockRate(in), jitterMaxMs) {}

JitterBuffer::Put TranscodeStream::push(uint16_t seq, uint32_t timestamp, std::span<const uint8_t> payload,
                                        uint64_t nowMs) {
  return jitter_.put(seq, timestamp, payload, nowMs);
}

void TranscodeStream::appendPcm(const int16_t* pcm, size_t n) {
  // Bounded: if the FIFO would overflow (a burst of long packets), the oldest audio goes.
  if (n > fifo_.size()) {
    pcm += n - fifo_.size();
    n = fifo_.size();
  }
  if (fifoSize_ + n > fifo_.size()) {
    size_t drop = fifoSize_ + n - fifo_.size();
    std::memmove(fifo_.data(), fifo_.data() + drop, (fifoSize_ - drop) * sizeof(int16_t));
    fifoSize_ -= drop;
  }
  std::memcpy(fifo_.data() + fifoSize_, pcm, n * sizeof(int16_t));
  fifoSize_ += n;
}

TranscodeStream::Frame TranscodeStream::tick(std::span<uint8_t> out) {
  Frame frame;
  if (fifoSize_ < kFrameSamples) {
    JitterBuffer::Out jb;
    switch (jitter_.get(jb)) {
      case JitterBuffer::Get::Frame: {
        size_t n = decoder_->decode(jb.payload, decoded_);
        if (n == 0) {
          ++decodeErrors_;
          n = decoder_->conceal(decoded_, {});
          frame.concealed = true;
        }
        appendPcm(decoded_.data(), n);
        break;
      }
      case JitterBuffer::Get::Lost:
        appendPcm(decoded_.data(), decoder_->conceal(decoded_, jb.next));
        frame.concealed = true;
        break;
      case JitterBuffer::Get::Empty:
        return frame;
    }
  }
  if (fifoSize_ < kFrameSamples) return frame;
  std::memcpy(lastPcm_.data(), fifo_.data(), kFrameSamples * sizeof(int16_t));
  fifoSize_ -= kFrameSamples;
  std::memmove(fifo_.data(), fifo_.data() + kFrameSamples, fifoSize_ * sizeof(int16_t));
  frame.bytes = encoder_->encode(lastPcm_, out);
  if (frame.bytes == 0) ++encodeErrors_;
  return frame;
}

}  // namespace rtcgate::codec

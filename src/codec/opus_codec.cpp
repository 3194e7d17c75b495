// SPDX-License-Identifier: Apache-2.0
#include "opus_codec.h"

#include <stdexcept>
#include <string>

namespace rtcgate::codec {
namespace {

void checkOpus(int err, const char* what) {
  if (err != OPUS_OK) throw std::runtime_error(std::string(what) + ": " + opus_strerror(err));
}

}  // namespace

OpusAudioDecoder::OpusAudioDecoder() {
  int err = OPUS_OK;
  dec_.reset(opus_decoder_create(kSampleRateHz, 1, &err));
  checkOpus(err, "opus_decoder_create");
}

size_t OpusAudioDecoder::decode(std::span<const uint8_t> payload, std::span<int16_t> out) {
  int n = opus_decode(dec_.get(), payload.data(), static_cast<opus_int32>(payload.size()), out.data(),
                      static_cast<int>(out.size()), 0);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

size_t OpusAudioDecoder::conceal(std::span<int16_t> out, std::span<const uint8_t> next) {
  int n;
  if (!next.empty()) {
    // decode_fec=1 with the NEXT packet reconstructs the lost one from its LBRR data; frame_size must be the lost
    // duration (RFC 6716 §4.2.5 / opus_decode docs).
    n = opus_decode(dec_.get(), next.data(), static_cast<opus_int32>(next.size()), out.data(),
                    static_cast<int>(kFrameSamples), 1);
  } else {
    n = opus_decode(dec_.get(), nullptr, 0, out.data(), static_cast<int>(kFrameSamples), 0);
  }
  if (n != static_cast<int>(kFrameSamples)) {
    std::fill(out.begin(), out.begin() + kFrameSamples, int16_t{0});
  }
  return kFrameSamples;
}

OpusAudioEncoder::OpusAudioEncoder(const config::Opus& s) {
  int err = OPUS_OK;
  enc_.reset(opus_encoder_create(kSampleRateHz, 1, OPUS_APPLICATION_VOIP, &err));
  checkOpus(err, "opus_encoder_create");
  checkOpus(opus_encoder_ctl(enc_.get(), OPUS_SET_COMPLEXITY(s.complexity)), "OPUS_SET_COMPLEXITY");
  checkOpus(opus_encoder_ctl(enc_.get(), OPUS_SET_BITRATE(s.bitrateBps)), "OPUS_SET_BITRATE");
  checkOpus(opus_encoder_ctl(enc_.get(), OPUS_SET_INBAND_FEC(s.fec ? 1 : 0)), "OPUS_SET_INBAND_FEC");
  // FEC only engages when the encoder expects loss.
  checkOpus(opus_encoder_ctl(enc_.get(), OPUS_SET_PACKET_LOSS_PERC(s.fec ? 5 : 0)), "OPUS_SET_PACKET_LOSS_PERC");
  checkOpus(opus_encoder_ctl(enc_.get(), OPUS_SET_DTX(s.dtx ? 1 : 0)), "OPUS_SET_DTX");
  checkOpus(opus_encoder_ctl(enc_.get(), OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)), "OPUS_SET_SIGNAL");
}

size_t OpusAudioEncoder::encode(std::span<const int16_t> pcm, std::span<uint8_t> out) {
  if (pcm.size() != kFrameSamples) return 0;
  int n = opus_encode(enc_.get(), pcm.data(), static_cast<int>(kFrameSamples), out.data(),
                      static_cast<opus_int32>(out.size()));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

}  // namespace rtcgate::codec

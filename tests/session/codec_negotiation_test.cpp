// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/session/codec_negotiation.h"

namespace rtcgate::session {
namespace {

using codec::CodecId;

// What Chrome 156 offers for audio (payload types as it numbers them).
const std::vector<PayloadFormat> kChrome = {
    {111, "opus", 48000, 2}, {63, "red", 48000, 2}, {9, "G722", 8000, 1}, {0, "PCMU", 8000, 1},
    {8, "PCMA", 8000, 1},    {13, "CN", 8000, 1},   {110, "telephone-event", 48000, 1},
    {126, "telephone-event", 8000, 1}};
// Genesys: static types without rtpmap plus telephone-event 101.
const std::vector<PayloadFormat> kGenesys = {{8, "", 0, 1}, {0, "", 0, 1}, {101, "telephone-event", 8000, 1}};

TEST(CodecNegotiation, ClassifiesBrowserAndGenesysOffers) {
  auto chrome = classify(kChrome);
  ASSERT_EQ(chrome.audio.size(), 3u);
  EXPECT_EQ(chrome.audio[0], std::make_pair(CodecId::Opus, uint8_t{111}));
  EXPECT_EQ(pickTelephoneEvent(chrome, 48000), 110);
  EXPECT_EQ(pickTelephoneEvent(chrome, 8000), 126);
  auto genesys = classify(kGenesys);
  EXPECT_EQ(genesys.audio[0], std::make_pair(CodecId::Pcma, uint8_t{8}));
  EXPECT_EQ(pickTelephoneEvent(genesys, 8000), 101);
  EXPECT_FALSE(pickTelephoneEvent(genesys, 48000));
}

TEST(CodecNegotiation, OurPreferenceWinsOverTheOfferOrder) {
  auto genesys = classify(kGenesys);
  EXPECT_EQ(pickCodec(genesys, {CodecId::Pcmu, CodecId::Pcma})->first, CodecId::Pcmu);
  EXPECT_FALSE(pickCodec(genesys, {CodecId::Opus}));
}

TEST(CodecNegotiation, ReofferAnswerKeepsTheCodecInUseWhenStillOffered) {
  auto genesys = classify(kGenesys);  // PCMA first, then PCMU
  EXPECT_EQ(pickAnswerCodec(genesys, CodecId::Pcmu, {CodecId::Pcma, CodecId::Pcmu}),
            std::make_pair(CodecId::Pcmu, uint8_t{0}));
  EXPECT_EQ(pickAnswerCodec(genesys, std::nullopt, {CodecId::Pcmu, CodecId::Pcma}),
            std::make_pair(CodecId::Pcmu, uint8_t{0}));
}

TEST(CodecNegotiation, ReofferAnswerOnlyNamesOfferedCodecs) {
  // Genesys re-offers PCMA only while PCMU is in use: the answer is PCMA (never the PCMU it did not offer).
  auto pcmaOnly = classify({{8, "", 0, 1}, {101, "telephone-event", 8000, 1}});
  EXPECT_EQ(pickAnswerCodec(pcmaOnly, CodecId::Pcmu, {CodecId::Pcmu, CodecId::Pcma}),
            std::make_pair(CodecId::Pcma, uint8_t{8}));
  // A codec outside our preference is not taken, and nothing usable is nullopt.
  EXPECT_FALSE(pickAnswerCodec(pcmaOnly, CodecId::Pcmu, {CodecId::Pcmu}));
  EXPECT_FALSE(pickAnswerCodec(classify({{9, "G722", 8000, 1}}), CodecId::Pcmu, {CodecId::Pcmu, CodecId::Pcma}));
  // The offerer's payload type is kept (a dynamic number for a browser's codec).
  auto browser = classify({{109, "opus", 48000, 2}, {0, "PCMU", 8000, 1}});
  EXPECT_EQ(pickAnswerCodec(browser, CodecId::Opus, {CodecId::Pcmu}), std::make_pair(CodecId::Opus, uint8_t{109}));
}

TEST(CodecNegotiation, BrowserLegPassesThroughWhenPolicyAllows) {
  auto chrome = classify(kChrome);
  const std::vector<CodecId> pref = {CodecId::Opus, CodecId::Pcmu, CodecId::Pcma};
  EXPECT_EQ(*pickBrowserCodec(chrome, CodecId::Pcmu, true, pref), std::make_pair(CodecId::Pcmu, uint8_t{0}));
  EXPECT_EQ(*pickBrowserCodec(chrome, CodecId::Pcma, true, pref), std::make_pair(CodecId::Pcma, uint8_t{8}));
  EXPECT_EQ(*pickBrowserCodec(chrome, CodecId::Pcmu, false, pref), std::make_pair(CodecId::Opus, uint8_t{111}));
  // A browser that offers only PCMA still passes through to a PCMU Genesys leg (byte-mapped laws).
  auto pcmaOnly = classify({{8, "PCMA", 8000, 1}});
  EXPECT_EQ(pickBrowserCodec(pcmaOnly, CodecId::Pcmu, true, pref)->first, CodecId::Pcma);
  auto opusOnly = classify({{109, "opus", 48000, 2}});
  EXPECT_EQ(*pickBrowserCodec(opusOnly, CodecId::Pcmu, true, pref), std::make_pair(CodecId::Opus, uint8_t{109}));
  EXPECT_FALSE(pickBrowserCodec(classify({{9, "G722", 8000, 1}}), CodecId::Pcmu, true, pref));
}

TEST(CodecNegotiation, MalformedOpusIsNotOpus) {
  // Opus must be opus/48000/2 (RFC 7587 §7); anything else is ignored rather than guessed at.
  EXPECT_TRUE(classify({{111, "opus", 8000, 1}}).audio.empty());
}

}  // namespace
}  // namespace rtcgate::session

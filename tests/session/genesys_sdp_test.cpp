// SPDX-License-Identifier: Apache-2.0
// The Genesys leg's plain RTP/AVP SDP, written and read through the sdp module.
#include <gtest/gtest.h>

#include "rtcgate/session/sdp_builder.h"

namespace rtcgate::session {
namespace {

TEST(GenesysSdp, WritesThePlainAudioOffer) {
  auto text = genesysSdp("192.0.2.5", 20000, {{codec::CodecId::Pcmu, 0}, {codec::CodecId::Pcma, 8}}, 101, 7, 3);
  EXPECT_EQ(text,
            "v=0\r\n"
            "o=rtcgate 7 3 IN IP4 192.0.2.5\r\n"
            "s=rtcgate\r\n"
            "c=IN IP4 192.0.2.5\r\n"
            "t=0 0\r\n"
            "m=audio 20000 RTP/AVP 0 8 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-16\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n");
  auto v6 = genesysSdp("2001:db8::5", 20002, {{codec::CodecId::Pcma, 8}}, std::nullopt, 1, 1, sdp::Direction::RecvOnly);
  EXPECT_NE(v6.find("c=IN IP6 2001:db8::5\r\n"), std::string::npos);
  EXPECT_NE(v6.find("m=audio 20002 RTP/AVP 8\r\n"), std::string::npos);
  EXPECT_EQ(v6.find("telephone-event"), std::string::npos);
  EXPECT_NE(v6.find("a=recvonly\r\n"), std::string::npos);
}

TEST(GenesysSdp, ReadsWhatItWrites) {
  auto g = readGenesysSdp(genesysSdp("192.0.2.5", 20000, {{codec::CodecId::Pcmu, 0}, {codec::CodecId::Pcma, 8}}, 101, 1, 1));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->address, "192.0.2.5");
  EXPECT_EQ(g->port, 20000);
  EXPECT_EQ(g->direction, sdp::Direction::SendRecv);
  EXPECT_EQ(pickCodec(g->codecs, {codec::CodecId::Pcma}), std::make_pair(codec::CodecId::Pcma, uint8_t{8}));
  EXPECT_EQ(pickTelephoneEvent(g->codecs, 8000), uint8_t{101});
}

TEST(GenesysSdp, StaticPayloadTypesNeedNoRtpmap) {
  auto g = readGenesysSdp("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 8 0\r\n");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(pickCodec(g->codecs, {codec::CodecId::Pcmu}), std::make_pair(codec::CodecId::Pcmu, uint8_t{0}));
  EXPECT_FALSE(pickTelephoneEvent(g->codecs, 8000).has_value());
}

TEST(GenesysSdp, MediaLevelConnectionAndDirectionWin) {
  auto g = readGenesysSdp("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 8\nc=IN IP4 10.0.0.2\na=sendonly\n");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->address, "10.0.0.2");
  EXPECT_EQ(g->direction, sdp::Direction::SendOnly);
  EXPECT_EQ(answerDirection(*g), sdp::Direction::RecvOnly);
}

TEST(GenesysSdp, HoldIsAnsweredInactive) {
  auto g = readGenesysSdp("v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(answerDirection(*g), sdp::Direction::Inactive);
  auto r = readGenesysSdp("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(answerDirection(*r), sdp::Direction::SendOnly);
}

TEST(GenesysSdp, DirectionsAreMirrored) {
  EXPECT_EQ(mirrorDirection(sdp::Direction::SendOnly), sdp::Direction::RecvOnly);
  EXPECT_EQ(mirrorDirection(sdp::Direction::RecvOnly), sdp::Direction::SendOnly);
  EXPECT_EQ(mirrorDirection(sdp::Direction::Inactive), sdp::Direction::Inactive);
  EXPECT_EQ(mirrorDirection(sdp::Direction::SendRecv), sdp::Direction::SendRecv);
}

TEST(GenesysSdp, RefusesWhatIsNotPlainRtpAudio) {
  EXPECT_FALSE(readGenesysSdp("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/SAVP 8\n").has_value());
  EXPECT_FALSE(readGenesysSdp("v=0\nm=audio 4000 RTP/AVP 8\n").has_value());             // no c=
  EXPECT_FALSE(readGenesysSdp("v=0\nc=IN IP4 10.0.0.1\nm=audio 99999 RTP/AVP 8\n").has_value());
  EXPECT_FALSE(readGenesysSdp("v=0\nc=IN IP4 10.0.0.1\nm=video 4000 RTP/AVP 96\n").has_value());
  EXPECT_FALSE(readGenesysSdp("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 8 x\n").has_value());
  EXPECT_FALSE(readGenesysSdp("not sdp").has_value());
}

// Issue 10: an offer of telephone-event 0-15 was answered 0-16; the answer's event list must stay within the offer's.
TEST(GenesysSdp, TelephoneEventAnswerDoesNotExceedTheOfferedEvents) {
  const std::string offer =
      "v=0\r\no=sipserver 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
      "m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
  auto g = readGenesysSdp(offer);
  ASSERT_TRUE(g);
  ASSERT_EQ(pickTelephoneEvent(g->codecs, 8000), uint8_t{101});
  EXPECT_EQ(answerTelephoneEvents(g->codecs, 101), "0-15");
  auto answer = genesysSdp("192.0.2.5", 20000, {{codec::CodecId::Pcmu, 0}}, 101, 1, 1, sdp::Direction::SendRecv,
                           answerTelephoneEvents(g->codecs, 101));
  EXPECT_NE(answer.find("a=fmtp:101 0-15\r\n"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("0-16"), std::string::npos) << answer;
}

TEST(GenesysSdp, TelephoneEventListsAreIntersectedWithWhatWeHandle) {
  auto with = [](const std::string& fmtp) {
    OfferedCodecs o;
    o.telephoneEvents.emplace_back(8000, 101);
    o.telephoneEventLists.emplace_back(101, fmtp);
    return answerTelephoneEvents(o, 101);
  };
  EXPECT_EQ(with("0-16"), "0-16");
  EXPECT_EQ(with("0-15"), "0-15");
  EXPECT_EQ(with("0-15,66,70"), "0-15");   // tones we do not handle are dropped
  EXPECT_EQ(with("0-255"), "0-16");
  EXPECT_EQ(with("0-11"), "0-11");
  EXPECT_EQ(with("0-9, 11,16"), "0-9,11,16");
  EXPECT_EQ(with("32-63"), "");            // nothing in common
  EXPECT_EQ(with("x-3,5"), "5");            // a malformed range is skipped
  EXPECT_EQ(with(""), "0-15");              // RFC 4733 §2.4.1: no fmtp means 0-15
  EXPECT_EQ(answerTelephoneEvents(OfferedCodecs{}, 101), "0-15");
}

// Chrome's offer (trimmed): Opus and telephone-event/8000 with its event list.
std::string chromeOffer() {
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111 126\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
      "a=fingerprint:sha-256 "
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
      "a=setup:actpass\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:126 telephone-event/8000\r\n"
      "a=fmtp:126 0-15\r\n";
}

TEST(BrowserSdp, TelephoneEventAnswerDoesNotExceedTheOfferedEvents) {
  std::string err;
  auto b = readBrowserSdp(chromeOffer(), &err);
  ASSERT_TRUE(b) << err;
  sdp::TransportParams t = b->transport;
  // G.711 toward the browser (passthrough): its telephone-event/8000, with the offer's event list.
  auto answer = browserAnswer(*b, codec::CodecId::Pcmu, 0, t, 1, 1);
  EXPECT_NE(answer.find("a=fmtp:126 0-15\r\n"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("0-16"), std::string::npos) << answer;
}

// Issue 13: Chrome answering an offer with telephone-event at 48 and 8 kHz sent its Opus call's digits on the 8 kHz
// one (libwebrtc matches the rate only for G.711), which the bridge dropped: the offer names the rate of the codec
// the browser will send, the first of the preference, and nothing else.
TEST(BrowserSdp, OfferNamesTelephoneEventOnlyAtThePreferredCodecsClock) {
  std::string err;
  auto chrome = readBrowserSdp(chromeOffer(), &err);
  ASSERT_TRUE(chrome) << err;
  const sdp::TransportParams t = chrome->transport;  // any browser transport: the offer's own is not under test
  auto opusFirst = readBrowserSdp(
      browserOffer({codec::CodecId::Opus, codec::CodecId::Pcmu, codec::CodecId::Pcma}, t, 1, 1), &err);
  ASSERT_TRUE(opusFirst) << err;
  EXPECT_EQ(opusFirst->codecs.telephoneEvents, (std::vector<std::pair<uint32_t, uint8_t>>{{48000, kTelephoneEvent48kPt}}));
  EXPECT_EQ(pickTelephoneEvent(opusFirst->codecs, 48000), kTelephoneEvent48kPt);
  EXPECT_EQ(pickTelephoneEvent(opusFirst->codecs, 8000), std::nullopt);
  EXPECT_EQ(opusFirst->description.media[0].fmtp(kTelephoneEvent48kPt), std::optional<std::string>("0-16"));
  EXPECT_EQ(opusFirst->codecs.audio.size(), 3u);  // every codec is still offered

  auto pcmuFirst =
      readBrowserSdp(browserOffer({codec::CodecId::Pcmu, codec::CodecId::Pcma, codec::CodecId::Opus}, t, 1, 1), &err);
  ASSERT_TRUE(pcmuFirst) << err;
  EXPECT_EQ(pcmuFirst->codecs.telephoneEvents, (std::vector<std::pair<uint32_t, uint8_t>>{{8000, kTelephoneEvent8kPt}}));
  EXPECT_EQ(pcmuFirst->codecs.audio.front().first, codec::CodecId::Pcmu);

  auto pcmaOnly = readBrowserSdp(browserOffer({codec::CodecId::Pcma}, t, 1, 1), &err);
  ASSERT_TRUE(pcmaOnly) << err;
  EXPECT_EQ(pcmaOnly->codecs.telephoneEvents, (std::vector<std::pair<uint32_t, uint8_t>>{{8000, kTelephoneEvent8kPt}}));
}

}  // namespace
}  // namespace rtcgate::session

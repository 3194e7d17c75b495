// SPDX-License-Identifier: Apache-2.0
// RFC 7983 demultiplexing of a browser leg's datagrams (classifyPacket, used by BrowserLeg::onReceive).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtcgate/media/rtp/packet_demux.h"

namespace rtcgate::media {
namespace {

PacketKind kindOf(std::vector<uint8_t> bytes) { return classifyPacket(bytes); }

TEST(PacketDemux, FirstByteRangesOfRfc7983) {
  EXPECT_EQ(kindOf({0x00, 0x01}), PacketKind::Stun);
  EXPECT_EQ(kindOf({0x03, 0x00}), PacketKind::Stun);
  EXPECT_EQ(kindOf({20, 0xfe}), PacketKind::Dtls);
  EXPECT_EQ(kindOf({63, 0xfe}), PacketKind::Dtls);
  EXPECT_EQ(kindOf({0x80, 0x00}), PacketKind::Rtp);
  EXPECT_EQ(kindOf({0xbf, 0x6f}), PacketKind::Rtp);
  // Catalogue item 27: ZRTP, TURN channel data and the unassigned ranges are dropped.
  for (uint8_t first : {4, 16, 19, 64, 79, 127, 192, 255}) EXPECT_EQ(kindOf({first, 0x00}), PacketKind::Unknown);
}

TEST(PacketDemux, RtcpMuxByPayloadTypeRfc5761) {
  EXPECT_EQ(kindOf({0x80, 200}), PacketKind::Rtcp);  // SR
  EXPECT_EQ(kindOf({0x81, 201}), PacketKind::Rtcp);  // RR
  EXPECT_EQ(kindOf({0x80, 192}), PacketKind::Rtcp);
  EXPECT_EQ(kindOf({0x80, 223}), PacketKind::Rtcp);
  EXPECT_EQ(kindOf({0x80, 0x80 | 111}), PacketKind::Rtp);  // Opus with the marker bit
}

// A 0-byte datagram used to be read at data[0] (one byte past the buffer); 1 byte is too short for any kind.
TEST(PacketDemux, EmptyAndOneByteDatagramsAreUnknown) {
  EXPECT_EQ(classifyPacket({}), PacketKind::Unknown);
  EXPECT_EQ(kindOf({0x80}), PacketKind::Unknown);
  EXPECT_EQ(kindOf({0x16}), PacketKind::Unknown);
}

}  // namespace
}  // namespace rtcgate::media

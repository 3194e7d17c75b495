// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/packet_demux.h"

namespace rtcgate::media {

PacketKind classifyPacket(std::span<const uint8_t> datagram) {
  // Two bytes at least: every kind below is longer, and RTP/RTCP is told apart by the second byte.
  if (datagram.size() < 2) return PacketKind::Unknown;
  const uint8_t first = datagram[0];
  if (first <= 3) return PacketKind::Stun;
  if (first >= 20 && first <= 63) return PacketKind::Dtls;
  if (first >= 128 && first <= 191) {
    const uint8_t second = datagram[1];
    return second >= 192 && second <= 223 ? PacketKind::Rtcp : PacketKind::Rtp;
  }
  return PacketKind::Unknown;
}

}  // namespace rtcgate::media

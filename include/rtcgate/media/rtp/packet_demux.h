// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

namespace rtcgate::media {

// What a datagram on a browser leg's single ICE component is, by its first byte (RFC 7983 §7) and, for RTP/RTCP
// multiplexed on one port, its second (RFC 5761 §4: payload types 64..95, 192..223 with the marker bit, are RTCP).
// Anything else (ZRTP, TURN channel data, 0- and 1-byte datagrams, the unassigned ranges) is Unknown and dropped.
enum class PacketKind { Stun, Dtls, Rtp, Rtcp, Unknown };

PacketKind classifyPacket(std::span<const uint8_t> datagram);

}  // namespace rtcgate::media

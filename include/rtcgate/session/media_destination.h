// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/core/address.h"
#include "rtcgate/media/candidate_policy.h"
#include "rtcgate/session/sdp_builder.h"

namespace rtcgate::session {

// Where the Genesys leg may send RTP and RTCP (issue 11; reliability-security.md §3.2, §5 item 22). An SDP from
// the upstream names a destination rtcgate then sends 50 packets a second to, from the DMZ host: it must not point
// at the cloud metadata service, a multicast group, the gateway itself or an arbitrary network.
//  - unspecified (0.0.0.0, ::) is the RFC 3264 §8.4 hold marker, as is port 0 (a rejected stream): Hold, nothing
//    is sent (RTP or RTCP) until a later offer/answer names a real destination;
//  - never (whatever upstream.media_allowed_cidrs says): a host name, an IPv4-mapped IPv6 literal, another family
//    than media.rtp_address, multicast, broadcast (255.255.255.255; a subnet's directed broadcast the kernel
//    refuses itself: the RTP sockets have no SO_BROADCAST),
//    link-local (169.254.0.0/16 with the metadata address 169.254.169.254, fe80::/10), 0.0.0.0/8 and 240.0.0.0/4,
//    and rtcgate's own RTP/SIP sockets (a loop: an address of this host with a port of media.rtp_port_min..max or
//    upstream.sip_bind; with a non-loopback media.rtp_address any port of this host's addresses);
//  - else the address must be inside upstream.media_allowed_cidrs; empty means the private networks
//    (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7) plus loopback (127.0.0.0/8, ::1) when
//    media.rtp_address is a loopback address (the demo and tests, where Genesys is SIPp on 127.0.0.1).
// Thread: any (value type, no system calls).
class MediaDestinationPolicy {
public:
  enum class Verdict { Allowed, Hold, Refused };
  struct Decision {
    Verdict verdict = Verdict::Refused;
    std::string reason;  // why it was refused; empty otherwise
  };

  // `localAddresses`: this host's interface addresses (media::listLocalAddresses()).
  MediaDestinationPolicy(const config::Config& config, const std::vector<media::LocalAddress>& localAddresses);

  // One destination (c= address, and the RTP or the RTCP port).
  Decision check(std::string_view address, uint16_t port) const;
  // A Genesys media section: RTP at address:port, RTCP at its a=rtcp (RFC 3605) or port + 1.
  Decision check(const GenesysMedia& media) const;
  // The networks destinations must be in (configured, or the default).
  const std::vector<IpNetwork>& allowedNetworks() const { return allowed_; }

private:
  bool isOwn(const IpAddress& address, uint16_t port) const;

  std::vector<IpNetwork> allowed_;
  bool configured_ = false;
  bool rtpV6_ = false;
  bool rtpLoopback_ = false;
  std::vector<IpAddress> own_;        // media.rtp_address, upstream.sip_bind, interface addresses
  std::vector<IpNetwork> reserved_;
  uint16_t rtpPortMin_ = 0, rtpPortMax_ = 0, sipPort_ = 0;
};

}  // namespace rtcgate::session

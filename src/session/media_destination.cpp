// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/media_destination.h"

#include <algorithm>
#include <array>

namespace rtcgate::session {
namespace {

// The private networks a Genesys site's media endpoints live in (RFC 1918, RFC 4193 unique local).
constexpr std::array<const char*, 4> kPrivateNetworks{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"};
constexpr std::array<const char*, 2> kLoopbackNetworks{"127.0.0.0/8", "::1/128"};
// RFC 1122 §3.2.1.3 "this network" (0.0.0.0 itself is the hold marker, checked first) and RFC 1112 §4's reserved
// class E: neither is a unicast destination.
constexpr std::array<const char*, 2> kReservedNetworks{"0.0.0.0/8", "240.0.0.0/4"};
// The link-local address cloud providers serve instance metadata and credentials on (AWS, GCP, Azure, OpenStack).
constexpr const char* kMetadataAddress = "169.254.169.254";

MediaDestinationPolicy::Decision refuse(std::string why) {
  return {MediaDestinationPolicy::Verdict::Refused, std::move(why)};
}

template <typename List>
void addNetworks(const List& list, std::vector<IpNetwork>& out) {
  for (const auto& text : list)
    if (auto n = IpNetwork::parse(text)) out.push_back(*n);
}

bool inAny(const std::vector<IpNetwork>& networks, const IpAddress& a) {
  return std::any_of(networks.begin(), networks.end(), [&](const IpNetwork& n) { return n.contains(a); });
}

}  // namespace

MediaDestinationPolicy::MediaDestinationPolicy(const config::Config& config,
                                               const std::vector<media::LocalAddress>& localAddresses) {
  const auto rtp = IpAddress::parse(config.media.rtpAddress);
  rtpV6_ = rtp && rtp->isV6();
  rtpLoopback_ = rtp && rtp->isLoopback();
  configured_ = !config.upstream.mediaAllowedCidrs.empty();
  if (configured_) {
    addNetworks(config.upstream.mediaAllowedCidrs, allowed_);
  } else {
    addNetworks(kPrivateNetworks, allowed_);
    if (rtpLoopback_) addNetworks(kLoopbackNetworks, allowed_);
  }
  if (rtp) own_.push_back(*rtp);
  if (auto sip = IpAddress::parse(config.upstream.sipBind.address)) own_.push_back(*sip);
  for (const auto& la : localAddresses)
    if (auto a = IpAddress::parse(la.address)) own_.push_back(*a);
  addNetworks(kReservedNetworks, reserved_);
  rtpPortMin_ = config.media.rtpPortMin;
  rtpPortMax_ = config.media.rtpPortMax;
  sipPort_ = config.upstream.sipBind.port;
}

bool MediaDestinationPolicy::isOwn(const IpAddress& address, uint16_t port) const {
  if (std::find(own_.begin(), own_.end(), address) == own_.end()) return false;
  // On a loopback media address Genesys is a process on this host (demo, tests): only rtcgate's own ports loop.
  if (!rtpLoopback_) return true;
  return (port >= rtpPortMin_ && port <= rtpPortMax_) || (sipPort_ != 0 && port == sipPort_);
}

MediaDestinationPolicy::Decision MediaDestinationPolicy::check(std::string_view text, uint16_t port) const {
  auto a = IpAddress::parse(text);
  if (!a) return refuse("not a numeric address (no DNS on the media path)");
  // RFC 3264 §8.4: c=0.0.0.0 was RFC 2543's hold; it names no destination (Linux would deliver it locally).
  if (a->isUnspecified() || port == 0) return {Verdict::Hold, {}};
  if (a->isV4Mapped()) return refuse("an IPv4-mapped IPv6 address");
  if (a->isV6() != rtpV6_) return refuse("not the address family of media.rtp_address");
  if (a->isMulticast()) return refuse("multicast");
  if (a->isBroadcast()) return refuse("broadcast");
  if (a->isLinkLocal())
    return refuse(*a == *IpAddress::parse(kMetadataAddress) ? "link-local (the cloud metadata address)" : "link-local");
  if (inAny(reserved_, *a)) return refuse("reserved (0.0.0.0/8, 240.0.0.0/4)");
  if (isOwn(*a, port)) return refuse("rtcgate's own address (a media loop)");
  if (!inAny(allowed_, *a))
    return refuse(configured_ ? "outside upstream.media_allowed_cidrs"
                              : "outside upstream.media_allowed_cidrs (default: private networks)");
  return {Verdict::Allowed, {}};
}

MediaDestinationPolicy::Decision MediaDestinationPolicy::check(const GenesysMedia& media) const {
  auto rtp = check(media.address, media.port);
  if (rtp.verdict != Verdict::Allowed) return rtp;
  const uint32_t rtcpPort = media.rtcpPort != 0 ? media.rtcpPort : media.port + 1u;
  if (rtcpPort > 65535) return refuse("no RTCP port (port + 1 is beyond 65535)");
  auto rtcp = check(media.rtcpAddress.empty() ? media.address : media.rtcpAddress, static_cast<uint16_t>(rtcpPort));
  if (rtcp.verdict == Verdict::Refused) rtcp.reason = "RTCP: " + rtcp.reason;
  // An a=rtcp naming 0.0.0.0 for a real RTP destination is contradictory: no half-held stream.
  if (rtcp.verdict == Verdict::Hold) return refuse("RTCP: unspecified address or port 0 with a real RTP destination");
  return rtcp;
}

}  // namespace rtcgate::session

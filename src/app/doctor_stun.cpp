// SPDX-License-Identifier: Apache-2.0
#include "doctor_stun.h"

#include <stun/usages/bind.h>

#include "doctor_checks.h"

namespace rtcgate::app::doctor {

namespace {

// Comprehension-required attributes a STUN or TURN server may answer with (RFC 5389 15, RFC 5766 14);
// libnice refuses a response with any other one below 0x8000.
const uint16_t kKnownAttributes[] = {STUN_ATTRIBUTE_MAPPED_ADDRESS,    STUN_ATTRIBUTE_USERNAME,
                                     STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_ERROR_CODE,
                                     STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, STUN_ATTRIBUTE_CHANNEL_NUMBER,
                                     STUN_ATTRIBUTE_LIFETIME,          STUN_ATTRIBUTE_XOR_PEER_ADDRESS,
                                     STUN_ATTRIBUTE_DATA,              STUN_ATTRIBUTE_REALM,
                                     STUN_ATTRIBUTE_NONCE,             STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS,
                                     STUN_ATTRIBUTE_EVEN_PORT,         STUN_ATTRIBUTE_REQUESTED_TRANSPORT,
                                     STUN_ATTRIBUTE_DONT_FRAGMENT,     STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
                                     STUN_ATTRIBUTE_RESERVATION_TOKEN, 0};

}  // namespace

void initStunAgent(StunAgent& agent, bool longTerm) {
  stun_agent_init(&agent, kKnownAttributes, STUN_COMPATIBILITY_RFC5389,
                  longTerm ? STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS : StunAgentUsageFlags(0));
}

std::unique_ptr<StunReply> stunExchange(UdpProbe& socket, StunAgent& agent, const IpAddress& server, uint16_t port,
                                        const uint8_t* request, size_t length, std::chrono::milliseconds timeout) {
  auto reply = std::make_unique<StunReply>();
  std::vector<uint8_t> req(request, request + length);
  auto got = socket.exchange(server, port, req, timeout, [&](const std::vector<uint8_t>& b) {
    reply->bytes = b;
    // Responses are checked against the key saved with the request (stun_agent_finish_message), so no validater
    // is needed; an error response without MESSAGE-INTEGRITY (a 401 challenge) is accepted by libnice as is.
    auto status = stun_agent_validate(&agent, &reply->message, reply->bytes.data(), reply->bytes.size(), nullptr,
                                      nullptr);
    return status == STUN_VALIDATION_SUCCESS || status == STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST ||
           status == STUN_VALIDATION_UNAUTHORIZED;
  });
  if (!got) return nullptr;
  return reply;
}

std::string stunErrorText(const StunMessage& message) {
  uint16_t len = 0;
  auto* v = static_cast<const uint8_t*>(stun_message_find(&message, STUN_ATTRIBUTE_ERROR_CODE, &len));
  if (v == nullptr || len < 4) return {};
  int code = (v[2] & 0x7) * 100 + v[3];
  std::string reason(reinterpret_cast<const char*>(v + 4), len - 4u);
  return std::to_string(code) + (reason.empty() ? "" : " " + reason);
}

std::string sockaddrHost(const sockaddr_storage& address) {
  auto a = IpAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&address));
  return a ? a->toString() : "?";
}

namespace {

// Bind within the ICE range, as the daemon's host candidate would: a firewall rule for that range is what is
// being tested. Falls back to any port when the range is full (reported by the port check).
std::optional<UdpProbe> bindInIceRange(const config::Config& cfg, const IpAddress& local, bool& inRange) {
  int err = 0;
  const unsigned span = static_cast<unsigned>(cfg.media.icePortMax - cfg.media.icePortMin) + 1;
  for (unsigned i = 0; i < std::min(span, 64u); ++i) {
    auto port = static_cast<uint16_t>(cfg.media.icePortMax - i);  // from the top: the port check samples the ends
    if (auto s = UdpProbe::bind(local, port, err)) {
      inRange = true;
      return s;
    }
  }
  inRange = false;
  return UdpProbe::bind(local, 0, err);
}

}  // namespace

void checkStunServers(const config::Config& cfg, const std::vector<OfferedAddress>& offered, const Options& options,
                      Report& report) {
  const IpAddress local = probeAddress(offered);
  std::string advertised;
  for (auto& o : offered)
    if (o.local.address == local.toString()) advertised = o.advertised;
  for (auto& server : cfg.ice.stunServers) {
    const std::string name = "ice.stun_servers " + server.address + ":" + std::to_string(server.port);
    auto ip = IpAddress::parse(server.address);
    if (!ip) continue;  // the loader accepts numeric addresses only
    bool inRange = false;
    auto socket = bindInIceRange(cfg, local, inRange);
    if (!socket) {
      report.problem("stun", name + ": no local UDP socket on " + local.toString(),
                     "check media.ice_port_min/_max and the local address");
      continue;
    }
    StunAgent agent;
    initStunAgent(agent, false);
    StunMessage req;
    uint8_t buf[STUN_MAX_MESSAGE_SIZE_IPV4];
    size_t len = stun_usage_bind_create(&agent, &req, buf, sizeof(buf));
    const std::string from = " from " + local.toString() + ":" + std::to_string(socket->localPort()) +
                             (inRange ? "" : " (outside the ICE range, which is full)");
    auto reply = stunExchange(*socket, agent, *ip, server.port, buf, len, options.timeout);
    if (!reply) {
      report.problem("stun", name + ": no answer within " + std::to_string(options.timeout.count()) + " ms" + from,
                     "allow UDP from this host's ICE ports to " + server.address + ":" +
                         std::to_string(server.port) + " in the firewall, or remove it from ice.stun_servers");
      continue;
    }
    sockaddr_storage mapped{}, alternate{};
    socklen_t mappedLen = sizeof(mapped), alternateLen = sizeof(alternate);
    auto r = stun_usage_bind_process(&reply->message, reinterpret_cast<sockaddr*>(&mapped), &mappedLen,
                                     reinterpret_cast<sockaddr*>(&alternate), &alternateLen);
    if (r != STUN_USAGE_BIND_RETURN_SUCCESS) {
      report.problem("stun", name + ": answered with an error (" + stunErrorText(reply->message) + ")" + from,
                     "use a STUN server that answers Binding requests (RFC 5389) in ice.stun_servers");
      continue;
    }
    const std::string m = sockaddrHost(mapped);
    const std::string seen = name + ": mapped address " + m + ":" + std::to_string(sockaddrPort(mapped)) + from;
    if (advertised.empty() || m == advertised) {
      report.ok("stun", seen + (advertised.empty() ? "" : ", the address rtcgate advertises"));
    } else if (advertised != local.toString()) {
      report.problem("stun", seen + ", but ice.candidates.nat_1to1 advertises " + advertised + " for " +
                                 local.toString(),
                     "set ice.candidates.nat_1to1: [{local: " + local.toString() + ", advertised: " + m + "}]");
    } else {
      report.problem("stun", seen + ": this host is behind NAT and advertises " + advertised,
                     "set ice.candidates.nat_1to1: [{local: " + local.toString() + ", advertised: " + m +
                         "}] (STUN says the public address is " + m + ")");
    }
  }
}

}  // namespace rtcgate::app::doctor

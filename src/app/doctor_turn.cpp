// SPDX-License-Identifier: Apache-2.0
#include <stun/usages/turn.h>

#include "doctor_checks.h"
#include "doctor_stun.h"
#include "rtcgate/media/turn_credentials.h"

namespace rtcgate::app::doctor {

namespace {

constexpr auto kCompat = STUN_USAGE_TURN_COMPATIBILITY_RFC5766;

std::string serverName(const config::TurnServer& s) {
  return "ice.turn_servers " + s.host + ":" + std::to_string(s.port);
}

std::string credentialKind(const config::TurnServer& s) {
  return s.sharedSecret.empty() ? "static user \"" + s.username + "\"" : "TURN REST credentials (shared_secret)";
}

// Allocate per RFC 5766 6.1: the first request carries no credentials and draws a 401 with REALM and NONCE; the
// second is signed with them. A 438 Stale Nonce gets one more signed attempt with the new nonce.
void allocateAndFree(const config::TurnServer& server, const IpAddress& local, const Options& options,
                     Report& report) {
  const std::string name = serverName(server);
  auto ip = IpAddress::parse(server.host);
  if (!ip) return;  // the loader accepts numeric addresses only
  int err = 0;
  auto socket = UdpProbe::bind(local, 0, err);
  if (!socket) {
    report.problem("turn", name + ": no local UDP socket on " + local.toString(), "check the local addresses");
    return;
  }
  auto creds = media::turnCredentials(server, std::chrono::system_clock::now());
  auto* user = reinterpret_cast<uint8_t*>(creds.username.data());
  std::string pass = creds.password.reveal();
  auto* pw = reinterpret_cast<uint8_t*>(pass.data());

  StunAgent agent;
  initStunAgent(agent, true);
  uint8_t buf[STUN_MAX_MESSAGE_SIZE_IPV4];
  std::unique_ptr<StunReply> challenge;  // the latest response carrying REALM and NONCE
  std::unique_ptr<StunReply> reply;
  for (int attempt = 0; attempt < 3; ++attempt) {
    StunMessage req;
    size_t len = stun_usage_turn_create(&agent, &req, buf, sizeof(buf), challenge ? &challenge->message : nullptr,
                                        STUN_USAGE_TURN_REQUEST_PORT_NORMAL, -1, -1, user, creds.username.size(), pw,
                                        pass.size(), kCompat);
    reply = stunExchange(*socket, agent, *ip, server.port, buf, len, options.timeout);
    if (!reply) {
      report.problem("turn", name + ": no answer to Allocate within " + std::to_string(options.timeout.count()) +
                                 " ms from " + local.toString(),
                     "allow UDP to " + server.host + ":" + std::to_string(server.port) +
                         " in the firewall and check that coturn listens there, or remove it from ice.turn_servers");
      return;
    }
    if (stun_message_get_class(&reply->message) != STUN_ERROR) break;
    int code = 0;
    stun_message_find_error(&reply->message, &code);
    uint16_t nonceLen = 0;
    bool hasNonce = stun_message_find(&reply->message, STUN_ATTRIBUTE_NONCE, &nonceLen) != nullptr;
    // Only the unauthenticated first try or a stale nonce earn a retry; a 401 to signed credentials is final.
    if (!hasNonce || !((code == 401 && !challenge) || code == 438)) break;
    challenge = std::move(reply);
  }
  sockaddr_storage relay{}, mapped{}, alternate{};
  socklen_t relayLen = sizeof(relay), mappedLen = sizeof(mapped), alternateLen = sizeof(alternate);
  uint32_t bandwidth = 0, lifetime = 0;
  auto r = stun_usage_turn_process(&reply->message, &relay, &relayLen, &mapped, &mappedLen, &alternate, &alternateLen,
                                   &bandwidth, &lifetime, kCompat);
  if (r != STUN_USAGE_TURN_RETURN_RELAY_SUCCESS && r != STUN_USAGE_TURN_RETURN_MAPPED_SUCCESS) {
    std::string error = stunErrorText(reply->message);
    int code = 0;
    stun_message_find_error(&reply->message, &code);
    std::string fix = code == 401
                          ? (server.sharedSecret.empty()
                                 ? "set ice.turn_servers username/password to a user coturn knows (turnadmin -a, or "
                                   "user= in turnserver.conf)"
                                 : "set ice.turn_servers shared_secret to coturn's static-auth-secret (and check both "
                                   "clocks: REST usernames carry an expiry time)")
                      : code == 437 || code == 486 ? "raise coturn's user-quota/total-quota or free old allocations"
                      : code == 508                ? "widen coturn's min-port/max-port relay range"
                                                   : "see coturn's log for why it refused the Allocate";
    report.problem("turn", name + ": Allocate with " + credentialKind(server) + " refused: " +
                               (error.empty() ? "no error code" : error),
                   fix);
    return;
  }
  report.ok("turn", name + ": relay " + sockaddrHost(relay) + ":" + std::to_string(sockaddrPort(relay)) +
                        " allocated with " + credentialKind(server) + " (lifetime " + std::to_string(lifetime) +
                        " s)");
  // Free it at once (RFC 5766 7.1, lifetime 0) instead of leaving it to expire on the server.
  for (int attempt = 0; attempt < 2 && challenge; ++attempt) {
    StunMessage req;
    size_t len = stun_usage_turn_create_refresh(&agent, &req, buf, sizeof(buf), &challenge->message, 0, user,
                                                creds.username.size(), pw, pass.size(), kCompat);
    auto refreshed = stunExchange(*socket, agent, *ip, server.port, buf, len, options.timeout);
    if (!refreshed) {
      report.warning("turn", name + ": no answer to the Refresh freeing the test relay; it expires by itself");
      return;
    }
    int code = 0;
    if (stun_message_get_class(&refreshed->message) == STUN_ERROR &&
        stun_message_find_error(&refreshed->message, &code) == STUN_MESSAGE_RETURN_SUCCESS && code == 438) {
      challenge = std::move(refreshed);
      continue;
    }
    if (stun_message_get_class(&refreshed->message) == STUN_ERROR)
      report.warning("turn", name + ": Refresh freeing the test relay refused (" +
                                 stunErrorText(refreshed->message) + "); it expires by itself");
    return;
  }
}

}  // namespace

void checkTurnServers(const config::Config& cfg, const std::vector<OfferedAddress>& offered, const Options& options,
                      Report& report) {
  const IpAddress local = probeAddress(offered);
  for (auto& server : cfg.ice.turnServers) {
    if (server.transport != config::TurnTransport::Udp) {
      // The daemon's TCP allocation goes through libnice's TCP framing; the doctor speaks UDP only.
      report.warning("turn", serverName(server) + ": transport tcp/tls not checked by the doctor (UDP only)");
      continue;
    }
    allocateAndFree(server, local, options, report);
  }
}

}  // namespace rtcgate::app::doctor

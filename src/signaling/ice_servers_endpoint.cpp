// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/ice_servers_endpoint.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>

#include "rtcgate/core/log.h"
#include "rtcgate/media/turn_credentials.h"

namespace rtcgate::signaling {
namespace {

// RFC 8259 7: quotation mark, reverse solidus and control characters are escaped; the rest passes as UTF-8.
std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace

IceServersEndpoint::IceServersEndpoint(const config::Config& config, AgentAuthenticator& auth, Metrics& metrics)
    : auth_(auth),
      served_(metrics.counter("rtcgate_ice_servers_served_total",
                              "GET /rtcgate/ice-servers answered 200 (ICE servers and TURN credentials given out)")),
      refused_(metrics.counter("rtcgate_ice_servers_refused_total",
                               "/rtcgate/ice-servers requests refused (401, 403, 405, 429)")) {
  applyConfig(config);
}

void IceServersEndpoint::applyConfig(const config::Config& config) {
  browser_ = config.browser;
  allowedOrigins_ = config.security.allowedOrigins;
  turnSecret_ = browser_.turnSharedSecret;
  if (turnSecret_.empty())
    for (const auto& t : config.ice.turnServers)
      if (!t.sharedSecret.empty()) {
        turnSecret_ = t.sharedSecret;
        break;
      }
}

bool IceServersEndpoint::handles(std::string_view path) { return path == kPath; }

bool IceServersEndpoint::originAllowed(const std::string& origin) const {
  // The WebSocket handshake's rule (WssServer::checkUpgrade): with an allow-list, the Origin must be on it.
  if (allowedOrigins_.empty()) return true;
  return std::any_of(allowedOrigins_.begin(), allowedOrigins_.end(),
                     [&](const std::string& o) { return ::strcasecmp(o.c_str(), origin.c_str()) == 0; });
}

std::string IceServersEndpoint::json(const std::string& agent, std::chrono::system_clock::time_point now) const {
  std::string stun;
  std::string turn;
  for (const auto& url : browser_.iceServers) {
    std::string& list = url.rfind("turn", 0) == 0 ? turn : stun;
    if (!list.empty()) list += ",";
    list += jsonString(url);
  }
  std::string servers;
  if (!stun.empty()) servers += "{\"urls\":[" + stun + "]}";
  if (!turn.empty()) {
    // draft-uberti-behave-turn-rest-00 2.2: username "<expiry>:<user>", password base64(HMAC-SHA1(secret, username)).
    config::TurnServer rest;
    rest.sharedSecret = turnSecret_;
    rest.credentialTtlS = browser_.credentialTtlS;
    auto creds = media::turnCredentials(rest, now, agent);
    if (!servers.empty()) servers += ",";
    servers += "{\"urls\":[" + turn + "],\"username\":" + jsonString(creds.username) +
               ",\"credential\":" + jsonString(creds.password.reveal()) + "}";
  }
  return fmt::format("{{\"iceServers\":[{}],\"ttl\":{},\"gatheringTimeoutMs\":{}}}", servers, browser_.credentialTtlS,
                     browser_.gatheringTimeoutMs);
}

IceServersEndpoint::Reply IceServersEndpoint::handle(const Request& request,
                                                     std::chrono::system_clock::time_point now) {
  Reply r;
  r.contentType = "text/plain";
  // Fetch standard: a browser sends Origin on every cross-origin request whose answer a page may read, but not on a
  // same-origin GET, i.e. from the softphone page rtcgate serves on this listener (listeners.wss[].web_root). Such a
  // request is from https://<Host>, and that origin is what the allow-list must hold.
  const std::string origin =
      request.origin.empty() && !request.host.empty() ? "https://" + request.host : request.origin;
  if (!originAllowed(origin)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    r.status = 403;
    r.body = "Origin not allowed\n";
    return r;
  }
  // Fetch standard (CORS): a page on another origin reads the answer (and the 401's challenge) only with these.
  if (!request.origin.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Origin", request.origin);
    r.headers.emplace_back("Vary", "Origin");
    r.headers.emplace_back("Access-Control-Expose-Headers", "WWW-Authenticate");
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  if (request.method == "OPTIONS") {
    // The preflight a cross-origin fetch with an Authorization header sends first; it carries no credentials.
    r.status = 204;
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET");
    r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    return r;
  }
  if (request.method != "GET") {
    refused_.fetch_add(1, std::memory_order_relaxed);
    r.status = 405;
    r.headers.emplace_back("Allow", "GET, OPTIONS");
    return r;
  }
  auto outcome = auth_.authenticateHttp(request.method, request.uri, request.authorization, request.sourceIp);
  switch (outcome.kind) {
    case AgentAuthenticator::Outcome::Kind::RateLimited:
      refused_.fetch_add(1, std::memory_order_relaxed);
      r.status = 429;
      r.headers.emplace_back("Retry-After", "60");
      r.body = "Too many failed authentications\n";
      return r;
    case AgentAuthenticator::Outcome::Kind::Challenge:
      refused_.fetch_add(1, std::memory_order_relaxed);
      r.status = 401;
      for (auto& c : outcome.challenges) r.headers.emplace_back("WWW-Authenticate", c);
      r.body = "Authentication required\n";
      return r;
    case AgentAuthenticator::Outcome::Kind::Authenticated:
      break;
  }
  served_.fetch_add(1, std::memory_order_relaxed);
  r.status = 200;
  r.contentType = "application/json";
  r.body = json(outcome.user, now);
  log::get(log::Component::Wss)
      ->debug("ICE servers for agent {} from {}", log::escaped(outcome.user, 64), log::escaped(request.sourceIp, 64));
  return r;
}

}  // namespace rtcgate::signaling

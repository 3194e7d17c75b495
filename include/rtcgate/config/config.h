// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/core/full_match_regex.h"
#include "rtcgate/core/log.h"
#include "rtcgate/core/rate_limiter.h"
#include "rtcgate/core/secret.h"

namespace rtcgate::config {

// The validated configuration: plain values, immutable once built (held as shared_ptr<const Config>).
// Every key, its default, unit and whether a reload applies it is documented in config/rtcgate.yaml.

struct Endpoint {
  std::string address;
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

// listeners.wss[].proxy_protocol: load balancers (TCP mode) that announce each client's address with a PROXY
// protocol header (v1 or v2). Only these may: from anyone else the first bytes must be TLS.
struct ProxyProtocol {
  std::vector<std::string> trusted;  // addresses / CIDRs; empty: no PROXY protocol on this listener
  bool required = true;              // a trusted peer must send a header (false: it may also connect without one)
  bool operator==(const ProxyProtocol&) const = default;
};

struct WssListener {
  Endpoint bind;
  std::string tlsCertFile;  // empty: a self-signed certificate generated at start (demo only)
  std::string tlsKeyFile;
  std::string webRoot{};  // static files served over HTTPS on this listener (the softphone page); empty: none
  ProxyProtocol proxyProtocol{};
  bool operator==(const WssListener&) const = default;
};

struct AdminListener {
  bool enabled = true;
  Endpoint bind{"127.0.0.1", 8089};
  bool operator==(const AdminListener&) const = default;
};

// listeners.admin.token_file (issue 13): the bearer token /api/v1 requires. Kept apart from AdminListener so that a
// new token is a [reload] change while the listener itself is [restart].
struct AdminAuth {
  std::string tokenFile;  // empty: no token (only allowed while the admin listener is on loopback)
  Secret token;           // the file's first line, without surrounding whitespace
  bool operator==(const AdminAuth&) const = default;
};

struct Listeners {
  std::vector<WssListener> wss;
  AdminListener admin;
  bool operator==(const Listeners&) const = default;
};

enum class SipTransport { Udp, Tcp };

struct UpstreamServer {
  std::string host;
  uint16_t port = 5060;
  SipTransport transport = SipTransport::Udp;
  bool operator==(const UpstreamServer&) const = default;
};

// RFC 4028 session timers on the Genesys leg (sofia-sip nua handles them).
struct SessionTimer {
  // Smallest Session-Expires accepted from Genesys; below it gets 422 with this Min-SE. RFC 4028 §4 allows 90.
  uint32_t minSeS = 90;
  // Session-Expires offered in our INVITEs to Genesys and in our 2xx when Genesys offers none; not below minSeS.
  // When rtcgate is the refresher, nua refreshes (re-INVITE with the same SDP) at half the negotiated interval.
  uint32_t expiresS = 1800;
  bool operator==(const SessionTimer&) const = default;
};

struct Upstream {
  Endpoint sipBind{"127.0.0.1", 5070};
  std::vector<SipTransport> transports{SipTransport::Udp};
  std::vector<UpstreamServer> servers;
  // Source networks SIP is accepted from; empty means the configured servers' addresses only.
  std::vector<std::string> allowedSourceCidrs;
  // Networks Genesys's SDP may name as media destination (issue 11). Empty: the private networks (RFC 1918,
  // RFC 4193), plus loopback when media.rtp_address is a loopback address (session/media_destination.h).
  std::vector<std::string> mediaAllowedCidrs;
  uint32_t registerExpiresS = 300;
  uint32_t registerRetryMinMs = 1000;
  uint32_t registerRetryMaxMs = 60000;
  uint32_t optionsPingIntervalMs = 0;  // 0: no pings
  // /readyz answers 503 when more than this share of the DNs that should be registered has failed (issue 13).
  uint32_t readyMaxFailedDnPercent = 50;
  std::string domain;                  // SIP domain for DN AORs; empty: the first server's host
  SessionTimer sessionTimer;
  // Genesys's INVITE without SDP (third-party call control): the INVITE to the browser has none either, the
  // browser offers in its 200 and rtcgate answers in the ACK. Off: rtcgate offers to the browser itself.
  bool offerlessInviteToBrowser = false;
  bool operator==(const Upstream&) const = default;
};

struct Agent {
  std::string user;
  Secret password;  // exactly one of password / ha1
  Secret ha1;
  std::string dn;
  std::string dnAuthUser;  // empty: the DN
  Secret dnPassword;       // digest password of the DN at the upstream registrar; empty: none asked
  bool alwaysRegistered = false;
  // From agents_file (not the YAML list): replaced as a whole when that file is reloaded. Its line there, for errors.
  bool fromFile = false;
  uint32_t fileLine = 0;
  bool operator==(const Agent&) const = default;
};

// Signed agent tokens (JWT HS256) so agents need no entry at all (docs/configuration.md, "Agents at scale").
struct AgentTokens {
  std::string secretFile;  // empty: JWT agent tokens disabled
  Secret secret;           // read from secretFile when the configuration is loaded
  // Key rotation: the secret being retired, still accepted (never used to sign) until this is emptied again.
  std::string previousSecretFile;
  Secret previousSecret;
  std::string issuer;      // empty: iss not checked
  // The aud values rtcgate answers to (RFC 7519 4.1.3): a token must name one of them. Empty: rtcgate identifies
  // with no audience, so a token that carries aud (meant for some audience) is refused and one without is taken.
  std::vector<std::string> audience;
  static constexpr size_t kMaxAudienceValues = 16;   // in the configuration and in a token's aud array
  static constexpr size_t kMaxAudienceBytes = 256;   // per value
  uint32_t maxLifetimeS = 43200;
  // Upstream credentials of a token agent's DN: never from the token (a token must not choose what rtcgate
  // presents to Genesys). dnAuthUser empty: the DN itself; dnPassword empty: none asked.
  std::string dnAuthUser;
  Secret dnPassword;
  bool enabled() const { return !secret.empty(); }
  bool operator==(const AgentTokens&) const = default;
};

struct CandidateNat {
  std::string local;
  std::string advertised;
  bool operator==(const CandidateNat&) const = default;
};

// Interfaces never offered to browsers unless lifted by exact name (Candidates::liftBuiltinDenials): container,
// bridge and overlay interfaces (the seed deployment advertised docker0 and bridge addresses) and loopback.
// Link-local addresses are denied as well (allow_link_local). Issue 12: these apply whatever deny_interfaces says.
inline const std::vector<std::string> kBuiltinDeniedInterfaces{"docker*", "br-*",      "veth*", "virbr*",
                                                              "cni*",    "flannel*", "lo"};

struct Candidates {
  std::vector<std::string> allowInterfaces;  // glob patterns; empty: every interface not denied
  std::vector<std::string> denyInterfaces;   // glob patterns denied in addition to kBuiltinDeniedInterfaces
  std::vector<std::string> liftBuiltinDenials;  // exact interface names exempt from kBuiltinDeniedInterfaces
  std::vector<std::string> allowCidrs;
  std::vector<std::string> denyCidrs;
  bool allowLoopback = false;
  bool allowLinkLocal = false;
  bool ipv6 = false;
  std::vector<CandidateNat> nat1to1;
  bool operator==(const Candidates&) const = default;
};

enum class TurnTransport { Udp, Tcp, Tls };

struct TurnServer {
  std::string host;
  uint16_t port = 3478;
  TurnTransport transport = TurnTransport::Udp;
  std::string username;      // static credentials
  Secret password;
  Secret sharedSecret;       // TURN REST API (time-limited credentials); excludes username/password
  uint32_t credentialTtlS = 86400;
  bool operator==(const TurnServer&) const = default;
};

struct Ice {
  std::vector<Endpoint> stunServers;
  std::vector<TurnServer> turnServers;
  Candidates candidates;
  uint32_t gatherDeadlineMs = 300;
  bool relayOnly = false;  // offer and use only TURN relay candidates (libnice force-relay)
  uint32_t consentTimeoutMs = 30000;
  uint32_t connectTimeoutMs = 10000;
  bool operator==(const Ice&) const = default;
};

struct Media {
  unsigned workers = 0;  // 0: one per hardware thread
  std::string rtpAddress = "127.0.0.1";
  uint16_t rtpPortMin = 20000;
  uint16_t rtpPortMax = 29999;
  uint16_t icePortMin = 30000;
  uint16_t icePortMax = 39999;
  uint32_t rtpTimeoutMs = 30000;
  uint32_t dtlsHandshakeTimeoutMs = 10000;
  // Per-stream cap on RTP packets received (from the browser after SRTP authentication, from Genesys after the
  // source check); the excess is dropped before decode or forward. perSecond 0: no cap.
  Rate packetRate{150, 150};
  std::string dtlsCertFile;  // empty: an ECDSA P-256 certificate generated at start
  std::string dtlsKeyFile;
  std::vector<std::string> srtpProfiles{"AEAD_AES_256_GCM", "AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80",
                                        "AES_CM_128_HMAC_SHA1_32"};
  bool operator==(const Media&) const = default;
};

struct Opus {
  int complexity = 5;
  int bitrateBps = 32000;
  bool fec = true;
  bool dtx = false;
  bool operator==(const Opus&) const = default;
};

struct Codecs {
  std::vector<std::string> browser{"opus", "pcmu", "pcma"};
  std::vector<std::string> upstream{"pcmu", "pcma"};
  bool passthrough = true;
  Opus opus;
  bool operator==(const Codecs&) const = default;
};

// Admission rates (token buckets, per source IP and for all sources); perSecond 0 = no limit. The numbers are for a
// contact center: a few hundred agents behind one NAT address logging in at a shift start (docs/configuration.md).
struct RateLimits {
  Rate connectionsPerIp{10, 300};  // new WSS connections (refused at accept, before TLS)
  Rate connections{100, 1000};
  Rate registersPerIp{20, 600};    // browser REGISTERs (503 + Retry-After)
  Rate registers{200, 2000};
  Rate invitesPerIp{10, 100};      // browser INVITEs outside a dialog (503 + Retry-After)
  Rate invites{50, 200};
  Rate upstreamInvites{20, 200};   // INVITEs from the upstream outside a dialog (503 + Retry-After)
  bool operator==(const RateLimits&) const = default;
};

// What an agent's browser may ask Genesys to reach (INVITE Request-URI, REFER Refer-To), checked before anything
// is sent upstream: docs/signaling.md "Destination policy", docs/adr/0006-destination-patterns-as-regex.md.
struct Destinations {
  // Refuse a URI whose host is not one of ownDomains, upstream.domain, an upstream.servers host or a WSS listener
  // address (instead of sending its user part to Genesys's domain anyway).
  bool ownDomainOnly = true;
  std::vector<std::string> ownDomains{"rtcgate.invalid"};  // lowercase names, or IP literals without brackets
  // Refused when the dialled number (unescaped, visual separators '-' '.' removed) starts with one of these.
  std::vector<std::string> deniedPrefixes;
  // When not empty, the dialled user part (unescaped) must fully match one of these.
  std::vector<FullMatchRegex> allowedPatterns;
  bool operator==(const Destinations&) const = default;
};

struct Security {
  std::vector<std::string> allowedOrigins;  // empty: any Origin (logged at start as a warning)
  uint32_t maxConnections = 1000;
  uint32_t maxConnectionsPerIp = 400;  // a site NAT of a few hundred agents (docs/configuration.md)
  uint32_t maxCalls = 200;
  uint32_t maxCallsPerAgent = 4;  // concurrent calls of one agent's DN (dual dialogs: consult, transfer)
  // Calls not yet answered or whose browser ICE/DTLS has not completed; 0: half of maxCalls (pendingCap()).
  uint32_t maxPendingMediaSessions = 0;
  uint32_t pendingCap() const { return maxPendingMediaSessions != 0 ? maxPendingMediaSessions : (maxCalls + 1) / 2; }
  uint32_t maxMessageBytes = 65536;
  uint32_t wsHandshakeTimeoutMs = 5000;
  uint32_t wsIdleTimeoutMs = 120000;
  uint32_t authFailuresPerMinute = 10;
  uint32_t registerMinExpiresS = 60;
  uint32_t registerMaxExpiresS = 3600;
  RateLimits rateLimits;
  Destinations destinations;
  bool operator==(const Security&) const = default;
};

// Call policy between the two legs.
struct Calls {
  // How long a call outlives its agent's WebSocket connection (the browser's media may still be up): the agent's
  // reconnected browser (same agent, same JsSIP Contact) resumes its dialogs within it, else Genesys gets a BYE.
  // 0: BYE at once when the connection closes.
  uint32_t browserReconnectGraceMs = 10000;
  bool operator==(const Calls&) const = default;
};

// What browsers are told to use for ICE, served at GET /rtcgate/ice-servers on the WSS listeners (docs/network.md).
struct Browser {
  std::vector<std::string> iceServers;  // stun:, turn:, turns: URLs as a browser's RTCIceServer.urls takes them
  // TURN REST secret for the turn:/turns: URLs (draft-uberti-behave-turn-rest); empty: the first
  // ice.turn_servers shared_secret.
  Secret turnSharedSecret;
  uint32_t credentialTtlS = 600;
  uint32_t gatheringTimeoutMs = 1000;
  bool operator==(const Browser&) const = default;
};

struct Logging {
  log::Settings settings;
  bool operator==(const Logging&) const = default;
};

struct Metrics {
  bool enabled = true;
  bool operator==(const Metrics&) const = default;
};

struct Config {
  Listeners listeners;
  Upstream upstream;
  std::vector<Agent> agents;  // the YAML list, then agents_file's (fromFile)
  std::string agentsFile;      // CSV, absolute or relative to the YAML file; empty: none
  uint32_t maxAgents = 20000;  // YAML and file agents together
  AgentTokens agentTokens;
  Media media;
  Ice ice;
  Codecs codecs;
  Security security;
  Calls calls;
  Browser browser;
  Logging logging;
  Metrics metrics;
  AdminAuth adminAuth;
  bool operator==(const Config&) const = default;
};

}  // namespace rtcgate::config

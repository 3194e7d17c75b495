// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/config/config_loader.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "rtcgate/config/agents_file.h"
#include "rtcgate/config/port_budget.h"
#include "rtcgate/core/address.h"
#include "rtcgate/crypto/certificate_files.h"
#include "yaml_reader.h"

namespace rtcgate::config {

ConfigError::ConfigError(std::string source, int line, int column, std::string key, std::string message)
    : std::runtime_error(line > 0 ? fmt::format("{}:{}:{}: {}: {}", source, line, column, key, message)
                                  : fmt::format("{}: {}{}{}", source, key, key.empty() ? "" : ": ", message)),
      source_(std::move(source)),
      line_(line),
      column_(column),
      key_(std::move(key)),
      message_(std::move(message)) {}

ConfigError::ConfigError(const std::string& what, const ConfigError& first, std::vector<ConfigError> all)
    : std::runtime_error(what),
      source_(first.source_),
      line_(first.line_),
      column_(first.column_),
      key_(first.key_),
      message_(first.message_),
      all_(std::move(all)) {}

ConfigError ConfigError::collected(std::vector<ConfigError> errors) {
  // File order; errors without a place in the text (a file that cannot be read) last.
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    auto order = [](const ConfigError& e) { return std::pair(e.line_ > 0 ? e.line_ : INT32_MAX, e.column_); };
    return order(a) < order(b);
  });
  if (errors.size() == 1) return errors.front();
  std::string what;
  for (auto& e : errors) what += (what.empty() ? "" : "\n") + std::string(e.what());
  ConfigError first = errors.front();
  return ConfigError(what, first, std::move(errors));
}

std::vector<ConfigError> ConfigError::errors() const { return all_.empty() ? std::vector<ConfigError>{*this} : all_; }

namespace {

using detail::Field;
using detail::MapReader;

SipTransport parseSipTransport(const Field& f) {
  auto s = f.asString();
  if (s == "udp") return SipTransport::Udp;
  if (s == "tcp") return SipTransport::Tcp;
  f.fail("must be one of: udp, tcp");
}

TurnTransport parseTurnTransport(const Field& f) {
  auto s = f.asString();
  if (s == "udp") return TurnTransport::Udp;
  if (s == "tcp") return TurnTransport::Tcp;
  // libnice 0.1.21 speaks plain TCP to a "TLS" TURN server in RFC 5245 mode, which would fail at call time.
  if (s == "tls") f.fail("TURN over TLS is not supported by this build's ICE library (libnice 0.1.21); use udp or tcp");
  f.fail("must be one of: udp, tcp");
}

Endpoint parseEndpoint(const Field& f, bool portRequired) {
  MapReader m(f);
  Endpoint e;
  e.address = m.required("address").asIpAddress();
  if (portRequired)
    e.port = m.required("port").asPort(false);
  else if (auto p = m.optional("port"))
    e.port = p->asPort(true);
  m.finish();
  return e;
}

// "host:port" for STUN servers: the host must be a literal address, names are resolved by no one on a media loop.
Endpoint parseHostPort(const Field& f, uint16_t defaultPort) {
  auto s = f.asString();
  Endpoint e;
  auto colon = s.rfind(':');
  bool bracketed = !s.empty() && s.front() == '[';
  if (bracketed) {
    auto close = s.find(']');
    if (close == std::string::npos) f.fail("unterminated '[' in IPv6 address");
    e.address = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') f.fail("expected ':' after ']'");
      colon = close + 1;
    } else {
      colon = std::string::npos;
    }
  } else if (colon != std::string::npos && s.find(':') != colon) {
    f.fail("an IPv6 address with a port must be written [addr]:port");
  } else {
    e.address = s.substr(0, colon);
  }
  e.port = defaultPort;
  if (colon != std::string::npos) {
    auto portText = s.substr(colon + 1);
    unsigned long v = 0;
    try {
      size_t used = 0;
      v = std::stoul(portText, &used);
      if (used != portText.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      f.fail(fmt::format("port '{}' is not a number", portText));
    }
    if (v == 0 || v > 65535) f.fail("port must be 1..65535");
    e.port = static_cast<uint16_t>(v);
  }
  if (!detail::isIpAddress(e.address)) f.fail(fmt::format("'{}' is not an IP address (names are not resolved)", e.address));
  return e;
}

// First line of the token file, trimmed; never echoed in an error (it is a secret).
Secret readAdminToken(const Field& f, const std::string& path) {
  std::ifstream in(path);
  if (!in) f.fail(fmt::format("cannot read token file '{}'", path));
  std::string line;
  std::getline(in, line);
  auto first = line.find_first_not_of(" \t\r\n");
  auto last = line.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) f.fail(fmt::format("token file '{}' is empty", path));
  line = line.substr(first, last - first + 1);
  if (line.size() < 16) f.fail(fmt::format("the token in '{}' is shorter than 16 characters", path));
  return Secret(line);
}

void parseListeners(const Field& f, Config& c) {
  MapReader m(f);
  if (auto wss = m.optional("wss")) {
    c.listeners.wss.clear();
    detail::ErrorList errors;
    for (auto& item : wss->asSequence()) errors.guard([&] {
      MapReader w(item);
      WssListener l;
      l.bind.address = w.required("address").asIpAddress();
      l.bind.port = w.required("port").asPort(true);
      if (auto v = w.optional("tls_cert_file")) l.tlsCertFile = v->asString();
      if (auto v = w.optional("tls_key_file")) l.tlsKeyFile = v->asString();
      if (l.tlsCertFile.empty() != l.tlsKeyFile.empty())
        item.fail("tls_cert_file and tls_key_file must be given together");
      if (auto v = w.optional("web_root")) {
        l.webRoot = v->asString();
        // A directory that does not exist yet is allowed (deployed later, then SIGHUP): requests get 404 until then.
        if (l.webRoot.find('\0') != std::string::npos) v->fail("web_root must not contain a NUL byte");
        if (l.webRoot == "/") v->fail("web_root '/' would serve the whole file system; name the page's directory");
      }
      if (auto v = w.optional("proxy_protocol")) {
        MapReader pp(*v);
        if (auto t = pp.optional("trusted"))
          for (auto& cidr : t->asSequence()) l.proxyProtocol.trusted.push_back(cidr.asCidr());
        if (auto r = pp.optional("required")) l.proxyProtocol.required = r->asBool();
        pp.finish();
      }
      w.finish();
      c.listeners.wss.push_back(std::move(l));
    });
    errors.throwIfAny();
  }
  if (auto admin = m.optional("admin")) {
    MapReader a(*admin);
    if (auto v = a.optional("enabled")) c.listeners.admin.enabled = v->asBool();
    if (auto v = a.optional("address")) c.listeners.admin.bind.address = v->asIpAddress();
    if (auto v = a.optional("port")) c.listeners.admin.bind.port = v->asPort(true);
    if (auto v = a.optional("token_file"); v && !v->asString().empty()) {
      c.adminAuth.tokenFile = v->asString();
      c.adminAuth.token = readAdminToken(*v, c.adminAuth.tokenFile);
    }
    // The API ends calls and drains the gateway: beyond loopback nobody may reach it without the token.
    auto addr = IpAddress::parse(c.listeners.admin.bind.address);
    if (c.listeners.admin.enabled && addr && !addr->isLoopback() && c.adminAuth.token.empty())
      admin->fail(fmt::format("the admin listener on {} is reachable beyond loopback: set token_file",
                              c.listeners.admin.bind.address));
    a.finish();
  }
  m.finish();
}

void parseUpstream(const Field& f, Config& c) {
  MapReader m(f);
  auto& u = c.upstream;
  if (auto b = m.optional("sip_bind")) u.sipBind = parseEndpoint(*b, false);
  if (auto t = m.optional("transports")) {
    u.transports.clear();
    for (auto& item : t->asSequence()) u.transports.push_back(parseSipTransport(item));
    if (u.transports.empty()) t->fail("at least one transport is needed");
  }
  if (auto s = m.optional("servers")) {
    detail::ErrorList errors;
    for (auto& item : s->asSequence()) errors.guard([&] {
      MapReader sm(item);
      UpstreamServer srv;
      srv.host = sm.required("host").asIpAddress();
      if (auto p = sm.optional("port")) srv.port = p->asPort(false);
      if (auto t = sm.optional("transport")) srv.transport = parseSipTransport(*t);
      sm.finish();
      u.servers.push_back(srv);
    });
    errors.throwIfAny();
  }
  if (auto v = m.optional("allowed_source_cidrs"))
    for (auto& item : v->asSequence()) u.allowedSourceCidrs.push_back(item.asCidr());
  if (auto v = m.optional("media_allowed_cidrs"))
    for (auto& item : v->asSequence()) u.mediaAllowedCidrs.push_back(item.asCidr());
  if (auto v = m.optional("register_expires_s")) u.registerExpiresS = v->asUint(30, 86400);
  if (auto v = m.optional("register_retry_min_ms")) u.registerRetryMinMs = v->asUint(100, 600000);
  if (auto v = m.optional("register_retry_max_ms")) u.registerRetryMaxMs = v->asUint(100, 3600000);
  if (auto v = m.optional("options_ping_interval_ms")) {
    u.optionsPingIntervalMs = v->asUint(0, 3600000);
    if (u.optionsPingIntervalMs != 0 && u.optionsPingIntervalMs < 1000) v->fail("must be 0 (off) or at least 1000");
  }
  if (auto v = m.optional("ready_max_failed_dn_percent")) u.readyMaxFailedDnPercent = v->asUint(0, 100);
  if (auto v = m.optional("domain")) u.domain = v->asString();
  if (auto st = m.optional("session_timer")) {
    MapReader sm(*st);
    // RFC 4028 §4: Min-SE must not be below 90 s; 86400 bounds it at a day.
    if (auto v = sm.optional("min_se_s")) u.sessionTimer.minSeS = v->asUint(90, 86400);
    if (auto v = sm.optional("expires_s")) {
      u.sessionTimer.expiresS = v->asUint(90, 86400);
      if (u.sessionTimer.expiresS < u.sessionTimer.minSeS) v->fail("must not be below min_se_s");
    }
    sm.finish();
  }
  if (auto v = m.optional("offerless_invite_to_browser")) u.offerlessInviteToBrowser = v->asBool();
  if (u.registerRetryMinMs > u.registerRetryMaxMs)
    f.fail("register_retry_min_ms must not exceed register_retry_max_ms");
  m.finish();
}

void parseAgents(const Field& f, Config& c) {
  std::set<std::string> users;
  std::set<std::string> dns;
  detail::ErrorList errors;
  for (auto& item : f.asSequence()) errors.guard([&] {
    MapReader m(item);
    Agent a;
    auto userField = m.required("user");
    a.user = userField.asToken();
    if (auto v = m.optional("password")) a.password = Secret(v->asString());
    if (auto v = m.optional("ha1")) {
      auto h = v->asString();
      if (h.size() != 32 || h.find_first_not_of("0123456789abcdef") != std::string::npos)
        v->fail("must be 32 lowercase hex digits (MD5 of user:realm:password)");
      a.ha1 = Secret(h);
    }
    if (a.password.empty() == a.ha1.empty()) item.fail("exactly one of password and ha1 is required");
    auto dnField = m.required("dn");
    a.dn = dnField.asToken();
    if (auto v = m.optional("dn_auth_user"); v && !v->asString().empty()) a.dnAuthUser = v->asToken();
    if (auto v = m.optional("dn_password")) a.dnPassword = Secret(v->asString());
    if (auto v = m.optional("always_registered")) a.alwaysRegistered = v->asBool();
    m.finish();
    if (!users.insert(a.user).second) userField.fail(fmt::format("agent '{}' is defined twice", a.user));
    if (!dns.insert(a.dn).second) dnField.fail(fmt::format("DN '{}' belongs to two agents", a.dn));
    c.agents.push_back(std::move(a));
  });
  errors.throwIfAny();
}

// An agent_tokens secret file: its bytes, trailing newline and spaces removed. Like a TLS key it must not be
// readable by every local user (mode 0600 or 0640): whoever holds it can sign in as any agent with any DN. A regular
// file only, at most 4096 bytes (a mistyped path to a FIFO or a log must not hang or be read whole). `relativeTo`:
// the YAML's path, which a relative file name is taken from. Never echoes the secret.
Secret readAgentTokenSecret(const Field& f, std::string path, const std::string& relativeTo) {
  if (path.front() != '/' && relativeTo.find('/') != std::string::npos)
    path = relativeTo.substr(0, relativeTo.rfind('/') + 1) + path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) f.fail(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) f.fail(fmt::format("'{}' is not a regular file", path));
  if ((st.st_mode & S_IRWXO) != 0)
    f.fail(fmt::format("'{}' is accessible by other users (mode {:04o}): chmod 600 (or 640 for a group) it", path,
                       st.st_mode & 07777));
  std::ifstream in(path, std::ios::binary);
  if (!in) f.fail(fmt::format("cannot read '{}'", path));
  std::string secret(4097, '\0');
  in.read(secret.data(), static_cast<std::streamsize>(secret.size()));
  secret.resize(static_cast<size_t>(in.gcount()));
  if (secret.size() > 4096) f.fail(fmt::format("'{}' is larger than 4096 bytes", path));
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  // RFC 7518 3.2: an HS256 key of at least the hash size (32 bytes).
  if (secret.size() < 32) f.fail(fmt::format("the secret in '{}' must be at least 32 bytes", path));
  return Secret(std::move(secret));
}

// agent_tokens.audience: one value or a list, each compared byte for byte with a token's aud (RFC 7519 2:
// StringOrURI values are compared case-sensitively, untransformed). Printable ASCII, since it is echoed in errors.
std::vector<std::string> parseAudience(const Field& f) {
  std::vector<Field> items;
  if (f.node().IsSequence()) items = f.asSequence();
  else if (f.node().IsScalar()) items = {f};
  else f.fail("must be a string or a list of strings (the aud values tokens for this rtcgate carry)");
  if (items.size() > AgentTokens::kMaxAudienceValues)
    f.fail(fmt::format("{} values, more than {}", items.size(), AgentTokens::kMaxAudienceValues));
  std::vector<std::string> out;
  for (const auto& item : items) {
    auto s = item.asString();
    if (s.empty()) item.fail("must not be empty (leave audience out for none)");
    if (s.size() > AgentTokens::kMaxAudienceBytes)
      item.fail(fmt::format("is longer than {} bytes", AgentTokens::kMaxAudienceBytes));
    if (std::any_of(s.begin(), s.end(), [](char ch) { return ch < 0x21 || ch > 0x7e; }))
      item.fail("must be printable ASCII without spaces");
    if (std::find(out.begin(), out.end(), s) != out.end()) item.fail(fmt::format("'{}' is listed twice", s));
    out.push_back(std::move(s));
  }
  return out;
}

// agent_tokens (docs/configuration.md, "Agents at scale"). The secret lives in its own file, so the YAML can be
// shown and versioned; it is read here, so a reload picks up a rotated secret. previous_secret_file: the secret
// being retired during a rotation, still accepted (never used to sign).
void parseAgentTokens(const Field& f, Config& c, const std::string& sourceName) {
  MapReader m(f);
  AgentTokens& t = c.agentTokens;
  auto fileField = m.required("secret_file");
  t.secretFile = fileField.asString();
  std::optional<Field> previousField = m.optional("previous_secret_file");
  if (previousField) t.previousSecretFile = previousField->asString();
  if (auto v = m.optional("issuer")) t.issuer = v->asString();
  if (auto v = m.optional("audience")) t.audience = parseAudience(*v);
  if (auto v = m.optional("max_lifetime_s")) t.maxLifetimeS = v->asUint(60, 30 * 86400);
  if (auto v = m.optional("dn_auth_user"); v && !v->asString().empty()) t.dnAuthUser = v->asToken();
  if (auto v = m.optional("dn_password")) t.dnPassword = Secret(v->asString());
  m.finish();
  if (t.secretFile.empty()) {  // "" (the shipped default): JWT agent tokens off
    if (!t.previousSecretFile.empty()) previousField->fail("needs secret_file (the secret that replaces it)");
    return;
  }
  t.secret = readAgentTokenSecret(fileField, t.secretFile, sourceName);
  if (t.previousSecretFile.empty()) return;
  t.previousSecret = readAgentTokenSecret(*previousField, t.previousSecretFile, sourceName);
  if (t.previousSecret == t.secret) previousField->fail("holds the same secret as secret_file");
}

Rate parseRate(const Field& f, Rate rate) {
  MapReader m(f);
  if (auto v = m.optional("per_s")) rate.perSecond = v->asUint(0, 1000000);
  if (auto v = m.optional("burst")) rate.burst = v->asUint(1, 1000000);
  m.finish();
  if (rate.perSecond > 0 && rate.burst < rate.perSecond) f.fail("burst must be at least per_s");
  return rate;
}

void parseMedia(const Field& f, Config& c) {
  MapReader m(f);
  auto& md = c.media;
  if (auto v = m.optional("workers")) md.workers = v->asUint(0, 256);
  if (auto v = m.optional("rtp_address")) md.rtpAddress = v->asIpAddress();
  if (auto v = m.optional("rtp_port_min")) md.rtpPortMin = v->asPort(false);
  if (auto v = m.optional("rtp_port_max")) md.rtpPortMax = v->asPort(false);
  if (auto v = m.optional("ice_port_min")) md.icePortMin = v->asPort(false);
  if (auto v = m.optional("ice_port_max")) md.icePortMax = v->asPort(false);
  if (auto v = m.optional("rtp_timeout_ms")) md.rtpTimeoutMs = v->asUint(1000, 3600000);
  if (auto v = m.optional("dtls_handshake_timeout_ms")) md.dtlsHandshakeTimeoutMs = v->asUint(500, 60000);
  if (auto v = m.optional("packet_rate")) md.packetRate = parseRate(*v, md.packetRate);
  if (auto v = m.optional("dtls_cert_file")) md.dtlsCertFile = v->asString();
  if (auto v = m.optional("dtls_key_file")) md.dtlsKeyFile = v->asString();
  if (md.dtlsCertFile.empty() != md.dtlsKeyFile.empty()) f.fail("dtls_cert_file and dtls_key_file must be given together");
  if (auto v = m.optional("srtp_profiles")) {
    static const std::set<std::string> kKnown = {"AEAD_AES_256_GCM", "AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80",
                                                 "AES_CM_128_HMAC_SHA1_32"};
    md.srtpProfiles.clear();
    for (auto& item : v->asSequence()) {
      auto p = item.asString();
      if (!kKnown.count(p))
        item.fail("unknown SRTP profile (known: AEAD_AES_256_GCM, AEAD_AES_128_GCM, AES_CM_128_HMAC_SHA1_80, "
                  "AES_CM_128_HMAC_SHA1_32)");
      md.srtpProfiles.push_back(p);
    }
    if (md.srtpProfiles.empty()) v->fail("at least one SRTP profile is needed");
  }
  // Deprecated, no effect: transcoding is driven by packet arrival and needs no jitter buffer (docs/adr/0005).
  // Still validated so a file that worked keeps loading.
  if (auto v = m.optional("jitter_buffer_max_ms")) (void)v->asUint(20, 2000);
  if (md.rtpPortMin > md.rtpPortMax) f.fail("rtp_port_min must not exceed rtp_port_max");
  if (md.icePortMin > md.icePortMax) f.fail("ice_port_min must not exceed ice_port_max");
  // Each RTP leg takes an even port for RTP and the odd one above it for RTCP (RFC 3550 §11).
  if (md.rtpPortMax - md.rtpPortMin < 1) f.fail("the RTP port range needs at least two ports");
  m.finish();
}

void parseIce(const Field& f, Config& c) {
  MapReader m(f);
  auto& ice = c.ice;
  if (auto v = m.optional("stun_servers"))
    for (auto& item : v->asSequence()) ice.stunServers.push_back(parseHostPort(item, 3478));
  if (auto v = m.optional("turn_servers")) {
    detail::ErrorList errors;
    for (auto& item : v->asSequence()) errors.guard([&] {
      MapReader t(item);
      TurnServer ts;
      ts.host = t.required("host").asIpAddress();
      if (auto p = t.optional("port")) ts.port = p->asPort(false);
      if (auto p = t.optional("transport")) ts.transport = parseTurnTransport(*p);
      if (auto p = t.optional("username")) ts.username = p->asString();
      if (auto p = t.optional("password")) ts.password = Secret(p->asString());
      if (auto p = t.optional("shared_secret")) ts.sharedSecret = Secret(p->asString());
      if (auto p = t.optional("credential_ttl_s")) ts.credentialTtlS = p->asUint(60, 7 * 86400);
      bool staticCreds = !ts.username.empty() || !ts.password.empty();
      if (staticCreds && !ts.sharedSecret.empty())
        item.fail("give either username/password or shared_secret, not both");
      if (!staticCreds && ts.sharedSecret.empty()) item.fail("credentials are required: username/password or shared_secret");
      if (staticCreds && (ts.username.empty() || ts.password.empty()))
        item.fail("username and password must be given together");
      t.finish();
      ice.turnServers.push_back(std::move(ts));
    });
    errors.throwIfAny();
  }
  if (auto v = m.optional("candidates")) {
    MapReader cm(*v);
    auto& cand = ice.candidates;
    auto strings = [](const Field& seq) {
      std::vector<std::string> out;
      for (auto& item : seq.asSequence()) out.push_back(item.asString());
      return out;
    };
    if (auto p = cm.optional("allow_interfaces")) cand.allowInterfaces = strings(*p);
    if (auto p = cm.optional("deny_interfaces")) cand.denyInterfaces = strings(*p);
    if (auto p = cm.optional("lift_builtin_denials")) {
      for (auto& item : p->asSequence()) {
        auto name = item.asString();
        // Exact names only: a pattern here could lift every future docker/bridge interface at once.
        if (name.empty() || name.size() >= IF_NAMESIZE || name.find_first_of("*?/ ") != std::string::npos)
          item.fail(fmt::format("'{}' is not an interface name (exact names only, no patterns)", name));
        if (name == "lo") item.fail("loopback is lifted with ice.candidates.allow_loopback: true");
        cand.liftBuiltinDenials.push_back(std::move(name));
      }
    }
    if (auto p = cm.optional("allow_cidrs"))
      for (auto& item : p->asSequence()) cand.allowCidrs.push_back(item.asCidr());
    if (auto p = cm.optional("deny_cidrs"))
      for (auto& item : p->asSequence()) cand.denyCidrs.push_back(item.asCidr());
    if (auto p = cm.optional("allow_loopback")) cand.allowLoopback = p->asBool();
    if (auto p = cm.optional("allow_link_local")) cand.allowLinkLocal = p->asBool();
    if (auto p = cm.optional("ipv6")) cand.ipv6 = p->asBool();
    if (auto p = cm.optional("nat_1to1")) {
      for (auto& item : p->asSequence()) {
        MapReader nm(item);
        CandidateNat n;
        n.local = nm.required("local").asIpAddress();
        n.advertised = nm.required("advertised").asIpAddress();
        nm.finish();
        cand.nat1to1.push_back(n);
      }
    }
    cm.finish();
  }
  if (auto v = m.optional("gather_deadline_ms")) ice.gatherDeadlineMs = v->asUint(50, 10000);
  if (auto v = m.optional("relay_only")) {
    ice.relayOnly = v->asBool();
    const bool relay = std::any_of(ice.turnServers.begin(), ice.turnServers.end(),
                                   [](const TurnServer& t) { return t.transport != TurnTransport::Tls; });
    if (ice.relayOnly && !relay) v->fail("needs a udp or tcp entry in ice.turn_servers (nothing to relay through)");
  }
  if (auto v = m.optional("consent_timeout_ms")) ice.consentTimeoutMs = v->asUint(5000, 120000);
  if (auto v = m.optional("connect_timeout_ms")) ice.connectTimeoutMs = v->asUint(1000, 120000);
  m.finish();
}

void parseCodecs(const Field& f, Config& c) {
  MapReader m(f);
  auto& cd = c.codecs;
  auto codecList = [](const Field& seq, const std::set<std::string>& allowed, const char* names) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (auto& item : seq.asSequence()) {
      auto s = item.asString();
      if (!allowed.count(s)) item.fail(fmt::format("unknown codec '{}' (known here: {})", s, names));
      if (!seen.insert(s).second) item.fail(fmt::format("codec '{}' is listed twice", s));
      out.push_back(s);
    }
    if (out.empty()) seq.fail("at least one codec is needed");
    return out;
  };
  if (auto v = m.optional("browser")) cd.browser = codecList(*v, {"opus", "pcmu", "pcma"}, "opus, pcmu, pcma");
  if (auto v = m.optional("upstream")) cd.upstream = codecList(*v, {"pcmu", "pcma"}, "pcmu, pcma");
  if (auto v = m.optional("passthrough")) cd.passthrough = v->asBool();
  if (auto v = m.optional("opus")) {
    MapReader om(*v);
    if (auto p = om.optional("complexity")) cd.opus.complexity = static_cast<int>(p->asUint(0, 10));
    if (auto p = om.optional("bitrate_bps")) cd.opus.bitrateBps = static_cast<int>(p->asUint(6000, 510000));
    if (auto p = om.optional("fec")) cd.opus.fec = p->asBool();
    if (auto p = om.optional("dtx")) cd.opus.dtx = p->asBool();
    om.finish();
  }
  m.finish();
}

void parseRateLimits(const Field& f, RateLimits& r) {
  MapReader m(f);
  if (auto v = m.optional("connections_per_ip")) r.connectionsPerIp = parseRate(*v, r.connectionsPerIp);
  if (auto v = m.optional("connections")) r.connections = parseRate(*v, r.connections);
  if (auto v = m.optional("registers_per_ip")) r.registersPerIp = parseRate(*v, r.registersPerIp);
  if (auto v = m.optional("registers")) r.registers = parseRate(*v, r.registers);
  if (auto v = m.optional("invites_per_ip")) r.invitesPerIp = parseRate(*v, r.invitesPerIp);
  if (auto v = m.optional("invites")) r.invites = parseRate(*v, r.invites);
  if (auto v = m.optional("upstream_invites")) r.upstreamInvites = parseRate(*v, r.upstreamInvites);
  m.finish();
}

// Bounds: a dial plan is tens of entries; the bounds keep a pasted number list or a runaway pattern out.
constexpr size_t kMaxDestinationEntries = 1000;
constexpr size_t kMaxPatternBytes = 256;
constexpr size_t kMaxPrefixBytes = 32;

void parseDestinations(const Field& f, Destinations& d) {
  MapReader m(f);
  auto bounded = [](const Field& seq) {
    auto items = seq.asSequence();
    if (items.size() > kMaxDestinationEntries) seq.fail(fmt::format("at most {} entries", kMaxDestinationEntries));
    return items;
  };
  if (auto v = m.optional("own_domain_only")) d.ownDomainOnly = v->asBool();
  if (auto v = m.optional("own_domains")) {
    d.ownDomains.clear();
    for (auto& item : bounded(*v)) {
      std::string host = item.asString();
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      if (auto ip = IpAddress::parse(host)) {
        host = ip->toString();
      } else if (isDnsName(host)) {
        for (char& ch : host) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
      } else {
        item.fail(fmt::format("'{}' is not a host name or IP address", host));
      }
      d.ownDomains.push_back(host);
    }
  }
  if (auto v = m.optional("denied_prefixes")) {
    for (auto& item : bounded(*v)) {
      auto p = item.asString();
      // Separators ('-', '.') are removed from the number before the comparison, so a prefix never holds one.
      if (p.empty() || p.size() > kMaxPrefixBytes ||
          p.find_first_not_of("0123456789+*#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
        item.fail(fmt::format("must be 1 to {} dial characters (digits, letters, + * #)", kMaxPrefixBytes));
      d.deniedPrefixes.push_back(p);
    }
  }
  if (auto v = m.optional("allowed_patterns")) {
    for (auto& item : bounded(*v)) {
      auto p = item.asString();
      if (p.empty() || p.size() > kMaxPatternBytes)
        item.fail(fmt::format("must be 1 to {} characters", kMaxPatternBytes));
      std::string error;
      auto re = FullMatchRegex::compile(p, &error);
      if (!re) item.fail(fmt::format("'{}' is not a valid regular expression: {}", p, error));
      d.allowedPatterns.push_back(std::move(*re));
    }
  }
  m.finish();
}

void parseSecurity(const Field& f, Config& c) {
  MapReader m(f);
  auto& s = c.security;
  if (auto v = m.optional("allowed_origins"))
    for (auto& item : v->asSequence()) s.allowedOrigins.push_back(item.asString());
  if (auto v = m.optional("max_connections")) s.maxConnections = v->asUint(1, 1000000);
  if (auto v = m.optional("max_connections_per_ip")) s.maxConnectionsPerIp = v->asUint(1, 100000);
  if (auto v = m.optional("max_calls")) s.maxCalls = v->asUint(1, 100000);
  if (auto v = m.optional("max_calls_per_agent")) s.maxCallsPerAgent = v->asUint(1, 100);
  std::optional<Field> pending = m.optional("max_pending_media_sessions");
  if (pending) s.maxPendingMediaSessions = pending->asUint(1, 100000);
  if (auto v = m.optional("max_message_bytes")) s.maxMessageBytes = v->asUint(1024, 1048576);
  if (auto v = m.optional("ws_handshake_timeout_ms")) s.wsHandshakeTimeoutMs = v->asUint(100, 60000);
  if (auto v = m.optional("ws_idle_timeout_ms")) s.wsIdleTimeoutMs = v->asUint(1000, 3600000);
  if (auto v = m.optional("auth_failures_per_minute")) s.authFailuresPerMinute = v->asUint(1, 10000);
  if (auto v = m.optional("register_min_expires_s")) s.registerMinExpiresS = v->asUint(10, 86400);
  if (auto v = m.optional("register_max_expires_s")) s.registerMaxExpiresS = v->asUint(10, 86400);
  // Removed with its "<user>.<expires>.<mac>" tokens (CHANGELOG, Unreleased). No automatic mapping: those tokens
  // are not JWTs (none issued would keep working) and admitted listed agents only, where a JWT may name any agent and
  // DN, so reusing the secret there would widen what its holders can do. Named here, not left to "unknown key".
  m.removed("token_secret",
            "was removed with its user.expires.mac tokens: put a secret (>= 32 bytes) in a file (mode 0600), set "
            "agent_tokens.secret_file to it and issue HS256 JWTs (`rtcgate token`, docs/configuration.md "
            "\"Agents at scale\")");
  if (auto v = m.optional("rate_limits")) parseRateLimits(*v, s.rateLimits);
  if (auto v = m.optional("destinations")) parseDestinations(*v, s.destinations);
  if (pending && s.maxPendingMediaSessions > s.maxCalls) pending->fail("must not exceed max_calls");
  if (s.registerMinExpiresS > s.registerMaxExpiresS)
    f.fail("register_min_expires_s must not exceed register_max_expires_s");
  m.finish();
}

void parseCalls(const Field& f, Config& c) {
  MapReader m(f);
  // Bounded at 2 minutes: longer keeps a Genesys party connected to a browser that is not coming back.
  if (auto v = m.optional("browser_reconnect_grace_ms")) c.calls.browserReconnectGraceMs = v->asUint(0, 120000);
  m.finish();
}

// Browser-facing ICE servers: a bounded list of URLs of the schemes RFC 7064 / RFC 7065 define, as written in a
// page's RTCIceServer.urls; the JSON endpoint copies them verbatim, so they hold no quote, space or control byte.
void parseBrowser(const Field& f, Config& c) {
  MapReader m(f);
  auto& b = c.browser;
  if (auto v = m.optional("ice_servers")) {
    auto items = v->asSequence();
    if (items.size() > 16) v->fail("at most 16 URLs");
    for (auto& item : items) {
      auto url = item.asString();
      bool scheme = url.rfind("stun:", 0) == 0 || url.rfind("stuns:", 0) == 0 || url.rfind("turn:", 0) == 0 ||
                    url.rfind("turns:", 0) == 0;
      bool clean = url.size() <= 256 && std::none_of(url.begin(), url.end(), [](char ch) {
                     return static_cast<unsigned char>(ch) <= 0x20 || ch == '"' || ch == '\\' || ch == 0x7f;
                   });
      if (!scheme || !clean)
        item.fail(fmt::format("'{}' is not a stun:, stuns:, turn: or turns: URL (at most 256 characters, no spaces "
                              "or quotes)", url));
      b.iceServers.push_back(url);
    }
  }
  if (auto v = m.optional("turn_shared_secret")) {
    b.turnSharedSecret = Secret(v->asString());
    if (b.turnSharedSecret.reveal().size() < 16) v->fail("must be at least 16 characters");
  }
  if (auto v = m.optional("credential_ttl_s")) b.credentialTtlS = v->asUint(60, 86400);
  if (auto v = m.optional("gathering_timeout_ms")) b.gatheringTimeoutMs = v->asUint(100, 30000);
  bool anyTurn = std::any_of(b.iceServers.begin(), b.iceServers.end(),
                             [](const std::string& u) { return u.rfind("turn", 0) == 0; });
  bool secret = !b.turnSharedSecret.empty() ||
                std::any_of(c.ice.turnServers.begin(), c.ice.turnServers.end(),
                            [](const TurnServer& t) { return !t.sharedSecret.empty(); });
  if (anyTurn && !secret)
    f.fail("ice_servers has turn:/turns: URLs but there is no TURN REST secret: set browser.turn_shared_secret (or a "
           "shared_secret in ice.turn_servers)");
  m.finish();
}

void parseLogging(const Field& f, Config& c) {
  MapReader m(f);
  auto& s = c.logging.settings;
  if (auto v = m.optional("level")) {
    auto l = log::parseLevel(v->asString());
    if (!l) v->fail("must be one of: trace, debug, info, warn, error, critical, off");
    s.level = *l;
  }
  if (auto v = m.optional("components")) {
    for (auto& [key, value] : v->asMap()) {
      auto comp = log::parseComponent(key.asString());
      if (!comp)
        key.fail("unknown component (known: core, config, wss, sip, ice, dtls, srtp, rtp, codec, session, admin, "
                 "sofia, nice, lws)");
      auto l = log::parseLevel(value.asString());
      if (!l) value.fail("must be one of: trace, debug, info, warn, error, critical, off");
      s.componentLevels[*comp] = *l;
    }
  }
  if (auto v = m.optional("format")) {
    s.format = v->asString();
    if (s.format != "text" && s.format != "json") v->fail("must be one of: text, json");
  }
  if (auto v = m.optional("file")) s.file = v->asString();
  m.finish();
}

void parseMetrics(const Field& f, Config& c) {
  MapReader m(f);
  if (auto v = m.optional("enabled")) c.metrics.enabled = v->asBool();
  m.finish();
}

void checkCrossSection(const Field& root, Config& c) {
  // Agent DNs are registered upstream: a DN password without any upstream server can never be used.
  (void)root;
  if (c.upstream.domain.empty() && !c.upstream.servers.empty()) c.upstream.domain = c.upstream.servers.front().host;
}


// The field at `path` under `root` ("media", "rtp_port_max"), or the nearest parent that is there, for an error's
// place in the file.
Field fieldAt(const YAML::Node& root, const std::vector<std::string>& path, const std::string& source) {
  YAML::Node node;
  node.reset(root);
  std::string dotted;
  for (auto& key : path) {
    const YAML::Node& here = node;
    if (!here.IsMap() || !here[key]) break;
    // reset, not '=': assigning a YAML::Node overwrites the node it refers to, i.e. the parsed tree.
    node.reset(here[key]);
    dotted += (dotted.empty() ? "" : ".") + key;
  }
  return Field(node, dotted, source);
}

void checkCertificatePair(const Field& certField, const Field& keyField, const std::string& certFile,
                          const std::string& keyFile, detail::ErrorList& errors, std::vector<std::string>* warnings) {
  for (auto& finding : crypto::readCertificateFiles(certFile, keyFile).findings) {
    const Field& at = finding.aboutKey ? keyField : certField;
    if (finding.error) {
      errors.guard([&] { at.fail(finding.message); });
    } else if (warnings != nullptr) {
      try {
        at.fail(finding.message);
      } catch (const ConfigError& e) {
        warnings->push_back(e.what());
      }
    }
  }
}

void checkCertificateFiles(const YAML::Node& root, const std::string& source, const Config& c,
                           detail::ErrorList& errors, std::vector<std::string>* warnings) {
  for (size_t i = 0; i < c.listeners.wss.size(); ++i) {
    auto& l = c.listeners.wss[i];
    if (l.tlsCertFile.empty()) continue;
    const YAML::Node item = root["listeners"]["wss"][i];
    const std::string path = fmt::format("listeners.wss[{}].", i);
    checkCertificatePair(Field(item["tls_cert_file"], path + "tls_cert_file", source),
                         Field(item["tls_key_file"], path + "tls_key_file", source), l.tlsCertFile, l.tlsKeyFile,
                         errors, warnings);
  }
  if (!c.media.dtlsCertFile.empty())
    checkCertificatePair(fieldAt(root, {"media", "dtls_cert_file"}, source),
                         fieldAt(root, {"media", "dtls_key_file"}, source), c.media.dtlsCertFile, c.media.dtlsKeyFile,
                         errors, warnings);
}

void checkPortRanges(const YAML::Node& root, const std::string& source, const Config& c, detail::ErrorList& errors) {
  const auto& md = c.media;
  if (md.rtpPortMin > md.rtpPortMax || md.icePortMin > md.icePortMax) return;  // already an error of its own
  const auto lo = std::max(md.rtpPortMin, md.icePortMin);
  const auto hi = std::min(md.rtpPortMax, md.icePortMax);
  if (lo <= hi)
    errors.guard([&] {
      fieldAt(root, {"media", "ice_port_min"}, source)
          .fail(fmt::format("the RTP range {}..{} and the ICE range {}..{} overlap in {}..{}: RTP toward Genesys and "
                            "ICE toward browsers would take each other's ports; give them separate ranges",
                            md.rtpPortMin, md.rtpPortMax, md.icePortMin, md.icePortMax, lo, hi));
    });
  const uint32_t maxCalls = c.security.maxCalls;
  auto checkRoom = [&](const char* prefix, uint16_t min, uint16_t max, unsigned perCall) {
    const auto room = portRangeRoom(min, max, perCall, maxCalls);
    if (room.enough()) return;
    errors.guard([&] {
      fieldAt(root, {"media", std::string(prefix) + "_port_max"}, source)
          .fail(fmt::format("the {} range {}..{} has room for {} calls, {} port{} per call x security.max_calls {} = "
                            "{} ports; set media.{}_port_max: {} (or security.max_calls: {})",
                            prefix[0] == 'r' ? "RTP" : "ICE", min, max, room.calls, perCall, perCall == 1 ? "" : "s",
                            maxCalls, room.needed, prefix, room.suggestedMax, room.calls));
    });
  };
  checkRoom("rtp", md.rtpPortMin, md.rtpPortMax, kRtpPortsPerCall);
  checkRoom("ice", md.icePortMin, md.icePortMax, kIcePortsPerCall);
}

// RFC 7519 4.1.3: with no audience configured rtcgate identifies with none, so tokens carrying aud are refused;
// naming one also keeps out tokens minted for another service (or cluster) that shares the secret.
std::string noAudienceWarning(const Field& at) {
  try {
    at.fail("audience is not set: tokens that carry an aud claim are refused (bad_audience), and tokens without one "
            "are accepted even if minted for another service sharing the secret; set agent_tokens.audience to the "
            "aud value(s) your backend puts in tokens for this rtcgate (e.g. audience: wss://gw.example.com) and "
            "have it always send aud");
  } catch (const ConfigError& e) {
    return e.what();
  }
}

}  // namespace

Config loadFromString(const std::string& yamlText, const std::string& sourceName, std::vector<std::string>* warnings) {
  YAML::Node root;
  try {
    detail::checkNestingDepth(yamlText, sourceName);
    root = YAML::Load(yamlText);
  } catch (const YAML::Exception& e) {
    throw ConfigError(sourceName, e.mark.line + 1, e.mark.column + 1, "(syntax)", e.msg);
  }
  Config c;
  Field top(root, "", sourceName);
  // An empty file (or one of comments only) is a mistake, not a wish for defaults: a truncated deploy or a failed
  // template would otherwise start, or reload into, a gateway with no agents and every call refused. "{}" asks for
  // the defaults explicitly.
  if (root.IsNull())
    throw ConfigError(sourceName, 0, 0, "",
                      "the file has no settings (empty or comments only); refusing it. Write {} for all defaults, "
                      "or start from `rtcgate --print-default-config`");
  detail::ErrorList errors;
  MapReader m(top);
  // Each section under its own guard: an error in one still lets the others be read and checked.
  std::set<std::string> failed;
  auto section = [&](const char* key, void (*parse)(const Field&, Config&)) {
    if (auto v = m.optional(key); v && !errors.guard([&] { parse(*v, c); })) failed.insert(key);
  };
  section("listeners", parseListeners);
  section("upstream", parseUpstream);
  section("agents", parseAgents);
  errors.guard([&] {
    const auto agentsField = m.optional("agents");
    if (auto v = m.optional("agents_file")) c.agentsFile = v->asString();
    if (auto v = m.optional("max_agents")) {
      c.maxAgents = v->asUint(1, 1000000);
      if (c.agents.size() > c.maxAgents)
        v->fail(fmt::format("the agents list has {} agents, more than this", c.agents.size()));
    } else if (agentsField && c.agents.size() > c.maxAgents) {
      agentsField->fail(fmt::format("{} agents, more than max_agents ({})", c.agents.size(), c.maxAgents));
    }
  });
  if (auto v = m.optional("agent_tokens")) errors.guard([&] { parseAgentTokens(*v, c, sourceName); });
  section("media", parseMedia);
  section("ice", parseIce);
  section("codecs", parseCodecs);
  section("security", parseSecurity);
  section("calls", parseCalls);
  section("browser", parseBrowser);
  section("logging", parseLogging);
  section("metrics", parseMetrics);
  errors.guard([&] { m.finish(); });
  errors.guard([&] { checkCrossSection(top, c); });
  // What would fail at start, checked only where the section read cleanly (a half-read one holds defaults).
  if (!failed.count("listeners") && !failed.count("media")) checkCertificateFiles(root, sourceName, c, errors, warnings);
  if (!failed.count("media") && !failed.count("security")) checkPortRanges(root, sourceName, c, errors);
  if (c.agentTokens.enabled() && c.agentTokens.audience.empty() && warnings != nullptr)
    warnings->push_back(noAudienceWarning(fieldAt(root, {"agent_tokens"}, sourceName)));
  errors.throwIfAny();
  return c;
}

Config loadFromFile(const std::string& path, std::vector<std::string>* warnings) {
  Config c = loadYamlFile(path, warnings);
  mergeAgentsFile(c, path);
  return c;
}

Config loadYamlFile(const std::string& path, std::vector<std::string>* warnings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, 0, "", "cannot open the file for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > 4 * 1024 * 1024) throw ConfigError(path, 0, 0, "", "larger than 4 MiB; refusing to parse");
  return loadFromString(text.str(), path, warnings);
}

}  // namespace rtcgate::config

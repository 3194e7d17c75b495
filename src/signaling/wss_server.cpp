// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/wss_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "rtcgate/core/address.h"
#include "rtcgate/core/c_handle.h"
#include "rtcgate/core/log.h"
#include "rtcgate/core/port_owner.h"
#include "rtcgate/crypto/certificate_files.h"
#include "rtcgate/crypto/self_signed_certificate.h"
#include "rtcgate/signaling/static_files.h"

namespace rtcgate::signaling {
namespace {

// lws reports a bad certificate and a port in use alike (no vhost), so both are checked first, each failure naming
// the file (with OpenSSL's reason) or the address (with errno's text and, when /proc tells, the holder).
void checkListenersCanStart(const std::vector<config::WssListener>& listeners) {
  for (auto& l : listeners) {
    const std::string where = l.bind.address + ":" + std::to_string(l.bind.port);
    if (!l.tlsCertFile.empty()) {
      auto files = crypto::readCertificateFiles(l.tlsCertFile, l.tlsKeyFile);
      if (!files.ok()) throw std::runtime_error("WSS listener " + where + ": TLS " + files.firstError());
    }
    auto address = IpAddress::parse(l.bind.address);
    if (!address || l.bind.port == 0) continue;  // port 0: the kernel picks a free one
    if (int err = tcpBindError(*address, l.bind.port); err != 0) {
      const auto owner = err == EADDRINUSE ? portOwner(PortProtocol::Tcp, l.bind.port) : std::string();
      throw std::runtime_error("WSS: cannot listen on " + where + ": " + std::strerror(err) +
                               (owner.empty() ? "" : " (held by " + owner + ")"));
    }
  }
}

// Per-connection memory lws allocates for us: just the link to our own object.
struct PerSession {
  void* connection;
  std::string* httpBody;  // a plain HTTP request's reply body, until LWS_CALLBACK_HTTP_WRITEABLE sends it
  size_t httpSent;        // bytes of *httpBody (after its LWS_PRE) already written
};

// A static file goes out in pieces of this size, one per writeable callback, so that a slow reader costs no more
// than this in lws' own send buffer at a time.
constexpr size_t kHttpChunkBytes = 16 * 1024;

// Bound on a connection's unsent messages; a browser that does not read is dropped rather than buffered forever.
constexpr size_t kMaxQueuedMessages = 256;
constexpr size_t kMaxQueuedBytes = 2 * 1024 * 1024;

int trampoline(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) noexcept {
  try {
    lws_context* ctx = lws_get_context(wsi);
    auto* self = ctx != nullptr ? static_cast<WssServer*>(lws_context_user(ctx)) : nullptr;
    if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
    return self->onCallback(wsi, static_cast<int>(reason), user, in, len);
  } catch (const std::exception& e) {
    log::get(log::Component::Wss)->error("wss callback {} failed: {}", static_cast<int>(reason), e.what());
  } catch (...) {
    log::get(log::Component::Wss)->error("wss callback {} failed", static_cast<int>(reason));
  }
  return -1;
}

const lws_protocols kProtocols[] = {
    // RFC 7118 2.1: the WebSocket subprotocol is "sip". rx_buffer_size 0 = lws default; frames are reassembled.
    {"sip", &trampoline, sizeof(PerSession), 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

std::string headerOf(lws* wsi, lws_token_indexes token) {
  int len = lws_hdr_total_length(wsi, token);
  if (len <= 0 || len > 4096) return {};
  std::string v(static_cast<size_t>(len) + 1, '\0');
  int n = lws_hdr_copy(wsi, v.data(), len + 1, token);
  if (n < 0) return {};
  v.resize(static_cast<size_t>(n));
  return v;
}

// The request's host: Host on HTTP/1.1, :authority on HTTP/2 (RFC 9113 8.3.1), where a WebSocket also arrives as an
// extended CONNECT (RFC 8441) when the page came over HTTP/2 from the same listener, as the softphone page does.
std::string hostOf(lws* wsi) {
  std::string host = headerOf(wsi, WSI_TOKEN_HOST);
  return host.empty() ? headerOf(wsi, WSI_TOKEN_HTTP_COLON_AUTHORITY) : host;
}

bool offersSip(const std::string& protocols) {
  size_t pos = 0;
  while (pos <= protocols.size()) {
    size_t comma = protocols.find(',', pos);
    if (comma == std::string::npos) comma = protocols.size();
    std::string item = protocols.substr(pos, comma - pos);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (::strcasecmp(item.c_str(), "sip") == 0) return true;
    pos = comma + 1;
  }
  return false;
}

// Handshake values go to the log only escaped and cut short: they are chosen by whoever opens a TLS connection.
constexpr size_t kLoggedHeaderBytes = 120;

// RFC 6455 4.1 and 4.2.1: the opening handshake needs a Host, and a malformed one is answered 400. The rule is
// syntactic (RFC 3986 3.2.2 host, RFC 7230 5.4 Host = uri-host [ ":" port ]), not a name check: rtcgate has no
// configured public name, and the Origin allow-list is what ties a browser to the site. Accepted: a DNS name
// (labels of letters, digits, '-' and '_', 1-63 bytes each, not starting or ending with '-'; '_' because container
// and compose service names use it and RFC 3986 reg-name allows it; this also covers dotted IPv4), or an IPv6
// literal in brackets; then optionally ':' and a port 1-65535. Nothing else: no userinfo, no
// spaces, no percent-encoding, no trailing dot, at most 255 bytes before the port.
bool validHostHeader(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string literal(host.substr(1, close - 1));
    in6_addr a6{};
    if (literal.empty() || ::inet_pton(AF_INET6, literal.c_str(), &a6) != 1) return false;
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
    name = {};
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (!isDnsName(name)) return false;
  }
  if (!port.empty()) {
    if (port.size() > 5) return false;
    unsigned value = 0;
    for (char ch : port) {
      if (ch < '0' || ch > '9') return false;
      value = value * 10 + static_cast<unsigned>(ch - '0');
    }
    if (value == 0 || value > 65535) return false;
  }
  return true;
}

unsigned secondsCeil(uint32_t ms) { return std::max(1u, (ms + 999) / 1000); }

// libwebsockets' own idle policy is switched off (secs_since_valid_hangup 0 disables it) because in 4.1.6 it cannot
// implement our rule "every frame, pong and CRLF keepalive counts": its validity timer is refreshed only by pongs
// (text frames, hence CRLF keepalives, never count), and the pongs to its pings never reach us, because it pings
// with an empty payload and skips LWS_CALLBACK_RECEIVE_PONG for an empty pong (lib/roles/ws/ops-ws.c). We ping
// ourselves, with a payload, and keep the time of the last frame of any kind per connection (issue 9).
const lws_retry_bo_t kNoLwsIdlePolicy{};

// RFC 6455 5.5.3: a pong carries the ping's application data, so a non-empty ping gets a pong lws hands to us.
constexpr size_t kPingPayloadBytes = 8;

// Pings go out after this much silence: a third of the idle timeout (so about two answers can be missed), at most
// every 25 s (NAT bindings; RFC 7118 6 leaves the interval to us).
std::chrono::milliseconds pingInterval(uint32_t idleMs) {
  return std::chrono::milliseconds(std::clamp<uint32_t>(idleMs / 3, 100, 25000));
}

lws_usec_t usecs(std::chrono::steady_clock::duration d) {
  return std::max<lws_usec_t>(1000, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

WssServer::WssServer(EventLoop& control, const config::Config& config, Metrics& metrics)
    : control_(control),
      security_(config.security),
      registrar_(control),
      endpoint_(std::make_unique<BrowserSipEndpoint>(control, config, *this, registrar_, metrics)),
      iceServers_(config, endpoint_->authenticator(), metrics),
      staticFiles_(metrics),
      proxyHeaders_(control, metrics),
      connectionRate_(config.security.rateLimits.connectionsPerIp, config.security.rateLimits.connections),
      rejected_(metrics.counter("rtcgate_wss_handshakes_rejected_total",
                                "WebSocket handshakes refused (subprotocol, Origin, connection caps)")),
      oversized_(metrics.counter("rtcgate_wss_oversized_messages_total", "WebSocket messages over the size bound")),
      queueOverflows_(metrics.counter("rtcgate_wss_send_queue_overflows_total",
                                      "Connections dropped because their send queue was full")),
      idleTimeouts_(metrics.counter("rtcgate_wss_idle_timeouts_total",
                                    "Connections dropped after security.ws_idle_timeout_ms without any frame, pong "
                                    "or CRLF keepalive")),
      connectionsRateLimited_(metrics.counter("rtcgate_wss_connections_rate_limited_total",
                                              "TCP connections closed at accept, before TLS, by "
                                              "security.rate_limits.connections(_per_ip)")) {
  RTCGATE_ASSERT_ON_LOOP(control_);
  checkListenersCanStart(config.listeners.wss);
  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.user = this;
  // RFC 6455 8.1: a text frame that is not UTF-8 fails the connection (1007). lws 4.1.6 only checks with this option
  // and reads it from the context's options, not the vhost's (lib/roles/ws/ops-ws.c): it must be set here.
  info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                 LWS_SERVER_OPTION_VALIDATE_UTF8;
  void* loops[] = {control.glibLoop()};
  info.foreign_loops = loops;
  // Covers the TLS accept and the HTTP upgrade: a client that stalls its handshake is dropped.
  info.timeout_secs = secondsCeil(security_.wsHandshakeTimeoutMs);
  // A hard bound on sockets, including ones still in TLS or the upgrade (max_connections counts established ones);
  // the margin covers listen sockets and lws' own. Fixed at start: a reload cannot resize it.
  info.fd_limit_per_thread = security_.maxConnections + 16 + static_cast<unsigned>(config.listeners.wss.size());
  context_ = lws_create_context(&info);
  if (context_ == nullptr)
    throw std::runtime_error("WSS: libwebsockets context failed (is libwebsockets-evlib-glib installed?)");

  for (size_t i = 0; i < config.listeners.wss.size(); ++i) {
    auto l = std::make_unique<Listener>();
    l->config = config.listeners.wss[i];
    l->name = "wss" + std::to_string(i);
    setTrustedProxies(*l);
    lws_context_creation_info vinfo{};
    vinfo.port = l->config.bind.port;  // 0: the kernel picks; read back below
    vinfo.iface = l->config.bind.address.c_str();
    vinfo.protocols = kProtocols;
    vinfo.vhost_name = l->name.c_str();
    vinfo.timeout_secs = info.timeout_secs;
    vinfo.timeout_secs_ah_idle = info.timeout_secs;
    vinfo.keepalive_timeout = static_cast<int>(info.timeout_secs);
    // Per vhost too: without it lws 4.1 silently serves the vhost in plain text.
    vinfo.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    // lws 4.1 binds an IPv4 `iface` on its IPv6 socket as in6addr_any, i.e. every interface (warmcat/libwebsockets
    // #2290). IPv4 addresses get an IPv4 socket, so the listener is only where the config puts it.
    if (auto a = IpAddress::parse(l->config.bind.address); a && !a->isV6())
      vinfo.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (l->config.tlsCertFile.empty()) {
      if (generatedCert_.empty()) {
        crypto::SelfSignedRequest request;
        request.commonName = "rtcgate demo";
        request.validFor = std::chrono::days(365);
        request.backdate = std::chrono::hours(1);
        request.subjectAltNames = "DNS:localhost,IP:127.0.0.1,IP:::1";
        auto pem = crypto::toPem(crypto::generateSelfSigned(request));
        generatedCert_ = std::move(pem.certificate);
        generatedKey_ = std::move(pem.privateKey);
      }
      vinfo.server_ssl_cert_mem = generatedCert_.data();
      vinfo.server_ssl_cert_mem_len = static_cast<unsigned>(generatedCert_.size());
      vinfo.server_ssl_private_key_mem = generatedKey_.data();
      vinfo.server_ssl_private_key_mem_len = static_cast<unsigned>(generatedKey_.size());
    } else {
      vinfo.ssl_cert_filepath = l->config.tlsCertFile.c_str();
      vinfo.ssl_private_key_filepath = l->config.tlsKeyFile.c_str();
    }
    // Liveness and pings are ours (see kNoLwsIdlePolicy and onLivenessTimer).
    vinfo.retry_and_idle_policy = &kNoLwsIdlePolicy;
    pendingListener_ = l.get();
    l->vhost = lws_create_vhost(context_, &vinfo);
    pendingListener_ = nullptr;
    int port = l->vhost != nullptr ? lws_get_vhost_listen_port(l->vhost) : -1;
    if (port <= 0) {
      lws_context_destroy(context_);
      context_ = nullptr;
      // checkListenersCanStart() ruled out the certificate and the bind; what is left is lws' own.
      throw std::runtime_error("WSS: libwebsockets could not create the listener on " + l->config.bind.address + ":" +
                               std::to_string(l->config.bind.port) + " (see the lws log lines above)");
    }
    l->port = static_cast<uint16_t>(port);
    log::get(log::Component::Wss)
        ->info("WSS listening on wss://{}:{} (subprotocol sip; certificate: {})", l->config.bind.address, l->port,
               l->config.tlsCertFile.empty() ? "self-signed, generated at start" : l->config.tlsCertFile);
    logWebRoot(*l);
    listeners_.push_back(std::move(l));
  }
}

WssServer::~WssServer() {
  RTCGATE_ASSERT_ON_LOOP(control_);
  // Closes every connection through our callback while the endpoint and registrar still exist.
  if (context_ != nullptr) lws_context_destroy(context_);
  context_ = nullptr;
}

uint16_t WssServer::port(size_t listener) const {
  return listener < listeners_.size() ? listeners_[listener]->port : 0;
}

bool WssServer::applyConfig(const config::Config& config) {
  RTCGATE_ASSERT_ON_LOOP(control_);
  security_ = config.security;
  connectionRate_.setRates(security_.rateLimits.connectionsPerIp, security_.rateLimits.connections);
  endpoint_->applyConfig(config);
  iceServers_.applyConfig(config);
  bool ok = true;
  for (size_t i = 0; i < listeners_.size() && i < config.listeners.wss.size(); ++i) {
    auto& l = *listeners_[i];
    if (config.listeners.wss[i].bind != l.config.bind) continue;  // address changes need a restart
    l.config.tlsCertFile = config.listeners.wss[i].tlsCertFile;
    l.config.tlsKeyFile = config.listeners.wss[i].tlsKeyFile;
    l.config.webRoot = config.listeners.wss[i].webRoot;
    l.config.proxyProtocol = config.listeners.wss[i].proxyProtocol;
    setTrustedProxies(l);
    if (!l.config.tlsCertFile.empty()) ok = loadCertificate(l) && ok;
    logWebRoot(l);
  }
  return ok;
}

void WssServer::logWebRoot(const Listener& l) const {
  if (l.config.webRoot.empty()) return;
  struct stat st {};
  auto* lg = log::get(log::Component::Wss);
  if (::stat(l.config.webRoot.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    lg->warn("WSS {}:{}: web_root {} is not a directory; pages get 404 until it is (SIGHUP re-reads the setting)",
             l.config.bind.address, l.port, log::escaped(l.config.webRoot, 256));
  else
    lg->info("WSS {}:{}: serving the files of {} at https://{}:{}/", l.config.bind.address, l.port,
             log::escaped(l.config.webRoot, 256), l.config.bind.address, l.port);
}

bool WssServer::loadCertificate(Listener& l) {
  auto* lg = log::get(log::Component::Wss);
  if (l.sslCtx == nullptr) {
    lg->error("WSS {}:{}: no TLS context to reload", l.config.bind.address, l.port);
    return false;
  }
  // Validate in a scratch context first, so a broken pair never replaces a working one. Connections already
  // accepted keep the certificate they were set up with (OpenSSL copies it into each SSL at accept).
  CHandle<SSL_CTX, SSL_CTX_free> scratch(SSL_CTX_new(TLS_server_method()));
  if (!scratch || SSL_CTX_use_certificate_chain_file(scratch.get(), l.config.tlsCertFile.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(scratch.get(), l.config.tlsKeyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(scratch.get()) != 1) {
    lg->error("WSS {}:{}: certificate {} / key {} not usable; keeping the current one", l.config.bind.address,
              l.port, l.config.tlsCertFile, l.config.tlsKeyFile);
    return false;
  }
  if (SSL_CTX_use_certificate_chain_file(l.sslCtx, l.config.tlsCertFile.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(l.sslCtx, l.config.tlsKeyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    lg->error("WSS {}:{}: certificate reload failed", l.config.bind.address, l.port);
    return false;
  }
  lg->info("WSS {}:{}: certificate reloaded from {} for new connections", l.config.bind.address, l.port,
           l.config.tlsCertFile);
  return true;
}

unsigned WssServer::checkUpgrade(lws* wsi, std::string* why) const {
  // RFC 6455 4.2.1: a handshake that is not a valid one (here: a missing or malformed Host) gets 400.
  if (std::string host = hostOf(wsi); host.empty() || !validHostHeader(host)) {
    *why = "missing or malformed Host";
    return 400;
  }
  // RFC 6455 4.2.2 and 10.2: an Origin the server does not accept gets 403 (cross-site WebSocket hijacking).
  if (!security_.allowedOrigins.empty()) {
    std::string origin = headerOf(wsi, WSI_TOKEN_ORIGIN);
    bool allowed = std::any_of(security_.allowedOrigins.begin(), security_.allowedOrigins.end(),
                               [&](const std::string& o) { return ::strcasecmp(o.c_str(), origin.c_str()) == 0; });
    if (!allowed) {
      *why = "Origin not allowed";
      return 403;
    }
  }
  // RFC 7118 4: the client MUST offer "sip"; without it there is no SIP over this connection.
  if (!offersSip(headerOf(wsi, WSI_TOKEN_PROTOCOL))) {
    *why = "no 'sip' subprotocol";
    return 400;
  }
  return 0;
}

bool WssServer::acceptHandshake(lws* wsi, std::string* why) {
  // Already checked at LWS_CALLBACK_HTTP_CONFIRM_UPGRADE for HTTP/1.1; checked again because a WebSocket over an
  // HTTP/2 stream (RFC 8441) reaches the protocol filter without that callback.
  if (checkUpgrade(wsi, why) != 0) return false;
  if (connections_.size() >= security_.maxConnections) {
    *why = "connection limit reached";
    return false;
  }
  auto it = perIp_.find(peerIp(wsi));
  if (it != perIp_.end() && it->second >= security_.maxConnectionsPerIp) {
    *why = "per-IP connection limit reached";
    return false;
  }
  return true;
}

bool WssServer::admitConnection(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  const auto verdict = connectionRate_.admit(key, now);
  if (verdict == RateLimiter::Verdict::Allowed) return true;
  connectionsRateLimited_.fetch_add(1, std::memory_order_relaxed);
  if (refusalLogLimit_.take(now))
    log::get(log::Component::Wss)
        ->warn("connection from {} closed at accept: security.rate_limits.{} exceeded (further refusals counted in "
               "rtcgate_wss_connections_rate_limited_total, logged at most once a second)",
               key, verdict == RateLimiter::Verdict::PerIpLimited ? "connections_per_ip" : "connections");
  return false;
}

void WssServer::setTrustedProxies(Listener& l) {
  l.trustedProxies.clear();
  for (const auto& cidr : l.config.proxyProtocol.trusted)
    if (auto n = IpNetwork::parse(cidr)) l.trustedProxies.push_back(*n);  // the loader checked each one
}

bool WssServer::divertToProxyReader(lws* listenWsi, int fd, const IpAddress& peer) {
  lws_vhost* vhost = lws_get_vhost(listenWsi);
  auto l = std::find_if(listeners_.begin(), listeners_.end(), [&](const auto& x) { return x->vhost == vhost; });
  if (l == listeners_.end()) return false;
  const auto& trusted = (*l)->trustedProxies;
  if (std::none_of(trusted.begin(), trusted.end(), [&](const IpNetwork& n) { return n.contains(peer); }))
    return false;
  // Headers being read count against the socket bound like TLS handshakes in progress do.
  if (proxyHeaders_.pending() >= security_.maxConnections) {
    proxyHeaders_.reject(peer, "overload");
    return true;
  }
  // lws closes its descriptor when the filter refuses the connection: the reader works on a duplicate.
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) {
    proxyHeaders_.reject(peer, "overload");
    return true;
  }
  proxyHeaders_.start(own, peer, (*l)->config.proxyProtocol.required,
                      std::chrono::milliseconds(security_.wsHandshakeTimeoutMs),
                      [this, vhost, peer](int ready, std::optional<IpAddress> client) {
                        adoptProxied(vhost, ready, (client ? *client : peer).toString());
                      });
  return true;
}

void WssServer::adoptProxied(lws_vhost* vhost, int fd, const std::string& clientIp) {
  // The listener may be gone (a restart-only change never removes it, but the context might be shutting down).
  if (context_ == nullptr ||
      std::none_of(listeners_.begin(), listeners_.end(), [&](const auto& l) { return l->vhost == vhost; })) {
    ::close(fd);
    return;
  }
  if (!admitConnection(clientIp)) {
    ::close(fd);
    return;
  }
  lws_sock_file_fd_type sock{};
  sock.sockfd = fd;
  // As lws' own accept would: HTTP serving mode, TLS on the vhost's context. On failure lws closes fd.
  lws* wsi = lws_adopt_descriptor_vhost(
      vhost, static_cast<lws_adoption_type>(LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | LWS_ADOPT_ALLOW_SSL), sock, nullptr,
      nullptr);
  if (wsi == nullptr) return;
  proxiedPeers_[wsi] = clientIp;
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, static_cast<int>(secondsCeil(security_.wsHandshakeTimeoutMs)));
}

std::string WssServer::peerIp(lws* wsi) const {
  if (!proxiedPeers_.empty()) {
    // HTTP/2: a WebSocket is a stream (child wsi) of the network connection the PROXY header came on.
    if (auto it = proxiedPeers_.find(lws_get_network_wsi(wsi)); it != proxiedPeers_.end()) return it->second;
  }
  char ip[64] = {0};
  lws_get_peer_simple(wsi, ip, sizeof(ip));
  return ip;
}

void WssServer::logRefusal(lws* wsi, unsigned status, const std::string& why) const {
  const std::string ip = peerIp(wsi);
  auto h = [wsi](lws_token_indexes t) { return log::escaped(headerOf(wsi, t), kLoggedHeaderBytes); };
  log::get(log::Component::Wss)
      ->info("WebSocket handshake from {} refused{}: {} (path \"{}\", Host \"{}\", Origin \"{}\", User-Agent \"{}\")",
             log::escaped(ip, 64), status != 0 ? " with " + std::to_string(status) : std::string(), why,
             h(WSI_TOKEN_GET_URI), log::escaped(hostOf(wsi), kLoggedHeaderBytes), h(WSI_TOKEN_ORIGIN), h(WSI_TOKEN_HTTP_USER_AGENT));
}

int WssServer::onCallback(lws* wsi, int reasonInt, void* user, void* in, size_t len) {
  auto reason = static_cast<lws_callback_reasons>(reasonInt);
  auto* session = static_cast<PerSession*>(user);
  auto* lg = log::get(log::Component::Wss);
  switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
      // user is the vhost's SSL_CTX: keep it for certificate reloads.
      if (pendingListener_ != nullptr) pendingListener_->sslCtx = static_cast<SSL_CTX*>(user);
      return 0;
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
      // The earliest point lws offers: the socket is accepted, nothing read, no TLS yet. A connection over the rate
      // is closed here, so a flood costs an accept and a close, not a TLS handshake each. No HTTP 503 + Retry-After:
      // it would need the TLS handshake this avoids, and a browser's WebSocket API shows neither status nor headers
      // (onclose 1006 either way); JsSIP reconnects with its own backoff.
      const auto* args = static_cast<const lws_filter_network_conn_args*>(user);
      if (args == nullptr) return 0;
      auto peer = IpAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&args->cli_addr));
      // A trusted proxy's connection starts with its PROXY header: read here, outside lws, and then adopted; the
      // rate limits then apply to the client's address. Nobody else is asked for a header (docs/adr/0011).
      if (peer && divertToProxyReader(wsi, static_cast<int>(args->accept_fd), *peer)) return 1;
      return admitConnection(peer ? peer->toString() : std::string("?")) ? 0 : 1;
    }
    case LWS_CALLBACK_WSI_DESTROY:
      if (!proxiedPeers_.empty()) proxiedPeers_.erase(wsi);
      break;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
      // A socket that never completes TLS and the upgrade is dropped after the handshake timeout; lws otherwise
      // waits for the first bytes without a bound.
      lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, static_cast<int>(secondsCeil(security_.wsHandshakeTimeoutMs)));
      return 0;
    case LWS_CALLBACK_HTTP:
      if (session == nullptr) return -1;
      session->httpSent = 0;
      return onHttpRequest(wsi, static_cast<const char*>(in), &session->httpBody);
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      if (session == nullptr || session->httpBody == nullptr) return -1;
      std::string& body = *session->httpBody;
      // lws_write needs LWS_PRE writable bytes before what it sends: the previous chunk's tail, already sent.
      size_t total = body.size() - LWS_PRE;
      if (session->httpSent == total) {
        // lws accepts a write the socket (or TLS) takes only in part and keeps the rest, then calls us writeable
        // again only once that rest is out: completing the transaction right after the last write dropped it
        // (HTTP/2: a 257 KB file arrived 7.6 KB short). So the end comes here, one callback later.
        delete session->httpBody;
        session->httpBody = nullptr;
        session->httpSent = 0;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
      }
      if (lws_send_pipe_choked(wsi)) {
        lws_callback_on_writable(wsi);
        return 0;
      }
      size_t n = std::min(kHttpChunkBytes, total - session->httpSent);
      // HTTP/2 (RFC 9113 6.9): no more than the peer's flow-control window allows. -1: no such limit (HTTP/1.1).
      lws_fileofs_t allowance = lws_get_peer_write_allowance(wsi);
      if (allowance == 0) {
        lws_callback_on_writable(wsi);
        return 0;
      }
      if (allowance > 0) n = std::min(n, static_cast<size_t>(allowance));
      bool last = session->httpSent + n == total;
      auto* data = reinterpret_cast<unsigned char*>(body.data()) + LWS_PRE + session->httpSent;
      if (lws_write(wsi, data, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != static_cast<int>(n)) return -1;
      session->httpSent += n;
      lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
      if (session != nullptr) {
        delete session->httpBody;
        session->httpBody = nullptr;
      }
      break;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
      // The one place lws 4.1.6 lets us answer a refused upgrade: here, before it picks a subprotocol (an unknown
      // one it drops by itself) and before LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, whose non-zero return only
      // hangs up. `in` is the Upgrade token; lws answers tokens other than websocket and h2c itself.
      if (in == nullptr || ::strcasecmp(static_cast<const char*>(in), "websocket") != 0) return 0;
      std::string why;
      unsigned status = checkUpgrade(wsi, &why);
      if (status == 0) return 0;
      rejected_.fetch_add(1, std::memory_order_relaxed);
      logRefusal(wsi, status, why);
      // Answer, then -1 so that lws hangs up (RFC 6455 4.2.1 lets the server close after the error response)
      // rather than keep the keep-alive connection for another request. lws_return_http_status writes headers and
      // body in one lws_write; its result does not matter, the connection ends either way.
      (void)lws_return_http_status(wsi, status, nullptr);
      return -1;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      std::string why;
      if (!acceptHandshake(wsi, &why)) {
        rejected_.fetch_add(1, std::memory_order_relaxed);
        logRefusal(wsi, 0, why);
        return 1;
      }
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      auto* c = new Connection();
      c->id = nextId_++;
      c->wsi = wsi;
      c->ip = peerIp(wsi);
      session->connection = c;
      connections_.emplace(c->id, c);
      ++perIp_[c->ip];
      // The handshake bound is over; from now on the liveness timer decides.
      lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
      c->lastHeard = std::chrono::steady_clock::now();
      lws_set_timer_usecs(wsi, usecs(pingInterval(security_.wsIdleTimeoutMs)));
      lg->debug("connection {} from {} established (Origin \"{}\", User-Agent \"{}\")", c->id, c->ip,
                log::escaped(headerOf(wsi, WSI_TOKEN_ORIGIN), kLoggedHeaderBytes),
                log::escaped(headerOf(wsi, WSI_TOKEN_HTTP_USER_AGENT), kLoggedHeaderBytes));
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      auto* c = session != nullptr ? static_cast<Connection*>(session->connection) : nullptr;
      if (c == nullptr) return -1;
      onReceive(*c, wsi, static_cast<const char*>(in), len);
      return 0;
    }
    case LWS_CALLBACK_RECEIVE_PONG: {
      // Any pong counts, also an unsolicited one (RFC 6455 5.5.3 allows them as a unidirectional heartbeat).
      auto* c = session != nullptr ? static_cast<Connection*>(session->connection) : nullptr;
      if (c != nullptr) c->lastHeard = std::chrono::steady_clock::now();
      return 0;
    }
    case LWS_CALLBACK_TIMER: {
      auto* c = session != nullptr ? static_cast<Connection*>(session->connection) : nullptr;
      return c != nullptr ? onLivenessTimer(*c, wsi) : 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      auto* c = session != nullptr ? static_cast<Connection*>(session->connection) : nullptr;
      if (c == nullptr) return -1;
      return onWriteable(*c, wsi);
    }
    case LWS_CALLBACK_CLOSED: {
      auto* c = session != nullptr ? static_cast<Connection*>(session->connection) : nullptr;
      if (c == nullptr) return 0;
      session->connection = nullptr;
      connections_.erase(c->id);
      if (auto it = perIp_.find(c->ip); it != perIp_.end() && --it->second == 0) perIp_.erase(it);
      lg->debug("connection {} from {} closed", c->id, c->ip);
      std::unique_ptr<Connection> owned(c);
      endpoint_->onConnectionClosed(owned->id);
      return 0;
    }
    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

std::string WssServer::webRootOf(lws* wsi) const {
  lws_vhost* vhost = lws_get_vhost(wsi);
  for (const auto& l : listeners_)
    if (l->vhost == vhost) return l->config.webRoot;
  return {};
}

int WssServer::onHttpRequest(lws* wsi, const char* path, std::string** pendingBody) {
  IceServersEndpoint::Reply reply;
  bool head = false;
  uint64_t headLength = 0;
  if (path == nullptr || !IceServersEndpoint::handles(path)) {
    // Everything else is a static file or 404 (StaticFiles: no root configured, no such file, a refused path).
    std::string host = hostOf(wsi);
    std::string method = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0    ? "GET"
                         : lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0 ? "HEAD"
                                                                             : "OTHER";
    // The Host goes into the CSP: a malformed one is refused before (and the page needs one to reach us anyway).
    StaticFiles::Reply file = !validHostHeader(host) ? StaticFiles::Reply{400, "text/plain; charset=utf-8", {},
                                                                          "Bad request\n", 12}
                                                     : staticFiles_.serve(webRootOf(wsi), method, path ? path : "",
                                                                          host);
    head = method == "HEAD";
    reply.status = file.status;
    reply.contentType = std::move(file.contentType);
    reply.headers = std::move(file.headers);
    reply.body = std::move(file.body);
    headLength = file.contentLength;
  } else {
    IceServersEndpoint::Request request;
    request.method = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0       ? "GET"
                     : lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0 ? "OPTIONS"
                                                                            : "OTHER";
    request.uri = path;
    request.origin = headerOf(wsi, WSI_TOKEN_ORIGIN);
    if (std::string host = hostOf(wsi); validHostHeader(host)) request.host = host;
    request.authorization = headerOf(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    request.sourceIp = peerIp(wsi);
    reply = iceServers_.handle(request, std::chrono::system_clock::now());
  }
  // Two challenges and the CORS headers fit well within this; lws fails the add (and we hang up) otherwise.
  unsigned char headers[LWS_PRE + 4096];
  unsigned char* p = headers + LWS_PRE;
  unsigned char* end = headers + sizeof(headers) - 1;
  // RFC 9110 9.3.2: HEAD answers with the Content-Length a GET would have, and no body.
  if (lws_add_http_common_headers(wsi, reply.status, reply.contentType.c_str(), head ? headLength : reply.body.size(),
                                  &p, end) != 0)
    return -1;
  for (const auto& [name, value] : reply.headers) {
    // Lower case with a trailing ':' is the form lws takes for both HTTP/1.1 and HTTP/2 (RFC 9113 8.2.1).
    std::string key;
    for (char ch : name) key += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    key += ':';
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(key.c_str()),
                                    reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()),
                                    &p, end) != 0)
      return -1;
  }
  if (lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end) != 0) return -1;
  if (reply.body.empty() || head) return lws_http_transaction_completed(wsi) ? -1 : 0;
  delete *pendingBody;
  *pendingBody = new std::string(LWS_PRE, '\0');
  (*pendingBody)->append(reply.body);
  lws_callback_on_writable(wsi);
  return 0;
}

void WssServer::onReceive(Connection& c, lws* wsi, const char* data, size_t len) {
  // Every fragment of every frame is a sign of life: SIP, CRLF keepalives, anything.
  c.lastHeard = std::chrono::steady_clock::now();
  if (c.closing) return;
  // Bound before buffering: a frame header announcing more than the limit is refused at its first bytes.
  size_t announced = c.rx.size() + len + lws_remaining_packet_payload(wsi);
  if (announced > security_.maxMessageBytes) {
    oversized_.fetch_add(1, std::memory_order_relaxed);
    log::get(log::Component::Wss)
        ->info("connection {} from {}: message over {} bytes, closing", c.id, c.ip, security_.maxMessageBytes);
    closeWith(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
    return;
  }
  c.rx.append(data, len);
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0) return;
  std::string frame;
  frame.swap(c.rx);
  // Keepalive (RFC 5626 4.4.1 style, as JsSIP and SIP.js use it over WebSocket): "\r\n\r\n" gets "\r\n" back.
  if (frame == "\r\n\r\n") {
    send(c.id, "\r\n");
    return;
  }
  if (frame == "\r\n") return;
  ConnectionId id = c.id;
  std::string ip = c.ip;
  if (endpoint_->onFrame(id, ip, frame) == BrowserSipEndpoint::Verdict::Close) {
    auto it = connections_.find(id);
    if (it != connections_.end()) closeWith(*it->second, LWS_CLOSE_STATUS_PROTOCOL_ERR);
  }
}

int WssServer::onLivenessTimer(Connection& c, lws* wsi) {
  const auto now = std::chrono::steady_clock::now();
  const auto idle = std::chrono::milliseconds(security_.wsIdleTimeoutMs);
  const auto ping = pingInterval(security_.wsIdleTimeoutMs);
  const auto silence = now - c.lastHeard;
  if (silence >= idle) {
    idleTimeouts_.fetch_add(1, std::memory_order_relaxed);
    log::get(log::Component::Wss)
        ->info("connection {} from {}: no frame, pong or keepalive for {} ms, closing", c.id, c.ip,
               std::chrono::duration_cast<std::chrono::milliseconds>(silence).count());
    return -1;  // the peer is gone or stuck: no close handshake to wait for
  }
  auto next = c.lastHeard + idle;
  if (!c.closing) {  // a closing connection only waits for its close to go out (or for the idle bound)
    if (silence >= ping && now - c.lastPingSent >= ping) {
      c.lastPingSent = now;
      c.pingDue = true;
      lws_callback_on_writable(wsi);
    }
    next = std::min(next, silence >= ping ? c.lastPingSent + ping : c.lastHeard + ping);
  }
  lws_set_timer_usecs(wsi, usecs(next - now));
  return 0;
}

int WssServer::onWriteable(Connection& c, lws* wsi) {
  if (c.closing && c.out.empty()) {
    lws_close_reason(wsi, static_cast<lws_close_status>(c.closeStatus), nullptr, 0);
    return -1;
  }
  if (c.pingDue && !c.closing) {
    // One write per writeable callback; queued messages follow in the next one.
    c.pingDue = false;
    uint64_t n = ++c.pingsSent;
    unsigned char ping[LWS_PRE + kPingPayloadBytes];
    for (size_t i = 0; i < kPingPayloadBytes; ++i)
      ping[LWS_PRE + i] = static_cast<unsigned char>(n >> (8 * (kPingPayloadBytes - 1 - i)));
    if (lws_write(wsi, ping + LWS_PRE, kPingPayloadBytes, LWS_WRITE_PING) < static_cast<int>(kPingPayloadBytes))
      return -1;
    if (!c.out.empty()) lws_callback_on_writable(wsi);
    return 0;
  }
  if (c.out.empty()) return 0;
  std::string& msg = c.out.front();
  writeBuf_.resize(LWS_PRE + msg.size());
  std::memcpy(writeBuf_.data() + LWS_PRE, msg.data(), msg.size());
  int n = lws_write(wsi, writeBuf_.data() + LWS_PRE, msg.size(), LWS_WRITE_TEXT);
  if (n < static_cast<int>(msg.size())) return -1;
  c.outBytes -= msg.size();
  c.out.pop_front();
  if (!c.out.empty() || c.closing) lws_callback_on_writable(wsi);
  return 0;
}

bool WssServer::send(ConnectionId connection, std::string message) {
  RTCGATE_ASSERT_ON_LOOP(control_);
  auto it = connections_.find(connection);
  if (it == connections_.end() || it->second->closing) return false;
  Connection& c = *it->second;
  if (c.out.size() >= kMaxQueuedMessages || c.outBytes + message.size() > kMaxQueuedBytes) {
    queueOverflows_.fetch_add(1, std::memory_order_relaxed);
    log::get(log::Component::Wss)->warn("connection {} from {}: send queue full, closing", c.id, c.ip);
    c.out.clear();
    c.outBytes = 0;
    closeWith(c, LWS_CLOSE_STATUS_GOINGAWAY);
    return false;
  }
  c.outBytes += message.size();
  c.out.push_back(std::move(message));
  lws_callback_on_writable(c.wsi);
  return true;
}

void WssServer::close(ConnectionId connection) {
  RTCGATE_ASSERT_ON_LOOP(control_);
  auto it = connections_.find(connection);
  if (it != connections_.end()) closeWith(*it->second, LWS_CLOSE_STATUS_NORMAL);
}

void WssServer::closeWith(Connection& c, int status) {
  if (c.closing) return;
  c.closing = true;
  c.closeStatus = status;
  c.rx.clear();
  // The close frame goes out from the writeable callback, after what is already queued.
  lws_callback_on_writable(c.wsi);
}

}  // namespace rtcgate::signaling

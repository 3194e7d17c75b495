// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "rtcgate/config/config.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/core/metrics.h"
#include "rtcgate/core/rate_limiter.h"
#include "rtcgate/signaling/browser_sip_endpoint.h"
#include "rtcgate/signaling/ice_servers_endpoint.h"
#include "rtcgate/signaling/proxy_header_reader.h"
#include "rtcgate/signaling/registrar.h"
#include "rtcgate/signaling/sip_transport.h"
#include "rtcgate/signaling/static_files.h"

struct lws;
struct lws_context;
struct lws_vhost;
struct ssl_ctx_st;
struct sockaddr;

namespace rtcgate::signaling {

// Browser-facing SIP over WebSocket Secure (RFC 7118) on libwebsockets over the control loop: one vhost per
// configured listener, subprotocol "sip" required, Origin allow-list, connection caps, handshake and idle
// timeouts, message size bound, CRLF keepalive, WebSocket pings, bounded per-connection send queues. Plain HTTPS
// requests on the same listeners: GET /rtcgate/ice-servers (IceServersEndpoint), 404 for any other path.
// Behind a load balancer in TCP mode, a listener's trusted proxies announce each client's address with a PROXY
// protocol header (listeners.wss[].proxy_protocol, docs/adr/0011): that address is the connection's from then on.
// Owns the registrar and the SIP endpoint of the browser leg. Thread: control; create, use and destroy it there.
class WssServer final : public SipTransport {
public:
  // Throws std::runtime_error when a listener cannot be set up (bad certificate, port in use).
  WssServer(EventLoop& control, const config::Config& config, Metrics& metrics);
  ~WssServer() override;
  WssServer(const WssServer&) = delete;
  WssServer& operator=(const WssServer&) = delete;

  // Limits, agents and certificates (for new connections) follow the new configuration; listener addresses
  // need a restart. Returns false (and keeps the old certificate) when a new certificate cannot be loaded.
  bool applyConfig(const config::Config& config);

  // Actual port of listener i (the configured one, or the kernel's pick for port 0).
  uint16_t port(size_t listener = 0) const;
  size_t connectionCount() const { return connections_.size(); }
  // Network connections adopted after a PROXY header and not yet destroyed (tests: nothing outlives its socket).
  size_t proxiedConnectionsForTest() const { return proxiedPeers_.size(); }
  // The client's IP address of an open connection (from the PROXY header behind a trusted proxy, else the TCP
  // peer), "" when it is closed (admin API).
  std::string connectionAddress(ConnectionId connection) const {
    auto it = connections_.find(connection);
    return it != connections_.end() ? it->second->ip : std::string();
  }

  bool send(ConnectionId connection, std::string message) override;
  void close(ConnectionId connection) override;

  Registrar& registrar() { return registrar_; }
  BrowserSipEndpoint& endpoint() { return *endpoint_; }

  // libwebsockets callback entry; public for the C trampoline only.
  int onCallback(lws* wsi, int reason, void* user, void* in, size_t len);

private:
  struct Connection {
    ConnectionId id = 0;
    lws* wsi = nullptr;
    std::string ip;
    std::string rx;
    std::deque<std::string> out;
    size_t outBytes = 0;
    bool closing = false;
    int closeStatus = 1000;
    // Liveness: the last frame, pong or CRLF keepalive received; our last ping (sent after ping-interval silence).
    std::chrono::steady_clock::time_point lastHeard{};
    std::chrono::steady_clock::time_point lastPingSent{};
    bool pingDue = false;
    uint64_t pingsSent = 0;
  };
  struct Listener {
    config::WssListener config;
    // libwebsockets keeps the vhost_name pointer (it does not copy it): the name lives as long as the vhost.
    std::string name;
    lws_vhost* vhost = nullptr;
    ssl_ctx_st* sslCtx = nullptr;
    uint16_t port = 0;
    std::vector<IpNetwork> trustedProxies;  // config.proxyProtocol.trusted, parsed
  };

  // The opening-handshake rules (Host, Origin, subprotocol): 0 when acceptable, else the HTTP status to answer.
  unsigned checkUpgrade(lws* wsi, std::string* why) const;
  bool acceptHandshake(lws* wsi, std::string* why);
  // security.rate_limits.connections(_per_ip), asked for each accepted TCP connection before its TLS handshake
  // (behind a trusted proxy: with the client's address, once its PROXY header is read).
  bool admitConnection(const std::string& ip);
  // The accept of `fd` from `peer` on the listener of `listenWsi`: true when it is a trusted proxy's, handed to the
  // PROXY header reader (lws closes its own descriptor of it).
  bool divertToProxyReader(lws* listenWsi, int fd, const IpAddress& peer);
  // A trusted proxy's connection whose header is read: handed to lws as if it had accepted it.
  void adoptProxied(lws_vhost* vhost, int fd, const std::string& clientIp);
  // The client's address of `wsi`: the PROXY header's for an adopted connection, else the TCP peer's.
  std::string peerIp(lws* wsi) const;
  void setTrustedProxies(Listener& l);
  void logRefusal(lws* wsi, unsigned status, const std::string& why) const;
  void onReceive(Connection& c, lws* wsi, const char* data, size_t len);
  int onWriteable(Connection& c, lws* wsi);
  // Drops a connection silent for security.ws_idle_timeout_ms, pings one silent for a third of it; re-arms itself.
  int onLivenessTimer(Connection& c, lws* wsi);
  void closeWith(Connection& c, int status);
  bool loadCertificate(Listener& l);
  void logWebRoot(const Listener& l) const;
  // Plain HTTPS requests on the listener: GET /rtcgate/ice-servers, 404 for anything else. Returns the callback's
  // result; the body goes out from LWS_CALLBACK_HTTP_WRITEABLE (*pendingBody).
  int onHttpRequest(lws* wsi, const char* path, std::string** pendingBody);
  // listeners.wss[].web_root of the listener `wsi` came in on.
  std::string webRootOf(lws* wsi) const;

  EventLoop& control_;
  config::Security security_;
  Registrar registrar_;
  std::unique_ptr<BrowserSipEndpoint> endpoint_;
  IceServersEndpoint iceServers_;
  StaticFiles staticFiles_;
  lws_context* context_ = nullptr;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<ConnectionId, Connection*> connections_;
  std::map<std::string, uint32_t> perIp_;
  ProxyHeaderReader proxyHeaders_;
  // Network connections adopted after a PROXY header, to the client address it gave; removed at WSI_DESTROY.
  std::unordered_map<lws*, std::string> proxiedPeers_;
  RateLimiter connectionRate_;
  TokenBucket refusalLogLimit_{1, 1};
  ConnectionId nextId_ = 1;
  Listener* pendingListener_ = nullptr;  // the vhost being created, for the SSL_CTX callback
  std::vector<unsigned char> writeBuf_;
  std::string generatedCert_;
  std::string generatedKey_;
  std::atomic<uint64_t>& rejected_;
  std::atomic<uint64_t>& oversized_;
  std::atomic<uint64_t>& queueOverflows_;
  std::atomic<uint64_t>& idleTimeouts_;
  std::atomic<uint64_t>& connectionsRateLimited_;
};

}  // namespace rtcgate::signaling

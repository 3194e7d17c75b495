// SPDX-License-Identifier: Apache-2.0
// The WSS server behind a PROXY-protocol load balancer: a trusted proxy's header gives the connection its client's
// address (admin API, per-IP caps); a header from an untrusted peer claims nothing; a bad one is closed and counted.
// Real sockets on 127.0.0.1:0, TLS and the WebSocket upgrade from a client thread (OpenSSL, blocking).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "rtcgate/signaling/wss_server.h"
#include "support/test_support.h"

namespace rtcgate::signaling {
namespace {

const std::string kV2Prefix("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x21\x11\x00\x0C", 16);

std::string v2Tcp4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  std::string block{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)};
  return kV2Prefix + block + std::string("\x7F\x00\x00\x01\xC3\x50\x20\xFB", 8);
}

config::Config proxiedConfig(std::vector<std::string> trusted) {
  config::Config c;
  config::WssListener l{{"127.0.0.1", 0}, "", ""};
  l.proxyProtocol.trusted = std::move(trusted);
  c.listeners.wss.push_back(l);
  c.security.allowedOrigins = {"https://app.example"};
  return c;
}

// Connects, sends `header` (corked with MSG_MORE so that it leaves with the ClientHello, in one segment), then TLS
// and a WebSocket upgrade; "101" when the upgrade was accepted, else what went wrong. Keeps the connection open
// until `release` is set.
std::string openWebSocket(uint16_t port, const std::string& header, const std::atomic<bool>& release) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  std::string result;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    result = "connect failed";
  } else if (!header.empty() && ::send(fd, header.data(), header.size(), MSG_MORE) != static_cast<ssize_t>(header.size())) {
    result = "header not sent";
  } else {
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
      result = "tls failed";
    } else {
      const std::string upgrade =
          "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Protocol: sip\r\nOrigin: https://app.example\r\n\r\n";
      SSL_write(ssl, upgrade.data(), static_cast<int>(upgrade.size()));
      char buf[512];
      int n = SSL_read(ssl, buf, sizeof buf - 1);
      std::string answer(buf, n > 0 ? static_cast<size_t>(n) : 0);
      result = answer.rfind("HTTP/1.1 101", 0) == 0 ? "101" : "answer: " + answer.substr(0, 40);
      if (result == "101") release.wait(false);
    }
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return result;
}

class WssProxyProtocolTest : public ::testing::Test {
protected:
  void SetUp() override { loop.adoptCurrentThread(); }
  // Opens a WebSocket from a thread while the loop runs here; returns its outcome and the address the server
  // gives the connection while it is open.
  std::pair<std::string, std::string> connect(WssServer& server, const std::string& header) {
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
    std::string outcome;
    std::thread t([&] {
      outcome = openWebSocket(server.port(), header, release);
      finished = true;
    });
    const size_t before = server.connectionCount();
    std::string address;
    test::pumpUntil(loop, [&] { return finished.load() || server.connectionCount() > before; });
    // The newest connection has the highest id still open.
    for (ConnectionId id = 1; id < 64; ++id)
      if (auto a = server.connectionAddress(id); !a.empty() && server.connectionCount() > before) address = a;
    release = true;
    release.notify_all();
    test::pumpUntil(loop, [&] { return finished.load(); });
    t.join();
    test::pumpUntil(loop, [&] { return server.connectionCount() == before; });
    return {outcome, address};
  }
  uint64_t rejected(const char* reason) {
    return metrics.counter("rtcgate_wss_proxy_headers_rejected_total", "", {{"reason", reason}}).load();
  }

  EventLoop loop{"control"};
  Metrics metrics;
};

TEST_F(WssProxyProtocolTest, TrustedProxyGivesTheClientsAddress) {
  WssServer server(loop, proxiedConfig({"127.0.0.0/8"}), metrics);
  auto [outcome, address] = connect(server, v2Tcp4(203, 0, 113, 7));
  EXPECT_EQ(outcome, "101");
  EXPECT_EQ(address, "203.0.113.7");
  std::tie(outcome, address) = connect(server, "PROXY TCP4 198.51.100.9 127.0.0.1 40000 8443\r\n");
  EXPECT_EQ(outcome, "101");
  EXPECT_EQ(address, "198.51.100.9");
  // A header is required from a trusted proxy: plain TLS is closed before its handshake.
  std::tie(outcome, address) = connect(server, "");
  EXPECT_EQ(outcome, "tls failed");
  EXPECT_EQ(rejected("missing"), 1u);
  // lws destroyed the adopted connections: their addresses are gone with them (a reused lws* gets no stale one).
  EXPECT_TRUE(test::pumpUntil(loop, [&] { return server.proxiedConnectionsForTest() == 0; }));
}

TEST_F(WssProxyProtocolTest, PerIpCapCountsClientsNotTheProxy) {
  auto cfg = proxiedConfig({"127.0.0.1"});
  cfg.security.maxConnectionsPerIp = 1;
  WssServer server(loop, cfg, metrics);
  // Two clients behind the one proxy address: each has its own allowance.
  std::atomic<bool> release{false};
  std::string first;
  std::thread t([&] { first = openWebSocket(server.port(), v2Tcp4(203, 0, 113, 7), release); });
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return server.connectionCount() == 1; }));
  auto [outcome, address] = connect(server, v2Tcp4(203, 0, 113, 8));
  EXPECT_EQ(outcome, "101");
  EXPECT_EQ(address, "203.0.113.8");
  // The same client again is over its cap.
  std::tie(outcome, address) = connect(server, v2Tcp4(203, 0, 113, 7));
  EXPECT_NE(outcome, "101");
  release = true;
  release.notify_all();
  test::pumpUntil(loop, [&] { return server.connectionCount() == 0; });
  t.join();
  EXPECT_EQ(first, "101");
}

TEST_F(WssProxyProtocolTest, UntrustedPeerCannotClaimAnAddressAndReloadTrustsIt) {
  auto cfg = proxiedConfig({"192.0.2.1/32"});
  WssServer server(loop, cfg, metrics);
  // From an untrusted peer the first bytes must be TLS: a header is a broken ClientHello.
  auto [outcome, address] = connect(server, v2Tcp4(203, 0, 113, 7));
  EXPECT_EQ(outcome, "tls failed");
  std::tie(outcome, address) = connect(server, "");
  EXPECT_EQ(outcome, "101");
  EXPECT_EQ(address, "127.0.0.1");
  // [reload]: the trusted list applies to the next connection.
  cfg.listeners.wss[0].proxyProtocol.trusted = {"127.0.0.1/32"};
  server.applyConfig(cfg);
  std::tie(outcome, address) = connect(server, v2Tcp4(203, 0, 113, 9));
  EXPECT_EQ(outcome, "101");
  EXPECT_EQ(address, "203.0.113.9");
}

TEST_F(WssProxyProtocolTest, BadHeaderFromTrustedProxyIsClosedAndCounted) {
  WssServer server(loop, proxiedConfig({"127.0.0.1"}), metrics);
  auto [outcome, address] = connect(server, "PROXY TCP4 nonsense\r\n");
  EXPECT_EQ(outcome, "tls failed");
  EXPECT_EQ(rejected("bad_address"), 1u);
  // LOCAL (the proxy's own health check) keeps the proxy's address.
  std::tie(outcome, address) =
      connect(server, std::string("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x20\x00\x00\x00", 16));
  EXPECT_EQ(outcome, "101");
  EXPECT_EQ(address, "127.0.0.1");
}

}  // namespace
}  // namespace rtcgate::signaling

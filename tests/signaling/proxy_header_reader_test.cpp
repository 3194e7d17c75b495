// SPDX-License-Identifier: Apache-2.0
// ProxyHeaderReader on real TCP sockets over 127.0.0.1 (port 0): headers whole, split over several segments,
// followed by the ClientHello in the same segment, hostile, silent; the bytes after the header stay in the socket.
#include "rtcgate/signaling/proxy_header_reader.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "support/test_support.h"

namespace rtcgate::signaling {
namespace {

const std::string kHeaderV2 = std::string("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x21\x11\x00\x0C", 16) +
                              std::string("\xCB\x00\x71\x07\xC0\x00\x02\x0A\xC3\x50\x20\xFB", 12);
const std::string kClientHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);

// A connected pair over loopback: `client` is ours to write, `server` the accepted end handed to the reader.
struct TcpPair {
  int client = -1;
  int server = -1;
  TcpPair() {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener, 1);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a);
    server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(listener);
  }
  ~TcpPair() {
    if (client >= 0) ::close(client);
  }
  void send(const std::string& bytes) const { ASSERT_EQ(::send(client, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size())); }
};

size_t unread(int fd) {
  int n = 0;
  return ::ioctl(fd, FIONREAD, &n) == 0 ? static_cast<size_t>(n) : 0;
}

// Whether the peer closed `fd`'s connection: EOF, or a reset when it closed with our bytes still unread.
bool closedByPeer(int fd) {
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

class ProxyHeaderReaderTest : public ::testing::Test {
protected:
  void SetUp() override { loop.adoptCurrentThread(); }
  void start(int fd, bool required = true, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    reader.start(fd, *IpAddress::parse("127.0.0.1"), required, timeout, [this](int ready, std::optional<IpAddress> c) {
      readyFd = ready;
      client = c;
    });
  }
  uint64_t rejected(const char* reason) {
    return metrics.counter("rtcgate_wss_proxy_headers_rejected_total", "", {{"reason", reason}}).load();
  }
  // The bytes still in the socket after the reader let go of it.
  static std::string rest(int fd) {
    std::string out(64, '\0');
    ssize_t n = ::recv(fd, out.data(), out.size(), MSG_DONTWAIT);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }

  EventLoop loop{"control"};
  Metrics metrics;
  ProxyHeaderReader reader{loop, metrics};
  int readyFd = -1;
  std::optional<IpAddress> client;
};

TEST_F(ProxyHeaderReaderTest, HeaderAndClientHelloInOneSegment) {
  TcpPair pair;
  pair.send(kHeaderV2 + kClientHello);
  start(pair.server);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return readyFd >= 0; }));
  EXPECT_EQ(readyFd, pair.server);
  ASSERT_TRUE(client);
  EXPECT_EQ(client->toString(), "203.0.113.7");
  EXPECT_EQ(rest(readyFd), kClientHello);
  EXPECT_EQ(reader.pending(), 0u);
  ::close(readyFd);
}

TEST_F(ProxyHeaderReaderTest, HeaderSplitAcrossSegmentsV1AndV2) {
  const std::string v1 = "PROXY TCP4 198.51.100.9 192.0.2.10 40000 8443\r\n";
  for (const std::string& header : {kHeaderV2, v1}) {
    TcpPair pair;
    readyFd = -1;
    start(pair.server);
    // Cut inside the signature, inside the fixed part / the line, and just before the end; each piece is taken out
    // of the socket (FIONREAD 0) before the next one goes.
    const size_t cuts[] = {3, 14, header.size() - 1};
    size_t from = 0;
    for (size_t cut : cuts) {
      pair.send(header.substr(from, cut - from));
      from = cut;
      ASSERT_TRUE(test::pumpUntil(loop, [&] { return unread(pair.server) == 0; }));
      EXPECT_EQ(readyFd, -1);
    }
    pair.send(header.substr(from) + kClientHello);
    ASSERT_TRUE(test::pumpUntil(loop, [&] { return readyFd >= 0; }));
    ASSERT_TRUE(client);
    EXPECT_EQ(client->toString(), header == v1 ? "198.51.100.9" : "203.0.113.7");
    EXPECT_EQ(rest(readyFd), kClientHello);
    ::close(readyFd);
  }
}

TEST_F(ProxyHeaderReaderTest, LocalCommandKeepsTheProxysAddress) {
  TcpPair pair;
  pair.send(std::string("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x20\x00\x00\x00", 16) + "GET /");
  start(pair.server);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return readyFd >= 0; }));
  EXPECT_FALSE(client);
  EXPECT_EQ(rest(readyFd), "GET /");
  ::close(readyFd);
}

TEST_F(ProxyHeaderReaderTest, HostileHeadersAreClosedAndCounted) {
  struct Case {
    std::string bytes;
    const char* reason;
  };
  const Case cases[] = {
      {kClientHello, "missing"},
      {std::string("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0B", 12) + kClientHello, "bad_signature"},
      {kHeaderV2.substr(0, 14) + std::string("\x02\x01", 2) + kClientHello, "too_long"},
      {kHeaderV2.substr(0, 13) + std::string("\x51", 1) + kHeaderV2.substr(14), "bad_family"},
      {"PROXY UNKNOWN " + std::string(120, 'x'), "no_crlf"},
  };
  for (const auto& c : cases) {
    TcpPair pair;
    pair.send(c.bytes);
    start(pair.server);
    ASSERT_TRUE(test::pumpUntil(loop, [&] { return rejected(c.reason) == 1; })) << c.reason;
    EXPECT_TRUE(closedByPeer(pair.client)) << c.reason;
  }
  EXPECT_EQ(readyFd, -1);
  EXPECT_EQ(reader.pending(), 0u);
}

TEST_F(ProxyHeaderReaderTest, TruncatedHeaderAndSilentProxyAreClosed) {
  {
    TcpPair pair;
    start(pair.server);
    pair.send(kHeaderV2.substr(0, 20));
    ::shutdown(pair.client, SHUT_WR);
    ASSERT_TRUE(test::pumpUntil(loop, [&] { return rejected("truncated") == 1; }));
  }
  {
    TcpPair pair;
    start(pair.server, true, std::chrono::milliseconds(200));
    ASSERT_TRUE(test::pumpUntil(loop, [&] { return rejected("timeout") == 1; }));
    EXPECT_TRUE(closedByPeer(pair.client));
  }
  EXPECT_EQ(readyFd, -1);
}

TEST_F(ProxyHeaderReaderTest, OptionalHeaderLetsAPlainConnectionThrough) {
  TcpPair pair;
  pair.send(kClientHello);
  start(pair.server, false);
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return readyFd >= 0; }));
  EXPECT_FALSE(client);
  EXPECT_EQ(rest(readyFd), kClientHello);
  ::close(readyFd);
}

}  // namespace
}  // namespace rtcgate::signaling

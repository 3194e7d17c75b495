// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "rtcgate/sip/source_filter.h"

namespace rtcgate::sip {
namespace {

TEST(SourceFilter, ExactHostsAndCidrs) {
  SourceFilter f;
  EXPECT_TRUE(f.add("192.0.2.10"));
  EXPECT_TRUE(f.add("198.51.100.0/24"));
  EXPECT_TRUE(f.add("2001:db8::/32"));
  EXPECT_TRUE(f.allows("192.0.2.10"));
  EXPECT_FALSE(f.allows("192.0.2.11"));
  EXPECT_TRUE(f.allows("198.51.100.254"));
  EXPECT_FALSE(f.allows("198.51.101.1"));
  EXPECT_TRUE(f.allows("2001:db8:1::5"));
  EXPECT_FALSE(f.allows("2001:db9::1"));
  EXPECT_TRUE(f.allows("::ffff:192.0.2.10") == false);  // text form is matched as IPv6
}

TEST(SourceFilter, OddPrefixesAndGarbage) {
  SourceFilter f;
  EXPECT_TRUE(f.add("10.0.0.0/9"));
  EXPECT_TRUE(f.allows("10.127.255.255"));
  EXPECT_FALSE(f.allows("10.128.0.0"));
  EXPECT_FALSE(f.add("10.0.0.0/33"));
  EXPECT_FALSE(f.add("10.0.0.0/"));
  EXPECT_FALSE(f.add("sipserver.example"));
  EXPECT_FALSE(f.add("10.0.0.0/8x"));
  EXPECT_TRUE(f.add("0.0.0.0/0"));
  EXPECT_TRUE(f.allows("203.0.113.9"));
}

// A UDP socket on one address of the IPv4 loopback; closes itself.
struct LoopbackUdp {
  explicit LoopbackUdp(const char* ip) {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a.sin_addr);
    bound = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~LoopbackUdp() { ::close(fd); }
  LoopbackUdp(const LoopbackUdp&) = delete;
  LoopbackUdp& operator=(const LoopbackUdp&) = delete;
  void sendTo(uint16_t to, const std::string& text) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(to);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  int fd = -1;
  bool bound = false;
  uint16_t port = 0;
};

// Issue 11: the BPF program built from the allowed sources (IPv4 prefixes and IPv6 networks mixed) drops datagrams
// from any other source in the kernel. Loopback delivers in order: the allowed datagram, sent last, is the first
// and only one received when the two before it were dropped.
TEST(KernelSourceFilter, DropsDatagramsFromOtherSources) {
  LoopbackUdp server("127.0.0.1");
  ASSERT_TRUE(server.bound);
  SourceFilter f;
  ASSERT_TRUE(f.add("2001:db8::/32"));
  ASSERT_TRUE(f.add("127.0.0.0/31"));  // 127.0.0.0 and 127.0.0.1 only
  ASSERT_TRUE(f.add("::1"));
  EXPECT_EQ(attachKernelSourceFilter(f, server.port), 1);
  LoopbackUdp two("127.0.0.2"), three("127.0.0.3"), one("127.0.0.1");
  ASSERT_TRUE(two.bound && three.bound && one.bound);
  two.sendTo(server.port, "from .2");
  three.sendTo(server.port, "from .3");
  one.sendTo(server.port, "from .1");
  pollfd p{server.fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char buf[64];
  ssize_t n = ::recv(server.fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "from .1");
  EXPECT_LT(::recv(server.fd, buf, sizeof buf, MSG_DONTWAIT), 0);
}

TEST(KernelSourceFilter, OnlySocketsOnThePortAreFiltered) {
  LoopbackUdp server("127.0.0.1"), other("127.0.0.1");
  SourceFilter f;
  ASSERT_TRUE(f.add("127.0.0.1"));
  EXPECT_EQ(attachKernelSourceFilter(f, server.port), 1);
  LoopbackUdp two("127.0.0.2");
  two.sendTo(other.port, "to the other socket");
  pollfd p{other.fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1);
}

// A dual-stack socket sees IPv4 peers as IPv4 packets (the program checks the IP version, not the socket's family)
// and IPv6 peers against the IPv6 networks.
TEST(KernelSourceFilter, DualStackSocketChecksEachFamily) {
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  int off = 0;
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_any;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    GTEST_SKIP() << "no IPv6";
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const uint16_t port = ntohs(a.sin6_port);
  SourceFilter f;
  ASSERT_TRUE(f.add("127.0.0.1"));
  ASSERT_TRUE(f.add("2001:db8::/32"));
  EXPECT_EQ(attachKernelSourceFilter(f, port), 1);
  int v6 = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_addr = in6addr_loopback;
  to.sin6_port = htons(port);
  const bool v6Sent = ::sendto(v6, "v6", 2, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 2;
  ::close(v6);
  LoopbackUdp one("127.0.0.1");
  one.sendTo(port, "v4");
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char buf[16];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n > 0 ? n : 0)), "v4") << "::1 was sent: " << v6Sent;
  EXPECT_LT(::recv(fd, buf, sizeof buf, MSG_DONTWAIT), 0);

  SourceFilter loopback6;
  ASSERT_TRUE(loopback6.add("::1"));
  EXPECT_EQ(attachKernelSourceFilter(loopback6, port), 1);
  v6 = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ::sendto(v6, "v6", 2, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(v6);
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  n = ::recv(fd, buf, sizeof buf, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n > 0 ? n : 0)), "v6");
  ::close(fd);
}

}  // namespace
}  // namespace rtcgate::sip

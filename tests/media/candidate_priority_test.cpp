// SPDX-License-Identifier: Apache-2.0
// Component test (issue 12): which host candidates a real BrowserLeg (real libnice) puts into its SDP, and in
// which priority order, on a multi-homed host: a LAN interface, a public (TEST-NET) interface and docker/bridge
// interfaces. The host is a network namespace this test creates (veth pairs, no route out); it needs root (or
// CAP_SYS_ADMIN and CAP_NET_ADMIN) and is skipped with a message otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>

#include "leg_harness.h"
#include "rtcgate/media/dtls_certificate.h"

namespace rtcgate::media {
namespace {

using namespace std::chrono_literals;

// The seed's host in miniature. lan0 is created first: libnice 0.1.21 ranks host candidates by the position of
// their address in the interface list, and this order is the one where it ranked the LAN address highest.
// IPv6 is off in the namespace so that no link-local address (which appears with link-up, at its own pace) shifts
// libnice's address positions: the priorities below are exact.
constexpr const char* kHostSetup =
    "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && "
    "ip link add lan0 type veth peer name docker0 && ip link add wan0 type veth peer name br-5f2a && "
    "ip addr add 10.20.0.5/24 dev lan0 && ip addr add 172.17.0.1/16 dev docker0 && "
    "ip addr add 203.0.113.5/24 dev wan0 && ip addr add 172.18.0.1/16 dev br-5f2a && "
    "ip link set lo up && ip link set lan0 up && ip link set docker0 up && ip link set wan0 up && "
    "ip link set br-5f2a up";

struct ChildResult {
  int status = -1;  // exit code; 77: namespaces not available
  std::string out;
};

// Runs `body` in a forked child inside a new network namespace set up by kHostSetup; returns what it printed.
ChildResult inNamespace(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    int code = 0;
    if (::unshare(CLONE_NEWNET) != 0) {
      out = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      code = 77;
    } else if (std::system(kHostSetup) != 0) {
      out = "setting up veth interfaces failed";
      code = 77;
    } else {
      out = body();
    }
    for (size_t off = 0; off < out.size();) {
      auto n = ::write(fds[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::_exit(code);  // no gtest/atexit teardown in the child
  }
  ::close(fds[1]);
  ChildResult r;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 1000) < 0 && errno != EINTR) break;
    auto n = ::read(fds[0], buf, sizeof buf);
    if (n == 0) break;
    if (n > 0) r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// One line per SDP candidate of a freshly gathered leg: "address priority".
std::string gatheredCandidates(const config::Config& cfg) {
  Metrics metrics;
  std::ostringstream out;
  {
    test::LegHarness leg("media-ns");
    MediaContext ctx;
    ctx.config = std::make_shared<const config::Config>(cfg);
    ctx.certificate = DtlsCertificate::generate();
    ctx.metrics = &metrics;  // no address override: the namespace's real interfaces through the real policy
    leg.create(LegRole::Offerer, std::move(ctx));
    leg.run([&] { leg.leg->start(); });
    if (!leg.waitFor([&] { return leg.local.has_value(); }, 10s)) return "no local description\n";
    for (auto& c : leg.local->candidates) out << c.type << " " << c.address << " " << c.priority << "\n";
  }
  return out.str();
}

config::Config namespaceConfig() {
  config::Config c;
  c.media.icePortMin = 0;
  c.media.icePortMax = 0;
  return c;
}

#define SKIP_WITHOUT_NAMESPACES(r) \
  if ((r).status == 77) GTEST_SKIP() << "network namespace not available: " << (r).out

// Default policy: docker0 and br-* are never offered; the public address comes first with the higher priority
// although libnice ranked the LAN one higher (RFC 8445 5.1.2.1; issue 12).
TEST(CandidatePriority, DefaultPolicyOffersPublicFirstAndNoBridges) {
  auto r = inNamespace([] { return gatheredCandidates(namespaceConfig()); });
  SKIP_WITHOUT_NAMESPACES(r);
  ASSERT_EQ(r.status, 0) << r.out;
  // Priority = type preference << 24 | local preference << 8 | (256 - component). libnice 0.1.21 gives host
  // candidates type preference 120 and local preference 0x2000 + the address's position in its interface list:
  // 0x782000FF for 203.0.113.5 (position 0) and 0x782001FF for 10.20.0.5 (position 1), the LAN one higher.
  // rtcgate sets 0x8000 in the local preference of every non-private address: 0x78A000FF = 2023751935.
  EXPECT_EQ(r.out,
            "host 203.0.113.5 2023751935\n"
            "host 10.20.0.5 2015363583\n")  // 0x782001FF, libnice's own value
      << r.out;
}

// The case: a user deny list (hide the LAN) must not bring docker0/br-* back.
TEST(CandidatePriority, UserDenyListKeepsBuiltInDenials) {
  auto cfg = namespaceConfig();
  cfg.ice.candidates.denyInterfaces = {"lan*"};
  auto r = inNamespace([&] { return gatheredCandidates(cfg); });
  SKIP_WITHOUT_NAMESPACES(r);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "host 203.0.113.5 2023751935\n") << r.out;
}

// A private address advertised as a public one through nat_1to1 ranks with the public ones; a built-in denial
// lifted by name (docker0) is offered, the other bridge (br-5f2a) still is not.
TEST(CandidatePriority, Nat1to1AdvertisedAddressIsPreferred) {
  auto cfg = namespaceConfig();
  cfg.ice.candidates.denyInterfaces = {"wan*"};
  cfg.ice.candidates.nat1to1 = {{"10.20.0.5", "198.51.100.7"}};
  cfg.ice.candidates.liftBuiltinDenials = {"docker0"};
  auto r = inNamespace([&] { return gatheredCandidates(cfg); });
  SKIP_WITHOUT_NAMESPACES(r);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out,
            "host 198.51.100.7 2023752191\n"  // 0x78A001FF: 10.20.0.5 (position 1) advertised as public
            "host 172.17.0.1 2015364351\n")   // 0x782004FF: docker0 lifted by name, private, position 4
      << r.out;
}

}  // namespace
}  // namespace rtcgate::media

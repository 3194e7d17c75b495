// SPDX-License-Identifier: Apache-2.0
// coturn (`turnserver`) on 127.0.0.1, started and stopped by the test (by PID), for the media component tests.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "rtcgate/config/config.h"
#include "subprocess.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate::media::test {

// True once a STUN Binding request to 127.0.0.1:port is answered.
inline bool stunAnswers(uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  uint8_t req[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = false;
  while (!ok && std::chrono::steady_clock::now() < deadline) {
    ::sendto(fd, req, sizeof(req), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      uint8_t buf[512];
      ok = ::recv(fd, buf, sizeof(buf), 0) >= 20 && buf[0] == 0x01 && buf[1] == 0x01;
    }
  }
  ::close(fd);
  return ok;
}

class Coturn {
public:
  // relayIp: where coturn allocates relays; deniedPeer: a peer address coturn refuses to relay to (empty: none).
  // port 0: a free one. extra: more turnserver options (e.g. --max-allocate-lifetime).
  Coturn(const std::string& relayIp, const std::string& deniedPeer, uint16_t port = 0,
         std::vector<std::string> extra = {})
      : port_(port != 0 ? port : rtcgate::test::freePort()), relayIp_(relayIp), deniedPeer_(deniedPeer),
        extra_(std::move(extra)) {
    start();
  }
  uint16_t port() const { return port_; }
  const std::string& secret() const { return secret_; }
  // This server as an ice.turn_servers entry (TURN REST credentials from its shared secret).
  config::TurnServer entry(config::TurnTransport transport = config::TurnTransport::Udp) const {
    config::TurnServer ts;
    ts.host = "127.0.0.1";
    ts.port = port_;
    ts.transport = transport;
    ts.sharedSecret = Secret(secret_);
    return ts;
  }
  bool ready() { return stunAnswers(port_, std::chrono::seconds(5)); }
  void stop() { proc_->stop(); }
  // Again on the same port, with none of the old allocations (a restarted or failed-over TURN server).
  void restart() {
    proc_->stop();
    start();
  }
  std::string log() const {
    std::ifstream in(dir_.path() + "/turn.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

private:
  void start() {
    EXPECT_TRUE(std::filesystem::exists("/usr/bin/turnserver")) << "coturn (turnserver) is required";
    std::vector<std::string> argv{
        "/usr/bin/turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=" + relayIp_,
        "--listening-port=" + std::to_string(port_), "--use-auth-secret", "--static-auth-secret=" + secret_,
        "--realm=rtcgate.test", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
        "--min-port=50000", "--max-port=50999", "--log-file=" + dir_.path() + "/turn.log", "--simple-log",
        "--no-stdout-log", "--verbose", "--pidfile=" + dir_.path() + "/turn.pid",
        deniedPeer_.empty() ? "-v" : "--denied-peer-ip=" + deniedPeer_};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    proc_ = std::make_unique<Subprocess>(argv, false);
  }

  rtcgate::test::TempDir dir_;
  uint16_t port_;
  std::string relayIp_, deniedPeer_;
  std::vector<std::string> extra_;
  std::string secret_ = "rtcgate-test-only-secret";
  std::unique_ptr<Subprocess> proc_;
};

}  // namespace rtcgate::media::test

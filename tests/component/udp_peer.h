// SPDX-License-Identifier: Apache-2.0
// A UDP SIP peer on loopback for component tests against the real daemon.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace rtcgate::test {

// A UDP socket on localIp:0 (127.0.0.1: the allowed upstream source) talking to the daemon's SIP port.
class UdpPeer {
public:
  explicit UdpPeer(uint16_t daemonPort, const char* localIp = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, localIp, &local.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
    socklen_t len = sizeof(local);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    port_ = ntohs(local.sin_port);
    to_.sin_family = AF_INET;
    to_.sin_port = htons(daemonPort);
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~UdpPeer() { ::close(fd_); }
  UdpPeer(const UdpPeer&) = delete;
  UdpPeer& operator=(const UdpPeer&) = delete;
  uint16_t port() const { return port_; }
  void send(const std::string& bytes) {
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof(to_));
  }
  // To another port on 127.0.0.1 (answers from a peer playing a server).
  void sendTo(uint16_t port, const std::string& bytes) {
    sockaddr_in to = to_;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  }
  // The next datagram within `timeout`, or empty.
  std::string receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

private:
  int fd_ = -1;
  uint16_t port_ = 0;
  sockaddr_in to_{};
};

inline int statusOf(const std::string& response) {
  if (response.rfind("SIP/2.0 ", 0) != 0 || response.size() < 11) return 0;
  return std::atoi(response.substr(8, 3).c_str());
}

// An OPTIONS from 127.0.0.1:port, Call-ID "torture-fence-<n>": a legitimate request whose 200 shows the daemon
// serves, and, sent after another message on the same socket, that the daemon is done with that one.
inline std::string optionsRequest(uint16_t port, int n) {
  const std::string id = std::to_string(n);
  return "OPTIONS sip:fence@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(port) +
         ";branch=z9hG4bK-fence-" + id + "\r\nMax-Forwards: 70\r\nFrom: <sip:fence@127.0.0.1>;tag=fence" + id +
         "\r\nTo: <sip:fence@127.0.0.1>\r\nCall-ID: torture-fence-" + id + "\r\nCSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n";
}

}  // namespace rtcgate::test

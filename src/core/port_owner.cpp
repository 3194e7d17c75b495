// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/port_owner.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rtcgate {

namespace {

// The socket inode of a bound port, from /proc/net/{udp,udp6,tcp,tcp6} ("sl local_address rem_address st ... inode").
// TCP: listening sockets only (st 0A), not the connections that share the port number.
std::string socketInode(PortProtocol protocol, uint16_t port) {
  const bool tcp = protocol == PortProtocol::Tcp;
  static const char* const kTcp[] = {"/proc/net/tcp", "/proc/net/tcp6"};
  static const char* const kUdp[] = {"/proc/net/udp", "/proc/net/udp6"};
  for (const char* file : tcp ? kTcp : kUdp) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    for (int i = 0; i < 100000 && std::getline(in, line); ++i) {
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
      auto colon = local.rfind(':');
      if (colon == std::string::npos || (tcp && st != "0A")) continue;
      if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port && inode != "0") return inode;
    }
  }
  return {};
}

}  // namespace

std::string portOwner(PortProtocol protocol, uint16_t port) {
  std::string inode = socketInode(protocol, port);
  if (inode.empty()) return {};
  const std::string target = "socket:[" + inode + "]";
  std::error_code ec;
  for (auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fdEc;
    for (auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fdEc)) {
      std::error_code linkEc;
      if (std::filesystem::read_symlink(fd.path(), linkEc).string() != target) continue;
      std::ifstream comm(proc.path() / "comm");
      std::string name;
      std::getline(comm, name);
      return "pid " + pid + " (" + name + ")";
    }
  }
  return {};
}

int tcpBindError(const IpAddress& address, uint16_t port) {
  int fd = ::socket(address.isV6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (address.isV6()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  sockaddr_storage sa{};
  socklen_t len = address.toSockaddr(port, sa);
  int error = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0 ? 0 : errno;
  ::close(fd);
  return error;
}

}  // namespace rtcgate

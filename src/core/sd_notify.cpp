// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace rtcgate {

bool sdNotify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path, len);
  // A leading '@' names a socket in the abstract namespace.
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  auto addrLen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), addrLen);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

namespace {

// A whole decimal number with nothing around it; 0 for anything else.
uint64_t parseDecimal(const char* text) {
  if (text == nullptr || text[0] == '\0') return 0;
  uint64_t value = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  return ec == std::errc() && ptr == end ? value : 0;
}

}  // namespace

std::chrono::microseconds sdWatchdogInterval() {
  const uint64_t usec = parseDecimal(std::getenv("WATCHDOG_USEC"));
  if (usec == 0) return std::chrono::microseconds{0};
  // WATCHDOG_PID names the process systemd watches; a child that inherited the variables must not ping for it.
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr && pid[0] != '\0' &&
                                                     parseDecimal(pid) != static_cast<uint64_t>(::getpid()))
    return std::chrono::microseconds{0};
  return std::chrono::microseconds{usec / 2};
}

}  // namespace rtcgate

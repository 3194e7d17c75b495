// SPDX-License-Identifier: Apache-2.0
#include "support/test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace rtcgate::test {

bool pumpUntil(EventLoop& loop, const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    // Non-blocking iteration plus a short poll bound keeps the deadline honest when nothing is ready.
    if (!g_main_context_iteration(loop.context(), FALSE)) {
      GPollFD none{};
      g_poll(&none, 0, 1);
    }
  }
  return true;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "rtcgate-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  auto p = path_ + "/" + name;
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  return p;
}

int httpGet(uint16_t port, const std::string& path, std::string* body, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string resp;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
    // Content-Length framing: stop once the whole body has arrived even if the server keeps the connection.
    auto headerEnd = resp.find("\r\n\r\n");
    if (headerEnd != std::string::npos) {
      auto cl = resp.find("content-length: ");
      if (cl == std::string::npos) cl = resp.find("Content-Length: ");
      if (cl != std::string::npos && cl < headerEnd) {
        size_t len = std::stoul(resp.substr(cl + 16));
        if (resp.size() >= headerEnd + 4 + len) break;
      }
    }
  }
  ::close(fd);
  if (resp.rfind("HTTP/1.1 ", 0) != 0) return -1;
  auto headerEnd = resp.find("\r\n\r\n");
  if (body != nullptr) *body = headerEnd == std::string::npos ? "" : resp.substr(headerEnd + 4);
  return std::stoi(resp.substr(9, 3));
}

}  // namespace rtcgate::test

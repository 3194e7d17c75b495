// SPDX-License-Identifier: Apache-2.0
// The real rtcgate binary as a child process, and the systemd notify socket it reports to (component tests).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/test_support.h"

extern char** environ;

namespace rtcgate::test {

using namespace std::chrono_literals;

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child process with stdout/stderr captured to files; killed (by PID) if a test leaves it running.
class Child {
public:
  Child(const std::vector<std::string>& args, const std::string& outDir, const std::vector<std::string>& extraEnv = {}) {
    outPath_ = outDir + "/stdout";
    errPath_ = outDir + "/stderr";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, outPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, errPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> envStore;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::string(*e).rfind("NOTIFY_SOCKET=", 0) != 0) envStore.emplace_back(*e);
    for (auto& e : extraEnv) envStore.push_back(e);
    std::vector<char*> envp;
    for (auto& e : envStore) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, args[0].c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    exitStatus_ = status;
    pid_ = -1;
    return false;
  }
  // Wait for exit up to `timeout`; returns the exit code, or -1 (timeout or killed by a signal).
  int wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(5ms);  // waitpid has no timeout; poll the child's state
    }
    return WIFEXITED(exitStatus_) ? WEXITSTATUS(exitStatus_) : -1;
  }
  std::string out() const { return readFile(outPath_); }
  std::string err() const { return readFile(errPath_); }

private:
  pid_t pid_ = -1;
  int exitStatus_ = 0;
  std::string outPath_, errPath_;
};

// The systemd side of sd_notify: a datagram socket the daemon reports to.
class NotifySocket {
public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) ADD_FAILURE() << "bind " << path;
  }
  ~NotifySocket() { ::close(fd_); }
  std::string env() const { return "NOTIFY_SOCKET=" + path_; }
  // Next message containing `what`, skipping others; empty on timeout.
  std::string waitFor(const std::string& what, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[1024];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) continue;
      std::string msg(buf, static_cast<size_t>(n));
      if (msg.find(what) != std::string::npos) return msg;
    }
    return {};
  }

private:
  std::string path_;
  int fd_;
};

inline uint16_t portFrom(const std::string& status, const std::string& key) {
  auto at = status.find(key + "=127.0.0.1:");
  if (at == std::string::npos) return 0;
  return static_cast<uint16_t>(std::stoi(status.substr(at + key.size() + 11)));
}
inline uint16_t adminPortFrom(const std::string& status) { return portFrom(status, "admin"); }

// The daemon on `config` in a directory of its own, READY awaited, its ports read from the READY status; stopped
// with SIGTERM (exit 0 expected) when the object goes away.
class Rtcgate {
public:
  explicit Rtcgate(const std::string& config)
      : notify_(dir_.path() + "/notify.sock"),
        child_({RTCGATE_BINARY, "--config", dir_.write("rtcgate.yaml", config)}, dir_.path(), {notify_.env()}) {
    const auto ready = notify_.waitFor("READY=1");
    sip = portFrom(ready, "sip");
    wss = portFrom(ready, "wss");
    admin = adminPortFrom(ready);
  }
  ~Rtcgate() {
    if (!child_.running()) return;
    ::kill(child_.pid(), SIGTERM);
    EXPECT_EQ(child_.wait(8s), 0) << child_.err();
  }
  Rtcgate(const Rtcgate&) = delete;
  Rtcgate& operator=(const Rtcgate&) = delete;
  pid_t pid() const { return child_.pid(); }
  bool running() { return child_.running(); }
  std::string err() const { return child_.err(); }
  const TempDir& dir() const { return dir_; }
  NotifySocket& notify() { return notify_; }
  uint16_t sip = 0, wss = 0, admin = 0;  // 0 when not ready, or not configured

private:
  TempDir dir_;
  NotifySocket notify_;
  Child child_;
};

// What a process holds, from /proc: resident memory, open descriptors, and the local ports of its sockets
// ("udp:5060", "tcp:8443" for listening TCP sockets). Read before and after abuse to see that it all went back.
struct Footprint {
  long rssKb = -1;
  size_t fds = 0;
  std::set<std::string> ports;
};

inline long rssKbOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Socket inodes of `pid`, from the /proc/PID/fd links ("socket:[12345]").
inline std::set<std::string> socketInodesOf(pid_t pid, size_t* fdCount) {
  std::set<std::string> inodes;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  *fdCount = 0;
  for (int fd = 0; fd < 65536; ++fd) {
    char target[128];
    const std::string link = dir + "/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n < 0) continue;
    ++*fdCount;
    std::string t(target, static_cast<size_t>(n));
    if (t.rfind("socket:[", 0) == 0) inodes.insert(t.substr(8, t.size() - 9));
  }
  return inodes;
}

inline Footprint footprintOf(pid_t pid) {
  Footprint f;
  f.rssKb = rssKbOf(pid);
  const auto inodes = socketInodesOf(pid, &f.fds);
  for (const char* proto : {"udp", "tcp", "udp6", "tcp6"}) {
    std::ifstream in(std::string("/proc/net/") + proto);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (inodes.count(inode) == 0) continue;
      const bool tcp = proto[0] == 't';
      if (tcp && state != "0A") continue;  // TCP: listening sockets only; connections come and go
      f.ports.insert(std::string(tcp ? "tcp:" : "udp:") +
                     std::to_string(std::stoul(local.substr(local.find(':') + 1), nullptr, 16)));
    }
  }
  return f;
}

// Waits (bounded) for `pid`'s descriptors and bound ports to return to `baseline`, then checks its RSS grew by at
// most `rssToleranceKb`. Connections and transactions close asynchronously: the counts are awaited, not sampled.
inline void expectBackToBaseline(pid_t pid, const Footprint& baseline, long rssToleranceKb,
                                 std::chrono::milliseconds timeout = 10s) {
  Footprint now = footprintOf(pid);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while ((now.fds != baseline.fds || now.ports != baseline.ports) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // /proc has no change notification
    now = footprintOf(pid);
  }
  EXPECT_EQ(now.fds, baseline.fds) << "open descriptors";
  EXPECT_EQ(now.ports, baseline.ports) << "bound ports";
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan the daemon is the ASan build: freed memory sits in ASan's quarantine (256 MB by default) instead of
  // going back, so RSS says nothing about leaks there (LeakSanitizer and the release-build run do). Descriptors
  // and ports are still checked.
  (void)rssToleranceKb;
#else
  EXPECT_LE(now.rssKb - baseline.rssKb, rssToleranceKb) << "RSS " << baseline.rssKb << " kB -> " << now.rssKb << " kB";
#endif
  std::cout << "footprint: fds " << baseline.fds << " -> " << now.fds << ", ports " << baseline.ports.size() << " -> "
            << now.ports.size() << ", RSS " << baseline.rssKb << " kB -> " << now.rssKb << " kB\n";
}

}  // namespace rtcgate::test

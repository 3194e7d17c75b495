// SPDX-License-Identifier: Apache-2.0
#include "support/sipp_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace rtcgate::test {

SippProcess::SippProcess(const std::string& dir, const std::string& scenarioPath, std::vector<std::string> args)
    : dir_(dir) {
  std::vector<std::string> argv{"sipp", "-sf", scenarioPath, "-nostdin", "-trace_err", "-error_file",
                                dir + "/sipp_errors.log"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, (dir + "/sipp_stdout.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (dir + "/sipp_stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // SIPp writes its scenario logs next to the working directory's files: keep them in the test's temp dir.
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  if (posix_spawnp(&pid_, "sipp", &fa, nullptr, cargv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
}

SippProcess::~SippProcess() { stop(); }

bool SippProcess::exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  return true;
}

void SippProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100 && !exited(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

std::string SippProcess::output() const {
  std::ostringstream out;
  for (const char* f : {"/sipp_stdout.log", "/sipp_stderr.log", "/sipp_errors.log"}) {
    std::ifstream in(dir_ + f);
    out << "---- " << f << "\n" << in.rdbuf() << "\n";
  }
  return out.str();
}

namespace {
bool bindsUdpAndTcp(const char* address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, address, &sa.sin_addr);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  int t = socket(AF_INET, SOCK_STREAM, 0);
  bool ok = bind(u, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
            bind(t, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(t);
  close(u);
  return ok;
}
}  // namespace

uint16_t freePort(const char* address) {
  // Below the kernel's ephemeral range (32768-60999): a port the kernel hands to some other socket's bind(0) (a
  // daemon's, libnice's, Chromium's) between our check and SIPp's bind would otherwise be lost, and a port number
  // is all SIPp can take. Tests running side by side pick at random, so they rarely meet either. RTP port ranges
  // of tests (freePortRangeBase) live in 15000-19999, never here: a pool in a parallel test binding the port
  // between this check and SIPp's bind made SIPp fail with EADDRINUSE (CI, 2026-11-30).
  static std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(10000, 12499);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto port = static_cast<uint16_t>(pick(rng));
    if (bindsUdpAndTcp(address, port)) return port;
  }
  return 0;
}

uint16_t freeMediaPort() {
  // SIPp binds its audio socket on -mp and its video socket on -mp + 2 (RTCP beside each): four ports, in a region
  // of their own so that one SIPp's media sockets never take another SIPp's signalling port.
  static std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(12500 / 4, 14996 / 4);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto port = static_cast<uint16_t>(pick(rng) * 4);
    bool ok = true;
    for (uint16_t i = 0; i < 4 && ok; ++i) ok = bindsUdpAndTcp("127.0.0.1", static_cast<uint16_t>(port + i));
    if (ok) return port;
  }
  return 0;
}

uint16_t freePortRangeBase(uint16_t span) {
  // Pools skip ports in use, so an overlap with another test's range costs nothing; only the region matters.
  static std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(15000 / 2, (19999 - span) / 2);
  return static_cast<uint16_t>(pick(rng) * 2);
}

bool udpPortBound(uint16_t port, const char* address) {
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, address, &sa.sin_addr);
  bool bound = bind(u, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0;
  close(u);
  return bound;
}

std::string scenario(const std::string& name) { return std::string(RTCGATE_SIP_SCENARIO_DIR) + "/" + name; }

std::vector<std::string> sippTracedRequestLines(const std::string& dir, const std::string& method) {
  std::vector<std::string> lines;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().string().find("_messages.log") == std::string::npos) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);)
      if (line.rfind(method + " ", 0) == 0) lines.push_back(line.substr(0, line.find_last_not_of("\r") + 1));
  }
  return lines;
}

}  // namespace rtcgate::test

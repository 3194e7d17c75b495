// SPDX-License-Identifier: Apache-2.0
#include "node_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "support/test_support.h"

extern char** environ;

namespace rtcgate::test {

NodeRun runNode(EventLoop& loop, const std::string& script, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout) {
  NodeRun run;
  TempDir dir;
  std::string outPath = dir.path() + "/out.txt";
  int fd = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return run;
  std::string jsDir = std::string(RTCGATE_SOURCE_DIR) + "/tests/js";
  std::vector<std::string> argvStore{"node", jsDir + "/" + script};
  argvStore.insert(argvStore.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argvStore) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, 1);
  posix_spawn_file_actions_adddup2(&actions, fd, 2);
  posix_spawn_file_actions_addchdir_np(&actions, jsDir.c_str());
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "node", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fd);
  if (rc != 0) {
    run.output = "cannot start node";
    return run;
  }
  int status = 0;
  bool exited = pumpUntil(loop, [&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  } else if (WIFEXITED(status)) {
    run.exitCode = WEXITSTATUS(status);
  }
  std::ifstream in(outPath);
  std::stringstream ss;
  ss << in.rdbuf();
  run.output = ss.str();
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("RESULT ", 0) != 0) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    run.results[line.substr(7, eq - 7)] = line.substr(eq + 1);
  }
  return run;
}

}  // namespace rtcgate::test

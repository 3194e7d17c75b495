// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rtcgate::test {

// A SIPp run (Debian sip-tester, binary `sipp`) as a child process: output captured to files in `dir`, always
// bounded (the caller passes -timeout/-m) and stopped by PID on destruction.
class SippProcess {
public:
  SippProcess(const std::string& dir, const std::string& scenario, std::vector<std::string> args);
  ~SippProcess();
  SippProcess(const SippProcess&) = delete;
  SippProcess& operator=(const SippProcess&) = delete;

  bool started() const { return pid_ > 0; }
  bool exited();  // non-blocking
  int exitCode() const { return exitCode_; }
  // stdout + stderr + the scenario error log, for assertion messages.
  std::string output() const;
  void stop();

private:
  std::string dir_;
  pid_t pid_ = -1;
  int exitCode_ = -1;
};

// A port free for both UDP and TCP on `address` at the time of the call.
uint16_t freePort(const char* address = "127.0.0.1");
// A first port of four free ones for SIPp's -mp (audio and video, RTP and RTCP), in a region of its own.
uint16_t freeMediaPort();
// An even first port of a range of `span` ports for an RTP port pool, in a region freePort() never uses.
uint16_t freePortRangeBase(uint16_t span);
// True when something has bound UDP `port` on `address` (SIPp is listening).
bool udpPortBound(uint16_t port, const char* address = "127.0.0.1");
// Path of a scenario in tests/sip/scenarios (SIPp scenarios shared by every suite).
std::string scenario(const std::string& name);
// The request lines starting with `method` + " " that SIPp run with -trace_msg in `dir` logged, in order: what a
// UAS scenario received ("INVITE sip:5000@127.0.0.1:5060 SIP/2.0").
std::vector<std::string> sippTracedRequestLines(const std::string& dir, const std::string& method);

}  // namespace rtcgate::test

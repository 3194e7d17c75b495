// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "load_options.h"
#include "media_flow.h"

namespace rtcgate::load {

// CPU time (user + system) and resident memory of another process, from /proc/PID/stat and /proc/PID/status.
struct ProcessSample {
  bool ok = false;
  double cpuS = 0;
  long rssKb = 0;
};
ProcessSample sampleProcess(pid_t pid);

// Everything the JSON report and the summary hold (tools/load/README.md describes each figure).
struct LoadResult {
  uint64_t attempted = 0, established = 0;
  std::map<std::string, uint64_t> failed;  // reason → calls
  std::vector<double> setupMs;
  DirectionTotals toGenesys, toBrowser;
  uint64_t unexpectedPackets = 0;
  // Agents' re-REGISTERs (RFC 3261 10.2.4): answered 2xx, and failed by reason (register_<code>, ...).
  uint64_t registrationsRefreshed = 0;
  std::map<std::string, uint64_t> refreshFailed;
  // The Genesys side's UDP transactions (RFC 3261 17): requests and 2xx it sent again (Timers A/E, 13.3.1.4), and
  // requests rtcgate sent again that were answered with the last response.
  uint64_t genesysRetransmissionsSent = 0, genesysRequestsRepeated = 0;
  // RFC 3550 6.4.1 round-trip time to rtcgate each side measured from rtcgate's RTCP, the last one of each call
  // that had one: the browser legs over SRTCP (BrowserLeg's own reports), the Genesys side over plain RTCP.
  std::vector<double> browserRttMs, genesysRttMs;  // RTP that arrived outside a call's media phase
  int maxConcurrent = 0;
  // Codec of each established call's legs ("opus", "pcmu", "pcma" → calls): transcoded or passthrough.
  std::map<std::string, uint64_t> browserCodecs, genesysCodecs;
  double generatorCpuS = 0, wallS = 0;
  // How late the generator's own send ticks ran against their 20 ms schedule (one sample per tick): when this
  // grows, the generator or the machine is the bottleneck, not rtcgate.
  std::vector<float> tickLatenessMs;
  // Ticks the pacer skipped after a stall of the generator's loop longer than its catch-up (their packets were
  // never sent, so they are not loss): non-zero means the generator, not rtcgate, was the limit.
  uint64_t ticksSkipped = 0;
  // --cpu-of: the target over the steady window (from the target concurrency reached to the ramp's end).
  pid_t targetPid = 0;
  double targetCpuS = 0, callSeconds = 0, steadyS = 0;
  long rssKbStart = 0, rssKbPeak = 0;
};

// Nearest-rank percentile (0 for an empty list); sorts `v`.
double percentile(std::vector<double>& v, double p);
std::string reportJson(LoadResult& r, const LoadOptions& o);
std::string summaryText(LoadResult& r);

}  // namespace rtcgate::load

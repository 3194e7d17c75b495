// SPDX-License-Identifier: Apache-2.0
#include "load_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace rtcgate::load {
namespace {

std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

std::vector<double> toDouble(const std::vector<float>& v) { return {v.begin(), v.end()}; }

std::string directionJson(DirectionTotals& d) {
  const uint64_t lost = d.packetsSent > d.packetsReceived ? d.packetsSent - d.packetsReceived : 0;
  auto latency = toDouble(d.addedLatencyMs);
  auto jitter = toDouble(d.jitterMs);
  std::ostringstream o;
  o << "{\"packets_sent\":" << d.packetsSent << ",\"packets_received\":" << d.packetsReceived
    << ",\"lost\":" << lost << ",\"late\":" << d.late << ",\"duplicates\":" << d.duplicates
    << ",\"loss_percent\":" << num(d.packetsSent == 0 ? 0.0 : 100.0 * static_cast<double>(lost) / static_cast<double>(d.packetsSent))
    << ",\"jitter_ms_p99\":" << num(percentile(jitter, 99))
    << ",\"added_latency_ms\":{\"p50\":" << num(percentile(latency, 50)) << ",\"p99\":" << num(percentile(latency, 99))
    << ",\"max\":" << num(latency.empty() ? 0.0 : latency.back()) << "}}";
  return o.str();
}

}  // namespace

ProcessSample sampleProcess(pid_t pid) {
  ProcessSample s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (fields >> f); ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpuS = static_cast<double>(utime + stime) / tick;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) s.rssKb = std::stol(line.substr(6));
  s.ok = true;
  return s;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::string reportJson(LoadResult& r, const LoadOptions& o) {
  std::ostringstream j;
  j << "{\"calls\":{\"attempted\":" << r.attempted << ",\"established\":" << r.established << ",\"failed\":{";
  bool first = true;
  for (auto& [reason, n] : r.failed) {
    j << (first ? "" : ",") << quoted(reason) << ":" << n;
    first = false;
  }
  auto counts = [&](const std::map<std::string, uint64_t>& m) {
    std::string out = "{";
    for (auto& [name, n] : m) out += (out.size() > 1 ? "," : "") + quoted(name) + ":" + std::to_string(n);
    return out + "}";
  };
  j << "},\"max_concurrent\":" << r.maxConcurrent << ",\"codecs\":{\"browser\":" << counts(r.browserCodecs)
    << ",\"genesys\":" << counts(r.genesysCodecs) << "}}";
  j << ",\"setup_ms\":{\"p50\":" << num(percentile(r.setupMs, 50)) << ",\"p95\":" << num(percentile(r.setupMs, 95))
    << ",\"p99\":" << num(percentile(r.setupMs, 99)) << ",\"max\":" << num(r.setupMs.empty() ? 0.0 : r.setupMs.back())
    << "}";
  j << ",\"directions\":{\"to_genesys\":" << directionJson(r.toGenesys) << ",\"to_browser\":" << directionJson(r.toBrowser)
    << "}";
  j << ",\"unexpected_packets\":" << r.unexpectedPackets;
  j << ",\"registrations\":{\"refreshed\":" << r.registrationsRefreshed << ",\"refresh_failed\":"
    << counts(r.refreshFailed) << "}";
  auto rtt = [&](std::vector<double>& v) {
    return "{\"calls\":" + std::to_string(v.size()) + ",\"p50\":" + num(percentile(v, 50)) + ",\"p99\":" +
           num(percentile(v, 99)) + "}";
  };
  j << ",\"rtcp\":{\"browser_rtt_ms\":" << rtt(r.browserRttMs) << ",\"genesys_rtt_ms\":" << rtt(r.genesysRttMs) << "}";
  j << ",\"genesys\":{\"retransmissions_sent\":" << r.genesysRetransmissionsSent
    << ",\"requests_repeated_by_gateway\":" << r.genesysRequestsRepeated << "}";
  auto lateness = toDouble(r.tickLatenessMs);
  j << ",\"generator\":{\"cpu_s\":" << num(r.generatorCpuS) << ",\"wall_s\":" << num(r.wallS)
    << ",\"tick_lateness_ms\":{\"p50\":" << num(percentile(lateness, 50)) << ",\"p99\":" << num(percentile(lateness, 99))
    << ",\"max\":" << num(lateness.empty() ? 0.0 : lateness.back()) << "},\"ticks_skipped\":" << r.ticksSkipped << "}";
  j << ",\"target\":";
  if (r.targetPid == 0) {
    j << "null";
  } else {
    j << "{\"pid\":" << r.targetPid << ",\"cpu_s\":" << num(r.targetCpuS) << ",\"steady_s\":" << num(r.steadyS)
      << ",\"call_seconds\":" << num(r.callSeconds) << ",\"cpu_ms_per_call_second\":"
      << num(r.callSeconds > 0 ? 1000.0 * r.targetCpuS / r.callSeconds : 0.0) << ",\"rss_kb_start\":" << r.rssKbStart
      << ",\"rss_kb_peak\":" << r.rssKbPeak << ",\"rss_kb_per_call\":"
      << num(r.maxConcurrent > 0 ? static_cast<double>(r.rssKbPeak - r.rssKbStart) / r.maxConcurrent : 0.0) << "}";
  }
  j << ",\"config\":{\"wss\":" << quoted(o.wss) << ",\"direction\":"
    << quoted(o.direction == Direction::Inbound ? "inbound" : "outbound") << ",\"codec\":" << quoted(o.opus ? "opus" : "pcmu")
    << ",\"opus_complexity\":" << o.opusComplexity << ",\"agents\":" << o.agents << ",\"rate\":" << num(o.rate)
    << ",\"concurrency\":" << o.concurrency << ",\"hold_s\":" << num(o.holdS) << ",\"duration_s\":" << num(o.durationS)
    << ",\"calls\":" << o.maxCalls << ",\"late_ms\":" << num(o.lateMs) << ",\"answer_delay_ms\":" << o.answerDelayMs
    << "}}\n";
  return j.str();
}

std::string summaryText(LoadResult& r) {
  std::ostringstream s;
  s << "calls: " << r.attempted << " attempted, " << r.established << " established, max concurrent "
    << r.maxConcurrent << "\n";
  for (auto& [reason, n] : r.failed) s << "  failed " << reason << ": " << n << "\n";
  s << "setup ms: p50 " << num(percentile(r.setupMs, 50)) << " p95 " << num(percentile(r.setupMs, 95)) << " max "
    << num(r.setupMs.empty() ? 0.0 : r.setupMs.back()) << "\n";
  for (auto* d : {&r.toGenesys, &r.toBrowser}) {
    auto latency = toDouble(d->addedLatencyMs);
    s << (d == &r.toGenesys ? "to_genesys" : "to_browser") << ": sent " << d->packetsSent << " received "
      << d->packetsReceived << " late " << d->late << " latency ms p50 " << num(percentile(latency, 50)) << " p99 "
      << num(percentile(latency, 99)) << "\n";
  }
  s << "registrations refreshed " << r.registrationsRefreshed << ", genesys retransmissions sent "
    << r.genesysRetransmissionsSent << ", requests repeated by gateway " << r.genesysRequestsRepeated << "\n";
  for (auto& [reason, n] : r.refreshFailed) s << "  re-REGISTER failed " << reason << ": " << n << "\n";
  auto lateness = toDouble(r.tickLatenessMs);
  s << "generator cpu s " << num(r.generatorCpuS) << " wall s " << num(r.wallS) << " send tick lateness ms p99 "
    << num(percentile(lateness, 99)) << " ticks skipped " << r.ticksSkipped << "\n";
  if (r.targetPid != 0)
    s << "target cpu s " << num(r.targetCpuS) << " over " << num(r.callSeconds) << " call-seconds: "
      << num(r.callSeconds > 0 ? 1000.0 * r.targetCpuS / r.callSeconds : 0.0) << " ms per call-second, rss kb "
      << r.rssKbStart << " → " << r.rssKbPeak << "\n";
  return s.str();
}

}  // namespace rtcgate::load

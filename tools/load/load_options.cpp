// SPDX-License-Identifier: Apache-2.0
#include "load_options.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "rtcgate/core/address.h"

namespace rtcgate::load {
namespace {

bool toDouble(const char* s, double lo, double hi, double& out) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool toInt(const char* s, long lo, long hi, int& out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi) return false;
  out = static_cast<int>(v);
  return true;
}

// "IP:PORT" (an IPv4 address or a bare IPv6 one before the last colon), port 1..65535.
bool toIpPort(const std::string& s, std::string& ip, uint16_t& port) {
  const auto colon = s.rfind(':');
  int p = 0;
  if (colon == std::string::npos || !IpAddress::parse(s.substr(0, colon)).has_value() ||
      !toInt(s.substr(colon + 1).c_str(), 1, 65535, p))
    return false;
  ip = s.substr(0, colon);
  port = static_cast<uint16_t>(p);
  return true;
}

// One "%d"-family conversion and nothing else that printf would interpret.
bool validPattern(const std::string& p) {
  size_t conversions = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '%') continue;
    if (i + 1 < p.size() && p[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < p.size() && (p[j] == '0' || (p[j] >= '1' && p[j] <= '9'))) ++j;
    if (j >= p.size() || p[j] != 'd') return false;
    ++conversions;
    i = j;
  }
  return conversions == 1;
}

}  // namespace

std::string expandPattern(const std::string& pattern, int index) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), pattern.c_str(), index);  // validated by validPattern
  return buf;
}

const char* usageText() {
  return "usage: rtcgate-load --wss wss://IP:PORT/ --genesys-listen IP:PORT --password P [options]\n"
         "  --sip-domain D --agents N --agent-pattern agent%04d --dn-pattern %04d --dial-pattern %04d\n"
         "  --direction outbound|inbound --codec opus|pcmu --opus-complexity K --answer-delay-ms MS\n"
         "  --rate R --concurrency C --hold S --duration S --calls N --late-ms MS --setup-timeout-ms MS\n"
         "  --register-timeout-ms MS --wait-dns auto|yes|no --origin URL --report FILE --cpu-of PID --verbose\n"
         "  --inbound-via IP:PORT (inbound INVITEs to this proxy for sip:<agent>@<sip domain>, not to the DN)\n"
         "  --wait-dns: wait for rtcgate to register every agent's DN at the Genesys side before calling\n"
         "    (auto: inbound runs without --inbound-via, which need the DN's Contact; an anchor registers no DNs)\n";
}

bool waitsForDns(const LoadOptions& o) {
  return o.waitDns == WaitDns::Yes ||
         (o.waitDns == WaitDns::Auto && o.direction == Direction::Inbound && o.inboundViaPort == 0);
}

bool parseOptions(int argc, char** argv, LoadOptions& o, std::string& error) {
  bool haveGenesys = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view name = argv[i];
    if (name == "--help" || name == "-h") {
      error = "help";
      return false;
    }
    if (name == "--verbose") {
      o.verbose = true;
      continue;
    }
    if (i + 1 >= argc) {
      error = std::string(name) + " needs a value";
      return false;
    }
    const char* v = argv[++i];
    bool ok = true;
    if (name == "--wss") o.wss = v;
    else if (name == "--sip-domain") o.sipDomain = v;
    else if (name == "--origin") o.origin = v;
    else if (name == "--agents") ok = toInt(v, 1, 100000, o.agents);
    else if (name == "--agent-pattern") { o.agentPattern = v; ok = validPattern(o.agentPattern); }
    else if (name == "--dn-pattern") { o.dnPattern = v; ok = validPattern(o.dnPattern); }
    else if (name == "--dial-pattern") { o.dialPattern = v; ok = validPattern(o.dialPattern); }
    else if (name == "--password") o.password = v;
    else if (name == "--genesys-listen") ok = haveGenesys = toIpPort(v, o.genesysIp, o.genesysPort);
    else if (name == "--inbound-via") ok = toIpPort(v, o.inboundViaIp, o.inboundViaPort);
    else if (name == "--answer-delay-ms") ok = toInt(v, 0, 60000, o.answerDelayMs);
    else if (name == "--direction") {
      std::string_view d = v;
      ok = d == "outbound" || d == "inbound";
      o.direction = d == "inbound" ? Direction::Inbound : Direction::Outbound;
    } else if (name == "--codec") {
      std::string_view c = v;
      ok = c == "opus" || c == "pcmu";
      o.opus = c == "opus";
    } else if (name == "--opus-complexity") ok = toInt(v, 0, 10, o.opusComplexity);
    else if (name == "--rate") ok = toDouble(v, 0.01, 10000, o.rate);
    else if (name == "--concurrency") ok = toInt(v, 1, 100000, o.concurrency);
    else if (name == "--hold") ok = toDouble(v, 0.1, 86400, o.holdS);
    else if (name == "--duration") ok = toDouble(v, 0.1, 86400 * 7, o.durationS);
    else if (name == "--calls") ok = toInt(v, 0, 100000000, o.maxCalls);
    else if (name == "--late-ms") ok = toDouble(v, 0, 60000, o.lateMs);
    else if (name == "--setup-timeout-ms") ok = toInt(v, 100, 600000, o.setupTimeoutMs);
    else if (name == "--register-timeout-ms") ok = toInt(v, 100, 600000, o.registerTimeoutMs);
    else if (name == "--wait-dns") {
      std::string_view w = v;
      ok = w == "auto" || w == "yes" || w == "no";
      o.waitDns = w == "yes" ? WaitDns::Yes : w == "no" ? WaitDns::No : WaitDns::Auto;
    } else if (name == "--report") o.reportPath = v;
    else if (name == "--cpu-of") ok = toInt(v, 1, 1 << 30, o.cpuOfPid);
    else {
      error = "unknown option " + std::string(name);
      return false;
    }
    if (!ok) {
      error = "bad value for " + std::string(name) + ": " + v;
      return false;
    }
  }
  // wss://HOST:PORT/...
  const std::string_view scheme = "wss://";
  if (o.wss.rfind(scheme, 0) != 0 && o.wss.rfind("ws://", 0) != 0) {
    error = "--wss wss://IP:PORT/ is required";
    return false;
  }
  std::string rest = o.wss.substr(o.wss.find("//") + 2);
  std::string hostPort = rest.substr(0, rest.find('/'));
  auto colon = hostPort.rfind(':');
  o.wssHost = colon == std::string::npos ? hostPort : hostPort.substr(0, colon);
  if (!IpAddress::parse(o.wssHost)) {
    error = "--wss: the host must be an IP address";
    return false;
  }
  if (o.sipDomain.empty()) o.sipDomain = o.wssHost;
  if (o.origin.empty()) o.origin = "https://" + hostPort;
  if (!haveGenesys) {
    error = "--genesys-listen IP:PORT is required";
    return false;
  }
  if (o.password.empty()) {
    error = "--password is required";
    return false;
  }
  if (o.concurrency > o.agents) {
    error = "--concurrency cannot exceed --agents (one call per agent at a time)";
    return false;
  }
  return true;
}

}  // namespace rtcgate::load

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

namespace rtcgate::load {

enum class Direction { Outbound, Inbound };
// Whether the run waits for rtcgate to register every agent's DN upstream before calling: inbound calls need the
// DN's Contact; outbound ones do not (an anchor such as Kamailio registers no DNs). Auto: inbound only.
enum class WaitDns { Auto, Yes, No };

// rtcgate-load's command line (tools/load/README.md). Thread: plain value.
struct LoadOptions {
  std::string wss;            // wss://IP:PORT/
  std::string wssHost;        // IP of --wss
  std::string sipDomain;      // default: wssHost
  std::string origin;         // Origin header of the WebSocket handshake; default https://<wss host:port>
  int agents = 1;
  std::string agentPattern = "agent%04d";
  std::string dnPattern = "%04d";    // the DN rtcgate registers for agent i (inbound calls go to it)
  std::string dialPattern = "%04d";  // what agent i dials (outbound)
  std::string password;
  std::string genesysIp = "127.0.0.1";
  uint16_t genesysPort = 0;
  int answerDelayMs = 0;
  Direction direction = Direction::Outbound;
  bool opus = false;          // --codec opus|pcmu
  int opusComplexity = 9;
  double rate = 1.0;          // new calls per second
  int concurrency = 1;
  double holdS = 10;
  double durationS = 30;
  int maxCalls = 0;           // --calls: stop starting calls after this many (0: no limit)
  double lateMs = 60;         // a packet whose added latency exceeds this counts as late
  int setupTimeoutMs = 15000;
  int registerTimeoutMs = 20000;
  WaitDns waitDns = WaitDns::Auto;
  // --inbound-via IP:PORT: inbound INVITEs go to this proxy with Request-URI sip:<agent user>@<sip domain> (a
  // registrar-proxy such as Kamailio that finds the agent itself) instead of to the DN's registered Contact.
  std::string inboundViaIp;
  uint16_t inboundViaPort = 0;
  bool verbose = false;       // per-call events (ICE/DTLS of every leg) at debug instead of warnings only
  std::string reportPath;
  int cpuOfPid = 0;
};

// Parses argv into `out`; false with a message in `error` for a usage error (exit code 2).
bool parseOptions(int argc, char** argv, LoadOptions& out, std::string& error);
// Expands a pattern with one %d-style conversion for the 1-based index i ("agent%04d", 7 → "agent0007").
std::string expandPattern(const std::string& pattern, int index);
const char* usageText();
// --wait-dns resolved against --direction.
bool waitsForDns(const LoadOptions& o);

}  // namespace rtcgate::load

// SPDX-License-Identifier: Apache-2.0
#include <random>

#include "doctor_checks.h"
#include "doctor_udp.h"
#include "rtcgate/signaling/sip_message.h"

namespace rtcgate::app::doctor {

namespace {

std::string randomToken() {
  static std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng());
}

std::string hostPort(const std::string& host, uint16_t port) {
  auto a = IpAddress::parse(host);
  return (a && a->isV6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

void checkUpstreamServers(const config::Config& cfg, const Options& options, Report& report) {
  auto local = IpAddress::parse(cfg.upstream.sipBind.address);
  if (!local) return;
  for (auto& server : cfg.upstream.servers) {
    const std::string target = hostPort(server.host, server.port);
    const std::string name = "upstream.servers " + target;
    if (server.transport != config::SipTransport::Udp) {
      report.warning("upstream", name + ": transport tcp not checked by the doctor (UDP only)");
      continue;
    }
    auto ip = IpAddress::parse(server.host);
    if (!ip) continue;  // the loader accepts numeric addresses only
    // From upstream.sip_bind's address (Genesys trusts sources by address) but another port: the daemon may be
    // running on the configured one.
    int err = 0;
    auto socket = UdpProbe::bind(*local, 0, err);
    if (!socket) {
      report.problem("upstream", name + ": cannot bind a UDP socket on upstream.sip_bind " + local->toString(),
                     "set upstream.sip_bind.address to an address of this host");
      continue;
    }
    const std::string via = hostPort(local->toString(), socket->localPort());
    const std::string callId = "doctor-" + randomToken();
    const std::string branch = "z9hG4bK-doctor-" + randomToken();
    const std::string text = "OPTIONS sip:" + target + " SIP/2.0\r\n" + "Via: SIP/2.0/UDP " + via + ";branch=" +
                             branch + ";rport\r\n" + "Max-Forwards: 70\r\n" + "From: <sip:rtcgate-doctor@" + via +
                             ">;tag=" + randomToken() + "\r\n" + "To: <sip:" + target + ">\r\n" + "Call-ID: " +
                             callId + "\r\n" + "CSeq: 1 OPTIONS\r\n" + "Contact: <sip:rtcgate-doctor@" + via +
                             ">\r\n" + "Accept: application/sdp\r\n" + "User-Agent: rtcgate-doctor\r\n" +
                             "Content-Length: 0\r\n\r\n";
    int status = 0;
    std::string statusLine;
    auto reply = socket->exchange(
        *ip, server.port, std::vector<uint8_t>(text.begin(), text.end()), options.timeout,
        [&](const std::vector<uint8_t>& b) {
          std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
          auto parsed = signaling::SipMessage::parse(s);
          if (parsed.status != signaling::SipMessage::ParseStatus::Ok || !parsed.message->isResponse() ||
              parsed.message->callId() != callId || parsed.message->status() < 200)
            return false;  // a provisional response keeps waiting (RFC 3261 17.1.2.2)
          status = parsed.message->status();
          statusLine = std::string(s.substr(0, s.find("\r\n")));
          return true;
        });
    if (!reply) {
      report.problem("upstream", name + ": no answer to OPTIONS within " + std::to_string(options.timeout.count()) +
                                     " ms from " + local->toString(),
                     "check that Genesys SIP Server listens on " + target + " and accepts SIP from " +
                         local->toString() + " (firewall, the trunk/DN's contact), or correct upstream.servers");
    } else if (status == 503) {
      report.problem("upstream", name + ": answered " + statusLine + ": not taking traffic",
                     "check the Genesys SIP Server's state (it refuses requests) before routing calls to it");
    } else {
      // Any final answer but 503 proves the server is there (405 or 404 to OPTIONS is fine), as upstream_monitor.
      report.ok("upstream", name + ": answered OPTIONS with " + statusLine);
    }
  }
}

}  // namespace rtcgate::app::doctor

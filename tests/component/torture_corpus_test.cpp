// SPDX-License-Identifier: Apache-2.0
// The RFC 4475 and RFC 5118 torture messages (tests/sip/torture) against the real daemon, over UDP from the allowed
// upstream source and over WSS, each outcome compared with tests/sip/torture/expectations.tsv (issue 11).
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "component/daemon_harness.h"
#include "component/udp_peer.h"
#include "support/sipp_process.h"
#include "support/test_support.h"

namespace rtcgate {
namespace {

using namespace std::chrono_literals;

const std::string kTortureDir = RTCGATE_SOURCE_DIR "/tests/sip/torture";

struct Expectation {
  std::string name;
  std::string kind;
  std::vector<std::string> udp, wss;  // acceptable outcomes: "NNN", "handled" or "drop"
  std::map<std::string, std::string> known;  // transport -> the outcome of a known deviation (README.md)
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, sep);) out.push_back(item);
  return out;
}

std::vector<Expectation> loadExpectations() {
  std::vector<Expectation> out;
  std::ifstream in(kTortureDir + "/expectations.tsv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, '\t');
    if (f.size() != 4 && f.size() != 5) {
      ADD_FAILURE() << "bad expectations line: " << line;
      continue;
    }
    Expectation e{f[0], f[1], split(f[2], '|'), split(f[3], '|'), {}};
    if (f.size() == 5)
      for (const auto& k : split(f[4], ',')) e.known[k.substr(0, k.find(':'))] = k.substr(k.find(':') + 1);
    out.push_back(std::move(e));
  }
  return out;
}

std::string messagePath(const Expectation& e) {
  return kTortureDir + (e.kind == "ipv6" ? "/rfc5118/" : "/rfc4475/") + e.name + ".dat";
}

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `outcome` is the final status answered ("404"), or "drop" when nothing was.
bool matches(const std::string& outcome, const std::vector<std::string>& accepted) {
  if (outcome.find('/') != std::string::npos) return false;  // "<code>/closed-1002": the connection was closed
  for (const auto& a : accepted) {
    if (a == outcome) return true;
    // Handled: the request got past the parser to its handler. 400/505/513 are the parser's answers.
    if (a == "handled" && outcome != "drop" && outcome != "400" && outcome != "505" && outcome != "513") return true;
  }
  return false;
}

const char* kConfigTemplate = R"(listeners:
  admin: {address: 127.0.0.1, port: 0}
  wss: [{address: 127.0.0.1, port: 0}]
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: UPSTREAM}]
agents: [{user: "1001", password: demo-1001, dn: "1001"}]
security: {allowed_origins: ["https://app.example"]}
media: {workers: 1}
)";

class TortureCorpus : public ::testing::Test {
protected:
  void SetUp() override {
    std::string config = kConfigTemplate;
    config.replace(config.find("UPSTREAM"), 8, std::to_string(test::freePort()));
    daemon_ = std::make_unique<test::Rtcgate>(config);
    sipPort_ = daemon_->sip;
    wssPort_ = daemon_->wss;
    ASSERT_NE(sipPort_, 0) << daemon_->err();
    ASSERT_NE(wssPort_, 0) << daemon_->err();
    expectations_ = loadExpectations();
    ASSERT_EQ(expectations_.size(), 61u) << "49 RFC 4475 + 12 RFC 5118 messages";
  }

  // Prints the per-message table and the score; returns the names whose outcome is neither expected nor the
  // known deviation. A known deviation is still a miss in the score.
  std::vector<std::string> score(const std::string& transport, const std::map<std::string, std::string>& outcomes) {
    std::vector<std::string> wrong;
    size_t exact = 0, rfc4475 = 0, rfc5118 = 0;
    for (const auto& e : expectations_) {
      auto it = outcomes.find(e.name);
      const std::string got = it != outcomes.end() ? it->second : "missing";
      const bool ok = matches(got, transport == "wss" ? e.wss : e.udp);
      auto known = e.known.find(transport);
      const char* note = ok ? "" : "  <-- MISS";
      if (ok) {
        ++exact;
        ++(e.kind == "ipv6" ? rfc5118 : rfc4475);
      } else if (known != e.known.end() && known->second == got) {
        note = "  <-- MISS (known deviation, tests/sip/torture/README.md)";
      } else {
        wrong.push_back(e.name + "=" + got);
      }
      std::cout << transport << ' ' << e.name << ": " << got << note << '\n';
    }
    std::cout << transport << " score: " << exact << '/' << expectations_.size() << " as expected (RFC 4475 "
              << rfc4475 << "/49, RFC 5118 " << rfc5118 << "/12)\n";
    return wrong;
  }

  std::unique_ptr<test::Rtcgate> daemon_;
  uint16_t sipPort_ = 0, wssPort_ = 0;
  std::vector<Expectation> expectations_;
};

// The value of the first header `name` (or its compact form) of a message, as received.
std::string headerOf(const std::string& message, const std::string& name, const std::string& compact) {
  for (size_t at = message.find("\r\n"); at != std::string::npos && at + 2 < message.size();
       at = message.find("\r\n", at + 2)) {
    const size_t colon = message.find(':', at + 2);
    const size_t eol = message.find("\r\n", at + 2);
    if (colon == std::string::npos || eol == std::string::npos || colon > eol) break;  // end of the headers
    std::string field = message.substr(at + 2, colon - at - 2);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.pop_back();
    if (::strcasecmp(field.c_str(), name.c_str()) == 0 || ::strcasecmp(field.c_str(), compact.c_str()) == 0) {
      std::string value = message.substr(colon + 1, eol - colon - 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
      return value;
    }
  }
  return {};
}

// Over UDP the answer goes where the top Via says (RFC 3261 18.2.2): the torture messages name hosts such as
// 192.0.2.2:5060 or TCP transports. A Via of ours is put on top, as a proxy in front of rtcgate would, so the
// answer comes back here; every byte of the message stays as it is below that line.
std::string withOurVia(const std::string& message, uint16_t port, int n) {
  const size_t eol = message.find("\r\n");
  if (eol == std::string::npos) return message;
  return message.substr(0, eol + 2) + "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(port) +
         ";branch=z9hG4bK-torture-" + std::to_string(n) + "\r\n" + message.substr(eol + 2);
}


// RFC 3261 17.1.1.3: the ACK for a non-2xx final answer to an INVITE, so that rtcgate stops retransmitting it.
std::string ackFor(const std::string& request, const std::string& response, uint16_t port, int n) {
  const std::string requestLine = request.substr(0, request.find("\r\n"));
  const size_t sp1 = requestLine.find(' '), sp2 = requestLine.rfind(' ');
  const std::string cseq = headerOf(response, "CSeq", "CSeq");
  return "ACK " + requestLine.substr(sp1 + 1, sp2 - sp1 - 1) + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
         std::to_string(port) + ";branch=z9hG4bK-torture-" + std::to_string(n) + "\r\nMax-Forwards: 70\r\nFrom: " +
         headerOf(response, "From", "f") + "\r\nTo: " + headerOf(response, "To", "t") + "\r\nCall-ID: " +
         headerOf(response, "Call-ID", "i") + "\r\nCSeq: " + cseq.substr(0, cseq.find(' ')) +
         " ACK\r\nContent-Length: 0\r\n\r\n";
}

// Sends one message and the fence; returns the final status answered to the message, or "drop".
std::string tryOverUdp(uint16_t daemonPort, const std::string& message, int n) {
  test::UdpPeer peer(daemonPort);
  const bool isResponse = message.rfind("SIP/2.0 ", 0) == 0;
  const std::string sent = isResponse ? message : withOurVia(message, peer.port(), n);
  peer.send(sent);
  peer.send(test::optionsRequest(peer.port(), n));
  const std::string fenceId = "torture-fence-" + std::to_string(n);
  bool fenced = false;
  int final = 0, provisional = 0;
  std::string finalResponse;
  // An INVITE's final answer may follow its 100 Trying after the fence's: wait for it, bounded.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline && !(fenced && (provisional == 0 || final != 0))) {
    const std::string got = peer.receive(200ms);
    if (got.empty()) continue;
    if (got.find(fenceId) != std::string::npos) {
      fenced = true;
      continue;
    }
    const int status = test::statusOf(got);
    if (status >= 200 && final == 0) {
      final = status;
      finalResponse = got;
    } else if (status >= 100 && status < 200) {
      provisional = status;
    }
  }
  if (!fenced) return "no-fence";
  if (final >= 300 && headerOf(finalResponse, "CSeq", "CSeq").find("INVITE") != std::string::npos)
    peer.send(ackFor(sent, finalResponse, peer.port(), n));
  if (final != 0) return std::to_string(final);
  return provisional != 0 ? std::to_string(provisional) + "-only" : "drop";
}

// RSS may grow by allocator caching and sofia's transaction memory still waiting for its timers; a leak per
// message of the corpus (61 of them, each a few kB of parsed headers) would exceed this.
constexpr long kRssToleranceKb = 2048;

TEST_F(TortureCorpus, OverUdpFromTheUpstream) {
  // Baseline after one exchange, so that lazily created state (first transaction, log buffers) is in it.
  ASSERT_EQ(tryOverUdp(sipPort_, test::optionsRequest(0, 999), 1000), "200");
  const auto baseline = test::footprintOf(daemon_->pid());
  std::map<std::string, std::string> outcomes;
  int n = 0;
  for (const auto& e : expectations_) outcomes[e.name] = tryOverUdp(sipPort_, readBytes(messagePath(e)), ++n);
  const auto missed = score("udp", outcomes);
  EXPECT_TRUE(missed.empty()) << ::testing::PrintToString(missed);
  EXPECT_TRUE(daemon_->running()) << daemon_->err();
  test::expectBackToBaseline(daemon_->pid(), baseline, kRssToleranceKb);
}

TEST_F(TortureCorpus, OverWssAsOneWebSocketMessageEach) {
  ASSERT_EQ(tryOverUdp(sipPort_, test::optionsRequest(0, 999), 1000), "200");
  const auto baseline = test::footprintOf(daemon_->pid());
  std::vector<std::string> args{RTCGATE_NODE, RTCGATE_SOURCE_DIR "/tests/js/signaling/torture_wss.mjs",
                                std::to_string(wssPort_)};
  for (const auto& e : expectations_) args.push_back(messagePath(e));
  test::TempDir jsDir;
  test::Child js(args, jsDir.path());
  ASSERT_EQ(js.wait(90s), 0) << js.out() << js.err();
  std::map<std::string, std::string> outcomes;
  std::istringstream lines(js.out());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("RESULT ", 0) != 0) continue;
    const size_t eq = line.find('=');
    const std::string name = line.substr(7, eq - 7), value = line.substr(eq + 1);
    const size_t slash = value.find('/');
    const std::string codes = value.substr(0, slash), connection = value.substr(slash + 1);
    // The final answer is the last code; "none" is no answer at all. RFC 7118: a WebSocket message holds one SIP
    // message, so a bad one is never a framing error: a closed connection is a miss whatever was answered.
    const size_t plus = codes.rfind('+');
    std::string outcome = codes == "none" ? "drop" : codes.substr(plus == std::string::npos ? 0 : plus + 1);
    outcomes[name] = connection == "open" ? outcome : outcome + "/" + connection;
  }
  const auto missed = score("wss", outcomes);
  EXPECT_TRUE(missed.empty()) << ::testing::PrintToString(missed);
  EXPECT_TRUE(daemon_->running()) << daemon_->err();
  test::expectBackToBaseline(daemon_->pid(), baseline, kRssToleranceKb);
}

}  // namespace
}  // namespace rtcgate

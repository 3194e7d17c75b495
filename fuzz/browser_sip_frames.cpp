// SPDX-License-Identifier: Apache-2.0
// Target (a): WebSocket text messages into the browser SIP endpoint, as the WSS server hands them over: sofia's
// parser, the endpoint's checks, digest authentication and the dialog layer. Each frame of the input goes first to
// a connection that never authenticated (parse, challenge, the Authorization parser) and then to one whose agent
// registered with a valid digest, so INVITE, ACK, BYE, re-INVITE, INFO and REFER reach the dialogs. Frames are
// separated by fuzz::kFrameSeparator; "$TOTAG" in a frame becomes the To-tag of rtcgate's answer to the last
// INVITE (random in the daemon), so a seed can carry a whole dialog: INVITE, ACK, INFO, re-INVITE, BYE.
// rtcgate has also sent the agent an INVITE (a call from Genesys) before the frames: "$CALLID", "$FROMTAG" and
// "$BRANCH" become its Call-ID, From-tag and Via branch, so the browser's answers (180, 200 with SDP, 486) and
// its requests in that dialog are fuzzed too.
#include <memory>
#include <string>

#include "fuzz_agent.h"
#include "fuzz_support.h"
#include "rtcgate/signaling/browser_dialogs.h"
#include "rtcgate/signaling/browser_sip_endpoint.h"
#include "rtcgate/signaling/digest_auth.h"

namespace {

using namespace rtcgate;
using namespace rtcgate::signaling;

constexpr ConnectionId kAnonymous = 1;
constexpr ConnectionId kAgent = 2;
constexpr const char* kIp = "192.0.2.10";

const char* kAnswer =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";

struct NullTransport : SipTransport {
  std::string last;
  bool send(ConnectionId, std::string message) override {
    last = std::move(message);
    return true;
  }
  void close(ConnectionId) override {}
};

std::string quoted(const std::string& text, const std::string& name) {
  auto at = text.find(name + "=\"");
  if (at == std::string::npos) return {};
  at += name.size() + 2;
  return text.substr(at, text.find('"', at) - at);
}

// The value after `prefix` up to the next ';', CR or '>' (a header parameter or value of a request we sent).
std::string after(const std::string& text, const std::string& prefix) {
  auto at = text.find(prefix);
  if (at == std::string::npos) return {};
  at += prefix.size();
  return text.substr(at, text.find_first_of(";\r>", at) - at);
}

void replaceAll(std::string& text, std::string_view what, const std::string& with) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
}

std::string registerRequest(uint32_t cseq, const std::string& authorization) {
  return "REGISTER sip:rtcgate.invalid SIP/2.0\r\n"
         "Via: SIP/2.0/WSS q8x2v7.invalid;branch=z9hG4bK" + std::to_string(cseq) + "\r\n"
         "Max-Forwards: 69\r\nTo: <sip:1001@rtcgate.invalid>\r\nFrom: <sip:1001@rtcgate.invalid>;tag=ft1\r\n"
         "Call-ID: fuzz-reg\r\nCSeq: " + std::to_string(cseq) + " REGISTER\r\n"
         "Contact: <sip:ab12cd34@q8x2v7.invalid;transport=ws>;+sip.ice;reg-id=1;"
         "+sip.instance=\"<urn:uuid:0f2c1d7e-0000-4000-8000-000000000001>\"\r\n"
         "Expires: 600\r\n" + authorization + "Content-Length: 0\r\n\r\n";
}

// Registers the agent on its connection the way JsSIP does: REGISTER, 401, REGISTER with the digest.
void authenticate(BrowserSipEndpoint& endpoint, NullTransport& transport) {
  endpoint.onFrame(kAgent, kIp, registerRequest(1, ""));
  auto nonce = quoted(transport.last, "nonce");
  const std::string uri = "sip:rtcgate.invalid";
  auto ha1 = digestHa1(DigestAlgorithm::Md5, fuzz::kAgentUser, "rtcgate", fuzz::kAgentPassword);
  auto response = digestResponse(DigestAlgorithm::Md5, ha1, nonce, "00000001", "cn0nce", "auth", "REGISTER", uri);
  endpoint.onFrame(kAgent, kIp,
                   registerRequest(2, "Authorization: Digest algorithm=MD5, username=\"1001\", realm=\"rtcgate\", "
                                      "nonce=\"" + nonce + "\", uri=\"" + uri + "\", response=\"" + response +
                                      "\", qop=auth, cnonce=\"cn0nce\", nc=00000001\r\n"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::silenceLogs();
  static const config::Config cfg = fuzz::oneAgentConfig();
  EventLoop loop{"control"};
  loop.adoptCurrentThread();
  Metrics metrics;
  NullTransport transport;
  Registrar registrar(loop);
  BrowserSipEndpoint endpoint(loop, cfg, transport, registrar, metrics);
  endpoint.dialogs().setReconnectGrace(std::chrono::milliseconds(0));
  std::vector<std::shared_ptr<BrowserDialog>> calls;
  // The session layer's part, reduced to answering at once: 200 with SDP, re-offers 200, transfers 202.
  endpoint.dialogs().setIncomingHandler([&calls](std::shared_ptr<BrowserDialog> d) {
    calls.push_back(d);
    DialogEvents ev;
    std::weak_ptr<BrowserDialog> weak = d;
    ev.onReoffer = [weak](const std::string&, bool) {
      if (auto call = weak.lock()) call->answerReoffer(200, "OK", kAnswer);
    };
    ev.onRefer = [weak](const ReferRequest&) {
      if (auto call = weak.lock()) call->answerRefer(202, "Accepted");
    };
    d->setEvents(ev);
    d->respond(200, "OK", kAnswer);
  });
  authenticate(endpoint, transport);
  std::shared_ptr<BrowserDialog> toAgent;
  if (auto bindings = registrar.lookup(fuzz::kAgentUser); !bindings.empty())
    toAgent = endpoint.dialogs().invite(bindings.front(), "7000", kAnswer, DialogEvents{});
  const std::string invite = transport.last;
  const std::string callId = after(invite, "Call-ID: "), fromTag = after(invite, ";tag="),
                    branch = after(invite, ";branch=");

  for (auto view : fuzz::splitFrames(fuzz::asText(data, size))) {
    std::string frame(view);
    replaceAll(frame, "$TOTAG", calls.empty() ? std::string() : calls.back()->localTag());
    replaceAll(frame, "$CALLID", callId);
    replaceAll(frame, "$FROMTAG", fromTag);
    replaceAll(frame, "$BRANCH", branch);
    endpoint.onFrame(kAnonymous, kIp, frame);
    endpoint.onFrame(kAgent, kIp, frame);
  }
  if (toAgent) toAgent->hangup();
  for (auto& call : calls) call->hangup();
  endpoint.onConnectionClosed(kAnonymous);
  endpoint.onConnectionClosed(kAgent);
  calls.clear();
  toAgent.reset();
  return 0;
}

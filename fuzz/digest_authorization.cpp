// SPDX-License-Identifier: Apache-2.0
// Target (b): the Authorization header of a browser request through sofia's parser, parseDigestParams and the
// agent authenticator (digest and Bearer tokens, nonce, uri and nonce-count checks). The input is the header's
// value (CRLF in it makes more headers). "$NONCE" in it becomes a nonce the authenticator really issued and
// "$RESPONSE" the right digest for agent 1001's password, so the fuzzer gets past the MAC to the replay rules.
// Invariant checked: one Digest Authorization is never accepted twice (nc must increase, RFC 7616 §3.4.5).
#include <cstdlib>
#include <string>

#include "fuzz_agent.h"
#include "fuzz_support.h"
#include "rtcgate/signaling/agent_authenticator.h"
#include "rtcgate/signaling/digest_auth.h"
#include "rtcgate/signaling/sip_message.h"

#include <sofia-sip/sip.h>

namespace {

using namespace rtcgate;
using namespace rtcgate::signaling;

config::Config makeConfig() {
  auto cfg = fuzz::oneAgentConfig();
  cfg.agentTokens.secret = Secret("fuzz-token-secret-fuzz-token-secret");
  return cfg;
}

std::string request(std::string_view authorization) {
  return "INVITE sip:5002@rtcgate.invalid SIP/2.0\r\n"
         "Via: SIP/2.0/WSS q8x2v7.invalid;branch=z9hG4bK77\r\nMax-Forwards: 70\r\n"
         "To: <sip:5002@rtcgate.invalid>\r\nFrom: <sip:1001@rtcgate.invalid>;tag=f1\r\n"
         "Call-ID: fuzz-auth\r\nCSeq: 2 INVITE\r\nAuthorization: " + std::string(authorization) +
         "\r\nContent-Length: 0\r\n\r\n";
}

void replaceAll(std::string& text, std::string_view what, std::string_view with) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
}

// The digest a client knowing agent 1001's password would send for the credentials as parsed.
std::string rightResponse(const SipMessage& m) {
  for (const msg_auth_t* au = m.sip()->sip_authorization; au != nullptr; au = au->au_next) {
    auto creds = parseDigestParams(au->au_params);
    if (!creds) continue;
    auto ha1 = digestHa1(creds->algorithm, creds->username, creds->realm, fuzz::kAgentPassword);
    return digestResponse(creds->algorithm, ha1, creds->nonce, creds->nc, creds->cnonce, creds->qop, m.method(),
                          creds->uri);
  }
  return {};
}

size_t digestHeaders(const SipMessage& m) {
  size_t n = 0;
  for (const msg_auth_t* au = m.sip()->sip_authorization; au != nullptr; au = au->au_next) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::silenceLogs();
  static const config::Config cfg = makeConfig();
  auto input = fuzz::asText(data, size);

  // Agent JWTs are also checked on their own (a Bearer value).
  (void)verifyAgentJwt(AgentJwtPolicy{cfg.agentTokens.secret.reveal(), "crm", 3600}, input, 1700000000);

  AgentAuthenticator auth(cfg, "fuzz-nonce-key");
  auth.setClockForTest(std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)));
  // A challenge first, as a browser gets it: its nonce is one the authenticator issued and remembers.
  auto bare = SipMessage::parse(request("Digest username=\"1001\""));
  if (!bare.message) std::abort();
  auto challenge = auth.authenticate(*bare.message, "192.0.2.10");
  std::string nonce;
  if (!challenge.challenges.empty()) {
    const auto& c = challenge.challenges.front();
    auto at = c.find("nonce=\"");
    if (at != std::string::npos) nonce = c.substr(at + 7, c.find('"', at + 7) - at - 7);
  }

  std::string text = request(input);
  replaceAll(text, "$NONCE", nonce);
  auto parsed = SipMessage::parse(text);
  if (!parsed.message || parsed.message->sip()->sip_authorization == nullptr) return 0;
  if (text.find("$RESPONSE") != std::string::npos) {
    replaceAll(text, "$RESPONSE", rightResponse(*parsed.message));
    parsed = SipMessage::parse(text);
    // The replacement can change what parses ("Basic $RESPONSE" becomes "Basic ", no header at all).
    if (!parsed.message || parsed.message->sip()->sip_authorization == nullptr) return 0;
  }
  for (const msg_auth_t* au = parsed.message->sip()->sip_authorization; au != nullptr; au = au->au_next)
    (void)parseDigestParams(au->au_params);

  auto first = auth.authenticate(*parsed.message, "192.0.2.10");
  auto again = auth.authenticate(*parsed.message, "192.0.2.10");
  const auto ok = AgentAuthenticator::Outcome::Kind::Authenticated;
  const char* scheme = parsed.message->sip()->sip_authorization->au_scheme;
  if (first.kind == ok && again.kind == ok && digestHeaders(*parsed.message) == 1 && scheme != nullptr &&
      strcasecmp(scheme, "Digest") == 0)
    std::abort();  // a replayed digest was accepted
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rtcgate/signaling/digest_auth.h"
#include "rtcgate/signaling/sip_message.h"

namespace rtcgate::load {

// The generator's SIP messages as text, both sides (SIP over WSS toward rtcgate's browser side, SIP/UDP as
// Genesys); parsing is rtcgate's SipMessage (sofia-sip's parser). Thread: any (pure functions).

std::string randomToken(size_t hexChars = 16);
std::string newBranch();  // "z9hG4bK" + random (RFC 3261 8.1.1.7)

// A request with Content-Length (and Content-Type when there is a body) added.
std::string formatRequest(std::string_view method, std::string_view uri, const std::vector<std::string>& headers,
                          std::string_view body = {}, std::string_view contentType = "application/sdp");
// A response to `req`: its Vias, From, Call-ID, CSeq, its To with `toTag` added when it has none (RFC 3261 8.2.6.2).
std::string formatResponse(const signaling::SipMessage& req, int code, std::string_view reason,
                           std::string_view toTag, const std::vector<std::string>& headers = {},
                           std::string_view body = {}, std::string_view contentType = "application/sdp");

// The URI inside a name-addr value ("<sip:a@b>;tag=x" → "sip:a@b"), or the value itself without parameters.
std::string uriOf(std::string_view nameAddr);
// The user part of a SIP URI ("sip:1001@host;x" → "1001").
std::string userOf(std::string_view uri);
// The first Contact's URI of a message, empty when there is none.
std::string contactUriOf(const signaling::SipMessage& msg);

// A dialog's route set (RFC 3261 12.1.1 UAS: Record-Route of the request as it is; 12.1.2 UAC: Record-Route of the
// 2xx in reverse), each entry a name-addr as received ("<sip:proxy;lr>").
std::vector<std::string> routeSetOf(const signaling::SipMessage& msg, bool uac);
// Where an in-dialog request goes (RFC 3261 12.2.1.1): with a loose-routing first hop (;lr) the Request-URI is the
// remote target and every route becomes a Route header; with a strict router the first route is the Request-URI
// and the remote target the last Route. `nextHop` is the URI the request is sent to (the first route, else the
// Request-URI).
struct InDialogTarget {
  std::string requestUri, nextHop;
  std::vector<std::string> routeHeaders;  // "Route: <...>" lines
};
InDialogTarget inDialogTarget(const std::vector<std::string>& routeSet, const std::string& remoteTarget);

// The registration a 2xx to REGISTER granted for `contactUri` (RFC 3261 10.2.4): that Contact's expires param,
// else the Expires header, else what was asked for; seconds.
uint32_t grantedExpiresS(const signaling::SipMessage& ok, std::string_view contactUri, uint32_t requested);
// When to refresh a registration granted for `expiresS` seconds: at half of it, at least 1 s (the agent refreshes
// well before expiry, as JsSIP does).
uint32_t refreshAfterS(uint32_t expiresS);

// A digest challenge of a 401/407 (WWW- or Proxy-Authenticate), MD5 preferred when several are offered: the
// generator's agents answer like JsSIP (RFC 8760 allows either).
struct DigestChallenge {
  std::string realm, nonce, opaque, qop;
  signaling::DigestAlgorithm algorithm = signaling::DigestAlgorithm::Md5;
  bool proxy = false;  // 407: answer with Proxy-Authorization
};
std::optional<DigestChallenge> pickChallenge(const signaling::SipMessage& response);
// "Authorization: Digest ..." (or Proxy-Authorization) header line without CRLF, qop=auth when offered.
std::string authorizationHeader(const DigestChallenge& c, std::string_view user, std::string_view password,
                                std::string_view method, std::string_view uri, unsigned nonceCount);

}  // namespace rtcgate::load

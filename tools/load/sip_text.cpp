// SPDX-License-Identifier: Apache-2.0
#include "sip_text.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace rtcgate::load {
namespace {

std::string unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return std::string(v);
}

}  // namespace

std::string randomToken(size_t hexChars) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(hexChars);
  for (size_t i = 0; i < hexChars; ++i) out.push_back(kHex[rng() & 15]);
  return out;
}

std::string newBranch() { return "z9hG4bK" + randomToken(20); }

std::string formatRequest(std::string_view method, std::string_view uri, const std::vector<std::string>& headers,
                          std::string_view body, std::string_view contentType) {
  std::string out;
  out.reserve(512 + body.size());
  out.append(method).append(" ").append(uri).append(" SIP/2.0\r\n");
  for (const auto& h : headers) out.append(h).append("\r\n");
  if (!body.empty()) out.append("Content-Type: ").append(contentType).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return out;
}

std::string formatResponse(const signaling::SipMessage& req, int code, std::string_view reason,
                           std::string_view toTag, const std::vector<std::string>& headers, std::string_view body,
                           std::string_view contentType) {
  sip_t* sip = req.sip();
  std::string out = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  out += signaling::SipMessage::encodeAll(reinterpret_cast<const sip_header_t*>(sip->sip_via));
  out += signaling::SipMessage::encode(reinterpret_cast<const sip_header_t*>(sip->sip_from));
  std::string to = "To: " + signaling::SipMessage::value(reinterpret_cast<const sip_header_t*>(sip->sip_to));
  if (sip->sip_to->a_tag == nullptr && !toTag.empty()) to.append(";tag=").append(toTag);
  out += to + "\r\n";
  out += signaling::SipMessage::encode(reinterpret_cast<const sip_header_t*>(sip->sip_call_id));
  out += signaling::SipMessage::encode(reinterpret_cast<const sip_header_t*>(sip->sip_cseq));
  // RFC 3261 12.1.1: a response that may create a dialog carries the request's Record-Route, so the UAC builds the
  // same route set (in reverse).
  if (code > 100 && code < 300 && sip->sip_record_route != nullptr)
    out += signaling::SipMessage::encodeAll(reinterpret_cast<const sip_header_t*>(sip->sip_record_route));
  for (const auto& h : headers) out.append(h).append("\r\n");
  if (!body.empty()) out.append("Content-Type: ").append(contentType).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return out;
}

std::string uriOf(std::string_view nameAddr) {
  auto open = nameAddr.find('<');
  if (open != std::string_view::npos) {
    auto close = nameAddr.find('>', open);
    return std::string(nameAddr.substr(open + 1, close == std::string_view::npos ? close : close - open - 1));
  }
  return std::string(nameAddr.substr(0, nameAddr.find(';')));
}

std::string userOf(std::string_view uri) {
  auto colon = uri.find(':');
  if (colon == std::string_view::npos) return {};
  auto at = uri.find('@', colon);
  if (at == std::string_view::npos) return {};
  return std::string(uri.substr(colon + 1, at - colon - 1));
}

std::string contactUriOf(const signaling::SipMessage& msg) {
  if (msg.sip()->sip_contact == nullptr) return {};
  return uriOf(signaling::SipMessage::value(reinterpret_cast<const sip_header_t*>(msg.sip()->sip_contact)));
}

std::vector<std::string> routeSetOf(const signaling::SipMessage& msg, bool uac) {
  std::vector<std::string> routes;
  for (const sip_record_route_t* rr = msg.sip()->sip_record_route; rr != nullptr; rr = rr->r_next) {
    // value() gives each route alone even when several were folded into one line (sofia splits them).
    std::string value = signaling::SipMessage::value(reinterpret_cast<const sip_header_t*>(rr));
    if (!value.empty()) routes.push_back(value);
  }
  if (uac) std::reverse(routes.begin(), routes.end());
  return routes;
}

InDialogTarget inDialogTarget(const std::vector<std::string>& routeSet, const std::string& remoteTarget) {
  InDialogTarget t;
  if (routeSet.empty()) {
    t.requestUri = t.nextHop = remoteTarget;
    return t;
  }
  const std::string first = uriOf(routeSet.front());
  const bool loose = first.find(";lr") != std::string::npos;
  if (loose) {
    t.requestUri = remoteTarget;
    for (const auto& r : routeSet) t.routeHeaders.push_back("Route: " + r);
  } else {
    t.requestUri = first;
    for (size_t i = 1; i < routeSet.size(); ++i) t.routeHeaders.push_back("Route: " + routeSet[i]);
    t.routeHeaders.push_back("Route: <" + remoteTarget + ">");
  }
  t.nextHop = first;
  return t;
}

uint32_t grantedExpiresS(const signaling::SipMessage& ok, std::string_view contactUri, uint32_t requested) {
  for (const sip_contact_t* m = ok.sip()->sip_contact; m != nullptr; m = m->m_next) {
    if (m->m_expires == nullptr) continue;
    if (uriOf(signaling::SipMessage::value(reinterpret_cast<const sip_header_t*>(m))) != contactUri) continue;
    return static_cast<uint32_t>(std::strtoul(m->m_expires, nullptr, 10));
  }
  if (ok.sip()->sip_expires != nullptr) return static_cast<uint32_t>(ok.sip()->sip_expires->ex_delta);
  return requested;
}

uint32_t refreshAfterS(uint32_t expiresS) { return std::max<uint32_t>(1, expiresS / 2); }

std::optional<DigestChallenge> pickChallenge(const signaling::SipMessage& response) {
  sip_t* sip = response.sip();
  const msg_auth_t* list = sip->sip_www_authenticate;
  bool proxy = false;
  if (list == nullptr) {
    list = sip->sip_proxy_authenticate;
    proxy = true;
  }
  std::optional<DigestChallenge> best;
  for (const msg_auth_t* au = list; au != nullptr; au = au->au_next) {
    if (au->au_scheme == nullptr || std::string_view(au->au_scheme) != "Digest") continue;
    DigestChallenge c;
    c.proxy = proxy;
    bool supported = true;
    for (const char* const* p = au->au_params; p != nullptr && *p != nullptr; ++p) {
      std::string_view kv(*p);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      std::string name(kv.substr(0, eq));
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = unquote(kv.substr(eq + 1));
      if (name == "realm") c.realm = value;
      else if (name == "nonce") c.nonce = value;
      else if (name == "opaque") c.opaque = value;
      else if (name == "qop") c.qop = value.find("auth") != std::string::npos ? "auth" : "";
      else if (name == "algorithm") {
        auto alg = signaling::parseAlgorithm(value);
        if (alg) c.algorithm = *alg;
        else supported = false;
      }
    }
    if (!supported || c.nonce.empty()) continue;
    if (!best || (c.algorithm == signaling::DigestAlgorithm::Md5 && best->algorithm != c.algorithm)) best = c;
  }
  return best;
}

std::string authorizationHeader(const DigestChallenge& c, std::string_view user, std::string_view password,
                                std::string_view method, std::string_view uri, unsigned nonceCount) {
  char nc[16];
  std::snprintf(nc, sizeof(nc), "%08x", nonceCount);
  const std::string cnonce = randomToken(16);
  const std::string ha1 = signaling::digestHa1(c.algorithm, user, c.realm, password);
  const std::string response = signaling::digestResponse(c.algorithm, ha1, c.nonce, c.qop.empty() ? "" : nc,
                                                         c.qop.empty() ? "" : cnonce, c.qop, method, uri);
  std::string h = c.proxy ? "Proxy-Authorization: " : "Authorization: ";
  h += "Digest username=\"" + std::string(user) + "\", realm=\"" + c.realm + "\", nonce=\"" + c.nonce +
       "\", uri=\"" + std::string(uri) + "\", response=\"" + response + "\", algorithm=" +
       std::string(signaling::algorithmName(c.algorithm));
  if (!c.qop.empty()) h += ", qop=" + c.qop + ", nc=" + nc + ", cnonce=\"" + cnonce + "\"";
  if (!c.opaque.empty()) h += ", opaque=\"" + c.opaque + "\"";
  return h;
}

}  // namespace rtcgate::load

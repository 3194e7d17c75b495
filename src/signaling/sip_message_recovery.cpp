// SPDX-License-Identifier: Apache-2.0
// Requests whose request line sofia-sip rejects. sofia stops at such a line and parses nothing else, so there was
// no Via or CSeq to answer with and the connection was closed. But its method grammar is narrower than RFC 3261's
// token (RFC 4475 intmeth, a valid request, is refused), and a bad Request-URI deserves a 400, not a hang-up.
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include "rtcgate/signaling/sip_message.h"

namespace rtcgate::signaling {
namespace {

// RFC 3261 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && std::string_view("-.!%*_+`'~").find(c) == std::string_view::npos)
      return false;
  return true;
}

}  // namespace

SipMessage::ParseResult SipMessage::parseUnreadableRequestLine(std::string_view text) {
  ParseResult result;
  result.reason = "not a SIP message";
  const size_t eol = text.find('\n');
  if (eol == std::string_view::npos) return result;
  std::string_view line = text.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 25.1). Without a method token and a SIP version
  // it is not a SIP request at all.
  const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return result;
  const std::string method(line.substr(0, sp1));
  const std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method) || version.substr(0, 4) != "SIP/") return result;

  // The headers, parsed under a request line sofia reads, are what the answer echoes. A NUL inside a quoted string
  // (intmeth's To, a legal quoted-pair) ends sofia's parse: blanked in the header section, never in the body.
  const std::string standIn = "OPTIONS sip:request-line.invalid SIP/2.0";
  std::string copy = standIn + std::string(text.substr(eol - (text[eol - 1] == '\r' ? 1 : 0)));
  const size_t headerEnd = std::min(copy.find("\r\n\r\n"), copy.size());
  for (size_t i = standIn.size(); i < headerEnd; ++i)
    if (copy[i] == '\0') copy[i] = ' ';
  int extracted = 0;
  std::unique_ptr<SipMessage> message = extract(copy, &extracted);
  if (message == nullptr) {
    result.reason = "out of memory";
    return result;
  }
  const sip_t* sip = message->sip_;
  const bool answerable = sip != nullptr && method != "ACK" &&
                          (sip->sip_via != nullptr || !message->unparsedLines("Via", 'v').empty()) &&
                          (sip->sip_cseq != nullptr || !message->unparsedLines("CSeq", '\0').empty());
  if (::strcasecmp(std::string(version).c_str(), "SIP/2.0") != 0) {
    result.code = 505;
    result.reason = "Version Not Supported";
  } else if (sip_method_code(method.c_str()) <= sip_method_unknown) {  // sofia: unknown, or "invalid" to its grammar
    // RFC 3261 8.2.1: a method the UAS does not know is answered 501, whatever its Request-URI.
    result.code = 501;
    result.reason = "Not Implemented";
  } else if (line.find(' ', sp1 + 1) != sp2) {
    result.reason = "Malformed Request-Line";  // RFC 4475 lwsruri: LWS inside the Request-URI
  } else {
    result.reason = "Bad Request-URI";  // RFC 5118 ipv6-bad: an IPv6 reference without brackets
  }
  result.status = answerable ? ParseStatus::BadRequest : ParseStatus::Ignore;
  if (answerable) result.message = std::move(message);
  return result;
}

}  // namespace rtcgate::signaling

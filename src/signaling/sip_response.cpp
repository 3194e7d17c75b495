// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/sip_response.h"

#include <openssl/rand.h>
#include <sofia-sip/sip.h>

#include "rtcgate/signaling/sip_message.h"

namespace rtcgate::signaling {
namespace {

// Drop trailing CR/LF/whitespace of a raw header line so a parameter can be appended.
std::string_view trimLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  return line;
}

}  // namespace

std::string buildResponse(const SipMessage& request, int status, std::string_view reason,
                          const std::vector<std::string>& extraHeaders, std::string_view toTag,
                          std::string_view contentType, std::string_view body) {
  const sip_t* sip = request.sip();
  std::string out;
  out.reserve(512 + body.size());
  out += "SIP/2.0 " + std::to_string(status) + " ";
  // The reason phrase is ours, but it may echo parser text: keep it to printable ASCII on one line.
  for (char c : reason) out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  out += "\r\n";
  // A 400 to a request with an unparseable Via, From, To, Call-ID or CSeq echoes that header as received.
  auto echo = [&](const void* parsed, std::string_view name, char compact, bool all) {
    if (parsed == nullptr) return request.unparsedLines(name, compact);
    const auto* h = static_cast<const sip_header_t*>(parsed);
    return all ? SipMessage::encodeAll(h) : SipMessage::encode(h);
  };
  out += echo(sip->sip_via, "Via", 'v', true);
  out += echo(sip->sip_from, "From", 'f', false);
  std::string to = echo(sip->sip_to, "To", 't', false);
  if (!toTag.empty() && sip->sip_to != nullptr && sip->sip_to->a_tag == nullptr) {
    to = std::string(trimLine(to)) + ";tag=" + std::string(toTag) + "\r\n";
  }
  out += to;
  out += echo(sip->sip_call_id, "Call-ID", 'i', false);
  out += echo(sip->sip_cseq, "CSeq", '\0', false);
  for (const auto& h : extraHeaders) out += h + "\r\n";
  out += kServerHeader;
  out += "\r\n";
  if (!body.empty()) out += "Content-Type: " + std::string(contentType) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

std::string randomToken(size_t length) {
  static const char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string raw(length, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(length)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  for (auto& c : raw) c = kAlphabet[static_cast<unsigned char>(c) % 36];
  return raw;
}

}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/sipfrag.h"

#include <algorithm>

namespace rtcgate::sip {
namespace {

constexpr size_t kMaxPhrase = 64;

bool usablePhrase(std::string_view p) {
  return !p.empty() && p.size() <= kMaxPhrase &&
         std::all_of(p.begin(), p.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

const char* standardPhrase(int code) {
  switch (code) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 183: return "Session Progress";
    case 200: return "OK";
    case 202: return "Accepted";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 480: return "Temporarily Unavailable";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 503: return "Service Unavailable";
    case 603: return "Decline";
    default: break;
  }
  if (code < 200) return "Progress";
  if (code < 300) return "OK";
  return "Failed";
}

}  // namespace

std::optional<SipfragStatus> parseSipfragStatus(std::string_view body) {
  auto eol = body.find_first_of("\r\n");
  std::string_view line = body.substr(0, eol);
  constexpr std::string_view kVersion = "SIP/2.0 ";
  if (line.size() < kVersion.size() + 3 || line.substr(0, kVersion.size()) != kVersion) return std::nullopt;
  std::string_view rest = line.substr(kVersion.size());
  if (!std::all_of(rest.begin(), rest.begin() + 3, [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  if (rest.size() > 3 && rest[3] != ' ') return std::nullopt;
  SipfragStatus s;
  s.code = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  if (s.code < 100 || s.code > 699) return std::nullopt;
  std::string_view phrase = rest.size() > 4 ? rest.substr(4) : std::string_view{};
  if (usablePhrase(phrase)) s.phrase = std::string(phrase);
  return s;
}

std::string sipfragBody(int code, std::string_view phrase) {
  std::string out = "SIP/2.0 " + std::to_string(code) + " ";
  out += usablePhrase(phrase) ? std::string(phrase) : std::string(standardPhrase(code));
  out += "\r\n";
  return out;
}

}  // namespace rtcgate::sip

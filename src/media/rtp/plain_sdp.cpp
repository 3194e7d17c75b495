// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/plain_sdp.h"

#include <charconv>

namespace rtcgate::media {
namespace {

const char* encodingName(int pt) {
  switch (pt) {
    case 0: return "PCMU/8000";
    case 8: return "PCMA/8000";
    case 9: return "G722/8000";
    case 13: return "CN/8000";
    default: return nullptr;
  }
}

bool isIpv6(const std::string& a) { return a.find(':') != std::string::npos; }

template <typename T>
bool toNumber(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string_view nextToken(std::string_view& s) {
  size_t start = s.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(start);
  size_t end = s.find(' ');
  std::string_view tok = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return tok;
}

}  // namespace

std::string buildPlainSdp(const PlainSdp& sdp) {
  std::string ip = isIpv6(sdp.address) ? "IP6 " : "IP4 ";
  std::string out = "v=0\r\no=rtcgate " + std::to_string(sdp.sessionId) + " " + std::to_string(sdp.sessionVersion) +
                    " IN " + ip + sdp.address + "\r\ns=rtcgate\r\nc=IN " + ip + sdp.address + "\r\nt=0 0\r\n";
  out += "m=audio " + std::to_string(sdp.port) + " RTP/AVP";
  for (int pt : sdp.payloadTypes) out += " " + std::to_string(pt);
  if (sdp.telephoneEventPt >= 0) out += " " + std::to_string(sdp.telephoneEventPt);
  out += "\r\n";
  for (int pt : sdp.payloadTypes)
    if (const char* name = encodingName(pt)) out += "a=rtpmap:" + std::to_string(pt) + " " + name + "\r\n";
  if (sdp.telephoneEventPt >= 0) {
    out += "a=rtpmap:" + std::to_string(sdp.telephoneEventPt) + " telephone-event/8000\r\n";
    out += "a=fmtp:" + std::to_string(sdp.telephoneEventPt) + " 0-16\r\n";
  }
  out += "a=ptime:20\r\na=" + sdp.direction + "\r\n";
  return out;
}

std::optional<PlainSdp> parsePlainSdp(std::string_view text) {
  PlainSdp out;
  std::string sessionAddress, mediaAddress;
  bool inAudio = false, haveAudio = false;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 2 || line[1] != '=') continue;
    std::string_view value = line.substr(2);
    switch (line[0]) {
      case 'm': {
        if (haveAudio) {
          inAudio = false;
          break;
        }
        std::string_view media = nextToken(value), port = nextToken(value), proto = nextToken(value);
        if (media != "audio") break;
        if (proto != "RTP/AVP" || !toNumber(port, out.port)) return std::nullopt;
        for (auto tok = nextToken(value); !tok.empty(); tok = nextToken(value)) {
          int pt = 0;
          if (!toNumber(tok, pt) || pt < 0 || pt > 127) return std::nullopt;
          out.payloadTypes.push_back(pt);
          if (out.payloadTypes.size() > 32) return std::nullopt;
        }
        inAudio = haveAudio = true;
        break;
      }
      case 'c': {
        std::string_view net = nextToken(value), type = nextToken(value), addr = nextToken(value);
        if (net != "IN" || (type != "IP4" && type != "IP6")) break;
        addr = addr.substr(0, addr.find('/'));
        (inAudio ? mediaAddress : sessionAddress) = std::string(addr);
        break;
      }
      case 'a': {
        if (!inAudio) break;
        if (value == "sendrecv" || value == "sendonly" || value == "recvonly" || value == "inactive") {
          out.direction = std::string(value);
        } else if (value.substr(0, 7) == "rtpmap:") {
          std::string_view rest = value.substr(7);
          std::string_view pt = nextToken(rest), enc = nextToken(rest);
          int n = 0;
          if (toNumber(pt, n) && enc.size() >= 15 && (enc.substr(0, 15) == "telephone-event" ||
                                                      enc.substr(0, 15) == "TELEPHONE-EVENT"))
            out.telephoneEventPt = n;
        }
        break;
      }
      default: break;
    }
  }
  if (!haveAudio) return std::nullopt;
  out.address = !mediaAddress.empty() ? mediaAddress : sessionAddress;
  if (out.address.empty()) return std::nullopt;
  // The telephone-event type is listed separately from the codecs.
  if (out.telephoneEventPt >= 0)
    std::erase(out.payloadTypes, out.telephoneEventPt);
  return out;
}

}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/session/dial_target.h"

namespace rtcgate::session {
namespace {

bool isDialChar(char c) {
  const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return alnum || c == '+' || c == '*' || c == '#' || c == '.' || c == '-' || c == '_';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool isDialableTarget(std::string_view user) {
  if (user.empty() || user.size() > kMaxDialTargetLength) return false;
  for (size_t i = 0; i < user.size(); ++i) {
    if (isDialChar(user[i])) continue;
    // An escape is accepted only for a dial character ("%23" for '#'): nothing else hides behind one.
    if (user[i] == '%' && i + 2 < user.size()) {
      const int hi = hexValue(user[i + 1]), lo = hexValue(user[i + 2]);
      if (hi >= 0 && lo >= 0 && isDialChar(static_cast<char>(hi * 16 + lo))) {
        i += 2;
        continue;
      }
    }
    return false;
  }
  return true;
}

std::string unescapeDialTarget(std::string_view user) {
  std::string out;
  out.reserve(user.size());
  for (size_t i = 0; i < user.size(); ++i) {
    if (user[i] == '%' && i + 2 < user.size() && hexValue(user[i + 1]) >= 0 && hexValue(user[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(user[i + 1]) * 16 + hexValue(user[i + 2])));
      i += 2;
    } else {
      out.push_back(user[i]);
    }
  }
  return out;
}

}  // namespace rtcgate::session

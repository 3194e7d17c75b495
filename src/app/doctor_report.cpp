// SPDX-License-Identifier: Apache-2.0
#include "doctor_report.h"

#include <algorithm>
#include <cstdio>

#include "rtcgate/core/log.h"

namespace rtcgate::app::doctor {

namespace {

const char* label(Severity s) {
  switch (s) {
    case Severity::Ok: return "ok";
    case Severity::Warning: return "warning";
    case Severity::Problem: return "problem";
  }
  return "?";
}

// Strings here come from the host (interface names) and from the network (SIP reason phrases, STUN error
// reasons): JSON escapes for every control byte keep one finding one JSON value.
std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

size_t Report::problems() const {
  return static_cast<size_t>(
      std::count_if(findings_.begin(), findings_.end(), [](auto& f) { return f.severity == Severity::Problem; }));
}

std::string Report::text() const {
  std::string out;
  for (auto& f : findings_) {
    // Network-supplied text (reason phrases) is escaped like a log line: it goes to a terminal.
    out += std::string(f.severity == Severity::Problem ? "PROBLEM " : f.severity == Severity::Warning ? "warning " : "ok      ") +
           f.check + ": " + log::escaped(f.message, 400) + "\n";
    if (!f.fix.empty()) out += "        fix: " + log::escaped(f.fix, 400) + "\n";
  }
  size_t n = problems();
  out += n == 0 ? "doctor: no problems found\n" : "doctor: " + std::to_string(n) + " problem(s) found\n";
  return out;
}

std::string Report::json() const {
  std::string out = "{\"problems\":" + std::to_string(problems()) + ",\"findings\":[";
  for (size_t i = 0; i < findings_.size(); ++i) {
    auto& f = findings_[i];
    if (i) out += ",";
    out += "{\"check\":" + jsonString(f.check) + ",\"severity\":" + jsonString(label(f.severity)) +
           ",\"message\":" + jsonString(f.message);
    if (!f.fix.empty()) out += ",\"fix\":" + jsonString(f.fix);
    out += "}";
  }
  return out + "]}\n";
}

}  // namespace rtcgate::app::doctor

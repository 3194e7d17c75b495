// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace rtcgate::app::doctor {

enum class Severity { Ok, Warning, Problem };

// One line of the doctor's report. A Problem carries exactly one concrete fix.
struct Finding {
  std::string check;  // "interfaces", "ports", "stun", "turn", "upstream"
  Severity severity = Severity::Ok;
  std::string message;
  std::string fix;  // empty for Ok
};

// What `rtcgate doctor` found, rendered as text or JSON. Thread: the doctor's only thread.
class Report {
public:
  void ok(std::string check, std::string message) { add({std::move(check), Severity::Ok, std::move(message), {}}); }
  void warning(std::string check, std::string message, std::string fix = {}) {
    add({std::move(check), Severity::Warning, std::move(message), std::move(fix)});
  }
  void problem(std::string check, std::string message, std::string fix) {
    add({std::move(check), Severity::Problem, std::move(message), std::move(fix)});
  }
  void add(Finding f) { findings_.push_back(std::move(f)); }

  size_t problems() const;
  const std::vector<Finding>& findings() const { return findings_; }
  std::string text() const;
  std::string json() const;

private:
  std::vector<Finding> findings_;
};

}  // namespace rtcgate::app::doctor

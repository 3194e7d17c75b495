// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <fmt/format.h>

#include <string>

namespace rtcgate {

// A password, shared secret or key. Formatting it prints a placeholder, so a secret that reaches a log line by
// mistake is still not disclosed; code that needs the value asks for reveal() by name.
class Secret {
public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  bool operator==(const Secret& other) const = default;

private:
  std::string value_;
};

}  // namespace rtcgate

template <>
struct fmt::formatter<rtcgate::Secret> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const rtcgate::Secret&, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format("<redacted>", ctx);
  }
};

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <glib.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rtcgate {

// A regular expression (PCRE syntax, GLib's GRegex) that must match the whole text, compiled once. Copies share the
// compiled form; equality is by pattern text (config snapshots compare). Thread: any (a GRegex is immutable).
class FullMatchRegex {
public:
  // nullopt with `error` set (GLib's message, with the offset in the pattern) when the pattern does not compile.
  static std::optional<FullMatchRegex> compile(std::string_view pattern, std::string* error);

  // True only when the whole of `text` matches. A match that hits PCRE's backtracking limit counts as no match.
  bool matches(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }
  bool operator==(const FullMatchRegex& other) const { return pattern_ == other.pattern_; }

private:
  struct Unref {
    void operator()(GRegex* r) const noexcept { g_regex_unref(r); }
  };
  FullMatchRegex(std::string pattern, std::shared_ptr<GRegex> regex)
      : pattern_(std::move(pattern)), regex_(std::move(regex)) {}

  std::string pattern_;
  std::shared_ptr<GRegex> regex_;
};

}  // namespace rtcgate

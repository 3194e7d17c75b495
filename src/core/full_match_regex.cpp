// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/core/full_match_regex.h"

namespace rtcgate {
namespace {

GRegex* compileOrError(const std::string& pattern, std::string* error) {
  GError* err = nullptr;
  GRegex* r = g_regex_new(pattern.c_str(), G_REGEX_OPTIMIZE, static_cast<GRegexMatchFlags>(0), &err);
  if (r == nullptr && error != nullptr) *error = err != nullptr ? err->message : "does not compile";
  if (err != nullptr) g_error_free(err);
  return r;
}

}  // namespace

std::optional<FullMatchRegex> FullMatchRegex::compile(std::string_view pattern, std::string* error) {
  std::string text(pattern);
  if (text.find('\0') != std::string::npos) {
    if (error != nullptr) *error = "contains a NUL byte";
    return std::nullopt;
  }
  // Compiled alone first: a pattern that compiles alone has balanced groups, so wrapping it below cannot be broken
  // out of (")|(.*" would otherwise turn the anchored wrapper into an unanchored alternative). GRegex of GLib 2.74
  // has no end-anchored match flag, hence \A(?:...)\z instead of a flag.
  GRegex* alone = compileOrError(text, error);
  if (alone == nullptr) return std::nullopt;
  g_regex_unref(alone);
  GRegex* anchored = compileOrError("\\A(?:" + text + ")\\z", error);
  if (anchored == nullptr) return std::nullopt;
  return FullMatchRegex(std::move(text), std::shared_ptr<GRegex>(anchored, Unref{}));
}

bool FullMatchRegex::matches(std::string_view text) const {
  GError* err = nullptr;
  const bool hit = g_regex_match_full(regex_.get(), text.data(), static_cast<gssize>(text.size()), 0,
                                      static_cast<GRegexMatchFlags>(0), nullptr, &err) != FALSE;
  if (err != nullptr) {
    g_error_free(err);  // e.g. the backtracking limit: fail closed
    return false;
  }
  return hit;
}

}  // namespace rtcgate

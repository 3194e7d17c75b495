// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "rtcgate/core/full_match_regex.h"

namespace rtcgate {
namespace {

TEST(FullMatchRegex, CannotBeBrokenOutOfAndFailsClosed) {
  std::string error;
  // Unbalanced groups would escape the \A(?:...)\z wrapper; they are refused instead.
  EXPECT_FALSE(FullMatchRegex::compile("1)|(.*", &error));
  EXPECT_NE(error.find("char"), std::string::npos) << error;  // GLib names the offset
  EXPECT_FALSE(FullMatchRegex::compile("[0-9", &error));
  EXPECT_FALSE(FullMatchRegex::compile(std::string("1\0", 2), &error));
  auto r = FullMatchRegex::compile("a|ab", &error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->matches("ab"));  // a full match exists even though the first alternative matches a prefix
  EXPECT_TRUE(r->matches("a"));
  EXPECT_FALSE(r->matches("abc"));
  EXPECT_FALSE(r->matches("a\n"));  // \z, not $: no trailing newline slips through
  // Exponential backtracking (fib(60) paths) stops at PCRE's match limit: no match, and no hang.
  auto slow = FullMatchRegex::compile("(a|aa)+", &error);
  ASSERT_TRUE(slow) << error;
  EXPECT_FALSE(slow->matches(std::string(60, 'a') + "-"));
  EXPECT_TRUE(slow->matches(std::string(60, 'a')));
  EXPECT_TRUE(*slow == *FullMatchRegex::compile("(a|aa)+", &error));
}

}  // namespace
}  // namespace rtcgate

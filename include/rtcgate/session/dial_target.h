// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace rtcgate::session {

// Longest destination an agent may dial (INVITE Request-URI user, REFER Refer-To user).
inline constexpr size_t kMaxDialTargetLength = 64;

// The destination policy for what an agent's browser asks Genesys to reach: a user part of 1..64 dial characters
// (digits, letters, + * # . - _, and %-escapes of two hex digits as JsSIP writes '#'), in the form the browser sent
// it. Only this user part is passed on; the host the browser named is never used.
bool isDialableTarget(std::string_view user);

// A dialable target with its %-escapes decoded ("%2372" -> "#72"): what the policy's prefixes and patterns see.
std::string unescapeDialTarget(std::string_view user);

}  // namespace rtcgate::session

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rtcgate::signaling {

class SipMessage;

// Builds the text of a response to a parsed request (RFC 3261 8.2.6.2): Via headers, From, Call-ID and CSeq
// copied byte for byte from the request, To copied with our tag added when it has none.
// extraHeaders are full lines without CRLF ("Allow: INVITE, ACK"). Thread: any.
std::string buildResponse(const SipMessage& request, int status, std::string_view reason,
                          const std::vector<std::string>& extraHeaders = {}, std::string_view toTag = {},
                          std::string_view contentType = {}, std::string_view body = {});

// Random token of [0-9a-z] for tags, branches and Call-IDs (RFC 3261 19.3: at least 32 bits of randomness).
std::string randomToken(size_t length = 16);

// Methods we answer on the browser leg, for Allow headers.
inline constexpr std::string_view kAllowHeader = "Allow: INVITE, ACK, CANCEL, BYE, UPDATE, INFO, OPTIONS, REGISTER, REFER";
// The Server / User-Agent header value.
inline constexpr std::string_view kServerHeader = "Server: rtcgate";

}  // namespace rtcgate::signaling

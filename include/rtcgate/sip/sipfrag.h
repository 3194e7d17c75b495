// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rtcgate::sip {

// The status line of a message/sipfrag body (RFC 3420), as NOTIFYs of a REFER subscription carry it (RFC 3515 §2.4.5).
struct SipfragStatus {
  int code = 0;
  std::string phrase;
};

// The first line of `body` when it is a SIP status line ("SIP/2.0 200 OK"), code 100-699; nothing else of the body
// (headers of the far end's response) is read. The phrase is kept only when it is short printable ASCII.
std::optional<SipfragStatus> parseSipfragStatus(std::string_view body);

// A sipfrag body of one status line, built by us: "SIP/2.0 <code> <phrase>\r\n" (a standard phrase when `phrase` is
// empty or not short printable ASCII).
std::string sipfragBody(int code, std::string_view phrase = {});

}  // namespace rtcgate::sip

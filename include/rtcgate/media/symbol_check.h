// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace rtcgate::media {

// True when libnice's STUN code will call libnice's own `stun_message_length` (sofia-sip-ua exports one too; if
// sofia's wins, no ICE check ever succeeds). Otherwise false and `why` names the library that won.
bool stunSymbolsSane(std::string* why);

}  // namespace rtcgate::media

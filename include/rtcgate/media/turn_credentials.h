// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <string>

#include "rtcgate/config/config.h"

namespace rtcgate::media {

struct TurnCredentials {
  std::string username;
  Secret password;
};

// Static credentials, or TURN REST API ones (draft-uberti-behave-turn-rest-00, coturn use-auth-secret):
// username "<expiry unix time>:<user>", password base64(HMAC-SHA1(shared secret, username)).
TurnCredentials turnCredentials(const config::TurnServer& server, std::chrono::system_clock::time_point now,
                                const std::string& user = "rtcgate");

}  // namespace rtcgate::media

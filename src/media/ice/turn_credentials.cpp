// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/turn_credentials.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace rtcgate::media {

TurnCredentials turnCredentials(const config::TurnServer& server, std::chrono::system_clock::time_point now,
                                const std::string& user) {
  if (server.sharedSecret.empty()) return {server.username, server.password};
  auto expiry = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() +
                static_cast<long long>(server.credentialTtlS);
  TurnCredentials c;
  c.username = std::to_string(expiry) + ":" + user;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int macLen = 0;
  const auto& key = server.sharedSecret.reveal();
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(c.username.data()),
       c.username.size(), mac, &macLen);
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, mac, static_cast<int>(macLen));
  c.password = Secret(std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n)));
  return c;
}

}  // namespace rtcgate::media

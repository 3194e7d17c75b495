// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/crypto/openssl_error.h"

#include <openssl/err.h>

#include <stdexcept>

namespace rtcgate::crypto {

std::string drainOpensslErrors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

void checkOpenssl(bool ok, const std::string& what) {
  if (ok) return;
  auto errors = drainOpensslErrors();
  throw std::runtime_error(what + ": " + (errors.empty() ? "unknown OpenSSL error" : errors));
}

}  // namespace rtcgate::crypto

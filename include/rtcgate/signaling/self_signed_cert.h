// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace rtcgate::signaling {

struct PemCertificate {
  std::string certificate;  // PEM
  std::string privateKey;   // PEM (PKCS#8)
};

// An ECDSA P-256 self-signed certificate for the local demo (browsers will warn). Throws on OpenSSL failure.
// Thread: any.
PemCertificate generateSelfSignedCertificate(const std::string& commonName, int validDays = 365);

}  // namespace rtcgate::signaling

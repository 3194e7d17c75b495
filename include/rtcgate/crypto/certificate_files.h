// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "rtcgate/crypto/self_signed_certificate.h"

namespace rtcgate::crypto {

// A certificate and private key read from PEM files (WSS listener, DTLS identity), with everything found wrong
// with them. The one place both are read: the config checks (--check-config, reload) and the start-up use it.
struct CertificateFiles {
  struct Finding {
    bool error = true;      // false: a warning (the pair works today)
    bool aboutKey = false;  // the key file is at fault (else the certificate file)
    std::string message;    // names the file and, where it has one, OpenSSL's reason
  };
  std::vector<Finding> findings;
  KeyAndCertificate pair;  // both set when no finding is an error

  bool ok() const;
  // The first error's message ("" when ok()).
  std::string firstError() const;
};

// Reads `certFile` (its first certificate: the leaf of a chain) and `keyFile` as the calling process's user:
// missing or unreadable file, not a regular file, not PEM, an encrypted key (nobody types a passphrase at a
// daemon), key not matching the certificate (X509_check_private_key), certificate expired or not yet valid at
// `now` (errors), expiring within `warnWithin` (a warning). Thread: any.
CertificateFiles readCertificateFiles(const std::string& certFile, const std::string& keyFile,
                                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now(),
                                      std::chrono::seconds warnWithin = std::chrono::days(14));

}  // namespace rtcgate::crypto

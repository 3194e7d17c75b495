// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace rtcgate::crypto {

// Every error on this thread's OpenSSL error queue, oldest first, joined by "; "; the queue is left empty.
// "" when there was none.
std::string drainOpensslErrors();
// Throws std::runtime_error("<what>: <the queued errors>") unless `ok`.
void checkOpenssl(bool ok, const std::string& what);

}  // namespace rtcgate::crypto

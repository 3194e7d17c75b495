// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "rtcgate/core/address.h"

namespace rtcgate::signaling {

// The PROXY protocol header a load balancer in TCP mode puts before the client's bytes (haproxy's
// proxy-protocol.txt, versions 1 and 2), so that the server learns the client's address. Thread: any (pure).
struct ProxyHeader {
  enum class Status {
    NeedMore,  // a valid beginning: every byte given belongs to the header, more are needed
    Done,      // a complete header of `length` bytes; what follows is the client's stream (the TLS ClientHello)
    NotProxy,  // the first byte starts neither version: the client's own stream, no header
    Invalid,   // `reason` says why (a metric label value)
  };
  Status status = Status::NeedMore;
  size_t length = 0;
  // Done with the PROXY command over TCP/IPv4 or TCP/IPv6: the client's address. Empty for LOCAL (the proxy's own
  // health checks, spec 2.2) and for v1 UNKNOWN / v2 UNSPEC: the connection keeps the proxy's address.
  std::optional<IpAddress> source;
  const char* reason = "";
};

// Spec 2.1: a v1 line is at most 107 bytes, CRLF included.
constexpr size_t kProxyV1MaxBytes = 107;
// v2: a 16-byte fixed part, then `len` bytes of addresses and TLVs. IPv6 addresses take 36, a UNIX pair 216; the
// bound leaves room for haproxy's TLVs (proxy-v2-options) and refuses anything larger before reading it.
constexpr size_t kProxyV2MaxPayloadBytes = 512;
constexpr size_t kProxyHeaderMaxBytes = 16 + kProxyV2MaxPayloadBytes;

// Parses the bytes received so far (from the start of the connection). Never looks past the header's end.
ProxyHeader parseProxyHeader(std::string_view bytes);

}  // namespace rtcgate::signaling

// SPDX-License-Identifier: Apache-2.0
// Target: DTLS records from the browser (DtlsTransport::handlePacket: OpenSSL's DTLS 1.2 state machine behind
// rtcgate's memory BIO, the use_srtp negotiation, the fingerprint check, the exporter and close_notify handling).
// Byte 0 bit 0 selects the role: server (a=setup:passive, waits for a ClientHello) or client (a=setup:active, has
// sent its ClientHello and waits for the server's flight). The rest is up to 8 datagrams, each a 2-byte big-endian
// length and that many bytes (the last one takes what is left), fed in order.
// The certificate and event loop are made once; each input gets a fresh DtlsTransport (its own SSL_CTX and SSL,
// as in production). The loop never runs: the handshake timers are armed and cancelled but never fire.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "fuzz_support.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/media/dtls_transport.h"

namespace {

using namespace rtcgate;
using namespace rtcgate::media;

struct Fixture {
  EventLoop loop{"fuzz-dtls"};
  std::shared_ptr<const DtlsCertificate> cert = DtlsCertificate::generate();
  Fixture() { loop.adoptCurrentThread(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rtcgate::fuzz::silenceLogs();
  static Fixture* fx = new Fixture;  // never destroyed: lives as long as the fuzzing process
  if (size < 1) return 0;
  const DtlsRole role = (data[0] & 1) ? DtlsRole::Client : DtlsRole::Server;
  ++data;
  --size;

  size_t sent = 0;
  DtlsTransport::Callbacks cb;
  cb.send = [&sent](const uint8_t*, size_t len) { sent += len; };
  // No input can complete a handshake: the peer would need the ECDHE secret and a certificate with the
  // fingerprint set below (ours, whose key it does not have). Keys exported here would mean a verification bypass.
  cb.connected = [](const DtlsSrtpKeys&) {
    std::fprintf(stderr, "dtls_records: handshake completed without a matching peer certificate\n");
    std::abort();
  };
  cb.failed = [](const std::string&) {};
  cb.closedByPeer = [] {};
  DtlsTransport dtls(fx->loop, fx->cert,
                     {SrtpProfile::AeadAes256Gcm, SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80},
                     std::chrono::seconds(10), std::move(cb));
  // Our own certificate's fingerprint: the seeds' peer certificates never match it, so a replayed handshake
  // reaches the check and fails it.
  sdp::Fingerprint fp;
  fp.algorithm = "sha-256";
  fp.value = fx->cert->fingerprint().value;
  dtls.setRemoteFingerprints({fp});
  dtls.start(role);

  for (int i = 0; i < 8 && size > 0; ++i) {
    size_t len = size;
    if (i < 7 && size >= 2) {
      len = std::min<size_t>(size - 2, (size_t{data[0]} << 8) | data[1]);
      data += 2;
      size -= 2;
    }
    if (len == 0) continue;
    dtls.handlePacket(data, len);
    data += len;
    size -= len;
    if (dtls.state() == DtlsState::Failed || dtls.state() == DtlsState::Closed) break;
  }
  dtls.close();
  return 0;
}

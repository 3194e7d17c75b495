// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtcgate/core/c_handle.h"
#include "rtcgate/core/event_loop.h"
#include "rtcgate/media/dtls_certificate.h"
#include "rtcgate/media/srtp_session.h"

namespace rtcgate::media {

enum class DtlsRole { Client, Server };  // client = a=setup:active, server = a=setup:passive
enum class DtlsState { New, Connecting, Connected, Failed, Closed };
const char* toString(DtlsState s);

// Keying material exported after the handshake (RFC 5764 §4.2), already split into our and the peer's halves.
struct DtlsSrtpKeys {
  SrtpProfile profile;
  std::vector<uint8_t> localKeySalt;
  std::vector<uint8_t> remoteKeySalt;
};

// One DTLS 1.2 association for DTLS-SRTP over a datagram path that is not a socket (ICE): incoming records are
// written into a memory BIO; outgoing records leave through a BIO whose every write is one datagram, so each
// flight is sent with its record boundaries intact.
// Thread: the owning media loop; callbacks run there, synchronously from handlePacket() or a timer, and must not
// destroy this object (post the teardown instead).
class DtlsTransport {
public:
  struct Callbacks {
    std::function<void(const uint8_t* data, size_t len)> send;
    std::function<void(const DtlsSrtpKeys& keys)> connected;
    std::function<void(const std::string& reason)> failed;
    // The peer ended the association with close_notify (RFC 5246 §7.2.1): an orderly close, not a failure. Chrome
    // sends it when its RTCPeerConnection closes, often just before the BYE of a normal hangup.
    std::function<void()> closedByPeer;
  };

  DtlsTransport(EventLoop& loop, std::shared_ptr<const DtlsCertificate> cert, std::vector<SrtpProfile> profiles,
                std::chrono::milliseconds handshakeTimeout, Callbacks callbacks);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // The peer's a=fingerprint lines; its certificate must match one of them (RFC 8122 §5). Must be set before the
  // peer's Certificate message arrives (it comes with the SDP that also carries its ICE credentials).
  void setRemoteFingerprints(std::vector<sdp::Fingerprint> fingerprints);
  // Begin the handshake; a client sends its ClientHello now, a server waits. Arms the handshake deadline.
  void start(DtlsRole role);
  // One datagram from the peer whose first byte is 20..63 (RFC 7983).
  void handlePacket(const uint8_t* data, size_t len);
  // Sends close_notify if connected.
  void close();

  DtlsState state() const { return state_; }
  std::optional<DtlsRole> role() const { return role_; }
  std::optional<SrtpProfile> profile() const { return profile_; }
  const std::string& failureReason() const { return failureReason_; }

private:
  static int onVerify(int preverifyOk, X509_STORE_CTX* ctx) noexcept;
  static int bioWrite(BIO* bio, const char* data, int len) noexcept;
  static long bioCtrl(BIO* bio, int cmd, long num, void* ptr) noexcept;
  static BIO_METHOD* writeMethod();
  void advance();
  void armRetransmit();
  void fail(const std::string& reason, Timer* firing = nullptr);
  void complete();

  EventLoop& loop_;
  std::shared_ptr<const DtlsCertificate> cert_;
  Callbacks callbacks_;
  std::chrono::milliseconds handshakeTimeout_;
  CHandle<SSL_CTX, SSL_CTX_free> ctx_;
  CHandle<SSL, SSL_free> ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  std::vector<sdp::Fingerprint> remoteFingerprints_;
  bool fingerprintMismatch_ = false;
  DtlsState state_ = DtlsState::New;
  std::optional<DtlsRole> role_;
  std::optional<SrtpProfile> profile_;
  std::string failureReason_;
  Timer retransmitTimer_;
  Timer deadlineTimer_;
};

}  // namespace rtcgate::media

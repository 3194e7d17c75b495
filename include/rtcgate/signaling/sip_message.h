// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct msg_s;
struct sip_s;
union sip_header_u;

namespace rtcgate::signaling {

// One SIP message parsed by sofia-sip's parser (msg_t + sip_t), owned RAII. Thread: any, one at a time.
class SipMessage {
public:
  enum class ParseStatus {
    Ok,
    // Parsed far enough to answer (Via, From, To, Call-ID, CSeq usable) but not valid: answer 400.
    BadRequest,
    // Not SIP, or too broken to form a response: the transport drops it (RFC 3261 18.3 / 16.3).
    Unusable,
  };
  struct ParseResult {
    ParseStatus status = ParseStatus::Unusable;
    std::unique_ptr<SipMessage> message;  // set for Ok and BadRequest
    std::string reason;                   // short, for the 400 reason phrase or a log line
  };

  // Parse exactly one complete message (one WebSocket frame, RFC 7118 5.2). Never throws for bad input.
  static ParseResult parse(std::string_view text);

  ~SipMessage();
  SipMessage(const SipMessage&) = delete;
  SipMessage& operator=(const SipMessage&) = delete;

  msg_s* msg() const { return msg_; }
  sip_s* sip() const { return sip_; }

  bool isRequest() const;
  bool isResponse() const;
  // Request method name ("INVITE") or, for a response, the CSeq method.
  std::string method() const;
  int status() const;  // response status code, 0 for requests
  // The Request-URI exactly as it appears on the request line (empty for responses).
  std::string requestUri() const;
  std::string callId() const;
  uint32_t cseq() const;
  std::string fromTag() const;
  std::string toTag() const;
  std::string topViaBranch() const;
  std::string body() const;
  std::string contentType() const;
  // The first header with this name (case-insensitive; unknown headers included), value only.
  std::optional<std::string> header(std::string_view name) const;

  // Encoding of one header (as "Name: value\r\n", folded lists encoded one per line as sofia does).
  static std::string encode(const sip_header_u* header);
  // The value of one header as received when it had a line of its own (otherwise sofia's encoding of it).
  static std::string value(const sip_header_u* header);
  // Encoding of a header and all its siblings in order (e.g. every Via).
  static std::string encodeAll(const sip_header_u* header);

private:
  SipMessage(msg_s* msg, sip_s* sip) : msg_(msg), sip_(sip) {}
  msg_s* msg_;
  sip_s* sip_;
};

// A From/To/Contact value with every header parameter `name` removed (parameters inside <...> belong to the URI
// and stay). Thread: any.
std::string withoutHeaderParam(std::string value, std::string_view name);

}  // namespace rtcgate::signaling

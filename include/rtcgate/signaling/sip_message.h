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
    // A request parsed far enough to answer (its Via and CSeq, parsed or as received) but not valid: answer
    // `code` (400, 416 or 505, or 501 for a method sofia cannot parse).
    BadRequest,
    // SIP, but nothing to answer: a response that does not parse, or a request without Via or CSeq. Dropped
    // (RFC 3261 18.1.2, 18.2.1); over WebSocket the connection stays (RFC 7118: the frame was the message).
    Ignore,
    // Not SIP (no request or status line): the connection is closed (1002).
    Unusable,
  };
  struct ParseResult {
    ParseStatus status = ParseStatus::Unusable;
    std::unique_ptr<SipMessage> message;  // set for Ok and BadRequest
    std::string reason;                   // short, for the reason phrase or a log line
    int code = 400;                       // the status to answer a BadRequest with
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
  // The lines of header `name` (or its compact form) that sofia could not parse, as received, CRLF-terminated.
  // A 400 echoes them where the parsed header is missing (RFC 3261 8.2.6.2: Via, From, To, Call-ID, CSeq).
  std::string unparsedLines(std::string_view name, char compact) const;

private:
  SipMessage(msg_s* msg, sip_s* sip) : msg_(msg), sip_(sip) {}
  // sofia's own parse of `text` as one complete message; null only when out of memory.
  static std::unique_ptr<SipMessage> extract(std::string_view text, int* extracted);
  // A request whose request line sofia rejects (sip_message_recovery.cpp).
  static ParseResult parseUnreadableRequestLine(std::string_view text);
  msg_s* msg_;
  sip_s* sip_;
};

// A From/To/Contact value with every header parameter `name` removed (parameters inside <...> belong to the URI
// and stay). Thread: any.
std::string withoutHeaderParam(std::string value, std::string_view name);

}  // namespace rtcgate::signaling

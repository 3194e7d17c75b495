// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/sip_message.h"

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <strings.h>

#include <cctype>
#include <cstring>

namespace rtcgate::signaling {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Header value encoding; sofia reports the size needed when the buffer is too small.
std::string encodeValue(const msg_header_t* h) {
  char small[512];
  issize_t n = msg_header_field_e(small, sizeof(small), h, 0);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof(small)) return std::string(small, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(n) + 1, '\0');
  n = msg_header_field_e(big.data(), static_cast<isize_t>(big.size()), h, 0);
  if (n < 0) return {};
  big.resize(static_cast<size_t>(n));
  return big;
}

// RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':'.
bool startsWithScheme(std::string_view uri) {
  const size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || std::isalpha(static_cast<unsigned char>(uri[0])) == 0)
    return false;
  for (char c : uri.substr(0, colon))
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '-' && c != '.') return false;
  return true;
}

}  // namespace

std::unique_ptr<SipMessage> SipMessage::extract(std::string_view text, int* extracted) {
  // EXTRACT_COPY keeps each header's received bytes (h_data), so responses can echo Via exactly.
  msg_t* msg = msg_create(sip_default_mclass(), MSG_FLG_EXTRACT_COPY);
  if (msg == nullptr) return nullptr;
  void* buf = msg_buf_alloc(msg, text.size() + 1);
  if (buf == nullptr) {
    msg_destroy(msg);
    return nullptr;
  }
  std::memcpy(buf, text.data(), text.size());
  // eos=1: the frame is the whole message, so a missing Content-Length means "the rest is the body" (RFC 7118 5.2
  // makes Content-Length optional over WebSocket).
  msg_buf_commit(msg, text.size(), 1);
  *extracted = msg_extract(msg);
  return std::unique_ptr<SipMessage>(new SipMessage(msg, sip_object(msg)));
}

SipMessage::ParseResult SipMessage::parse(std::string_view text) {
  ParseResult result;
  if (text.empty()) {
    result.reason = "empty message";
    return result;
  }
  int extracted = 0;
  std::unique_ptr<SipMessage> message = extract(text, &extracted);
  if (message == nullptr) {
    result.reason = "out of memory";
    return result;
  }
  sip_t* sip = message->sip_;
  msg_t* msg = message->msg_;
  if (sip == nullptr || (sip->sip_request == nullptr && sip->sip_status == nullptr)) {
    if (text.substr(0, 4) == "SIP/") {  // a status line sofia rejects (RFC 4475 bigcode: 4294967301)
      result.status = ParseStatus::Ignore;
      result.reason = "unparseable status line";
      return result;
    }
    return parseUnreadableRequestLine(text);
  }
  // A response is never answered: one that does not parse is dropped (RFC 3261 18.1.2; RFC 4475 scalarlg).
  const bool request = sip->sip_request != nullptr;
  // A response can only be formed with a Via and a CSeq to echo (RFC 3261 8.2.6.2), parsed or as received.
  const bool answerable = request && (sip->sip_via != nullptr || !message->unparsedLines("Via", 'v').empty()) &&
                          (sip->sip_cseq != nullptr || !message->unparsedLines("CSeq", '\0').empty());
  auto bad = [&](const char* why, int code = 400) {
    result.reason = why;
    result.code = code;
    result.status = answerable ? ParseStatus::BadRequest : ParseStatus::Ignore;
    if (answerable) result.message = std::move(message);
    return std::move(result);
  };
  // RFC 3261 8.2.2 / 21.5.6: any other version is answered 505 before its content is judged (RFC 4475 badvers).
  if (request && (sip->sip_request->rq_version == nullptr || ::strcasecmp(sip->sip_request->rq_version, "SIP/2.0") != 0))
    return bad("Version Not Supported", 505);
  if (extracted <= 0 || msg_has_error(msg)) return bad("Malformed message");
  if (sip->sip_error != nullptr) return bad("Malformed header");
  // RFC 7118 5.2: exactly one SIP message per WebSocket message; bytes after a Content-Length-delimited body are
  // left committed and unparsed by sofia.
  if (msg_buf_committed(msg) > 0) return bad("More than one message in a frame");
  if (sip->sip_via == nullptr) return bad("Missing Via");
  if (sip->sip_from == nullptr || sip->sip_to == nullptr) return bad("Missing From or To");
  if (sip->sip_call_id == nullptr) return bad("Missing Call-ID");
  if (sip->sip_cseq == nullptr) return bad("Missing CSeq");
  if (request) {
    // RFC 3261 8.1.1.7 / 16.6: the CSeq method must match the request method.
    if (sip->sip_request->rq_method != sip->sip_cseq->cs_method ||
        (sip->sip_request->rq_method == sip_method_unknown &&
         std::strcmp(sip->sip_request->rq_method_name, sip->sip_cseq->cs_method_name) != 0))
      return bad("CSeq method does not match");
    // RFC 3261 8.2.2.1: 416 for a scheme we do not serve (RFC 4475 unkscm, novelsc); a Request-URI that has no
    // scheme at all (ltgtruri's "<sip:...>") is a 400.
    if (sip->sip_request->rq_url->url_type != url_sip && sip->sip_request->rq_url->url_type != url_sips)
      return startsWithScheme(message->requestUri()) ? bad("Unsupported URI Scheme", 416) : bad("Bad Request-URI");
  }
  if (sip->sip_content_length != nullptr && sip->sip_payload != nullptr &&
      sip->sip_payload->pl_len != sip->sip_content_length->l_length)
    return bad("Content-Length mismatch");
  if (sip->sip_content_length != nullptr && sip->sip_payload == nullptr && sip->sip_content_length->l_length != 0)
    return bad("Content-Length mismatch");
  result.status = ParseStatus::Ok;
  result.message = std::move(message);
  return result;
}

std::string SipMessage::unparsedLines(std::string_view name, char compact) const {
  std::string out;
  for (const sip_error_t* e = sip_->sip_error; e != nullptr; e = e->er_next) {
    if (e->er_common->h_data == nullptr || e->er_common->h_len == 0) continue;
    std::string_view line(static_cast<const char*>(e->er_common->h_data), e->er_common->h_len);
    std::string_view field = line.substr(0, line.find(':'));
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
    if (!equalsIgnoreCase(field, name) && !(compact != '\0' && field.size() == 1 &&
                                             ::tolower(static_cast<unsigned char>(field[0])) == compact))
      continue;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    out.append(line).append("\r\n");
  }
  return out;
}

SipMessage::~SipMessage() {
  if (msg_ != nullptr) msg_destroy(msg_);
}

bool SipMessage::isRequest() const { return sip_->sip_request != nullptr; }
bool SipMessage::isResponse() const { return sip_->sip_status != nullptr; }

std::string SipMessage::method() const {
  if (sip_->sip_request != nullptr) return sip_->sip_request->rq_method_name;
  if (sip_->sip_cseq != nullptr) return sip_->sip_cseq->cs_method_name;
  return {};
}

std::string SipMessage::requestUri() const {
  const sip_request_t* rq = sip_->sip_request;
  if (rq == nullptr) return {};
  // The request line as received: "METHOD SP Request-URI SP SIP/2.0" (RFC 3261 25.1). Digest's uri= must equal it
  // as sent, so it is taken from the raw text, not from sofia's re-encoding of the parsed URL.
  if (rq->rq_common->h_data != nullptr && rq->rq_common->h_len > 0) {
    std::string_view line(static_cast<const char*>(rq->rq_common->h_data), rq->rq_common->h_len);
    const auto first = line.find(' ');
    const auto last = line.rfind(" SIP/");
    if (first != std::string_view::npos && last != std::string_view::npos && last > first + 1)
      return std::string(line.substr(first + 1, last - first - 1));
  }
  char buf[1024];
  const isize_t n = url_e(buf, sizeof(buf), rq->rq_url);
  return n > 0 && static_cast<size_t>(n) < sizeof(buf) ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

int SipMessage::status() const { return sip_->sip_status != nullptr ? sip_->sip_status->st_status : 0; }

std::string SipMessage::callId() const {
  return sip_->sip_call_id != nullptr && sip_->sip_call_id->i_id != nullptr ? sip_->sip_call_id->i_id : "";
}

uint32_t SipMessage::cseq() const { return sip_->sip_cseq != nullptr ? sip_->sip_cseq->cs_seq : 0; }

std::string SipMessage::fromTag() const {
  return sip_->sip_from != nullptr && sip_->sip_from->a_tag != nullptr ? sip_->sip_from->a_tag : "";
}

std::string SipMessage::toTag() const {
  return sip_->sip_to != nullptr && sip_->sip_to->a_tag != nullptr ? sip_->sip_to->a_tag : "";
}

std::string SipMessage::topViaBranch() const {
  return sip_->sip_via != nullptr && sip_->sip_via->v_branch != nullptr ? sip_->sip_via->v_branch : "";
}

std::string SipMessage::body() const {
  if (sip_->sip_payload == nullptr || sip_->sip_payload->pl_data == nullptr) return {};
  return std::string(sip_->sip_payload->pl_data, sip_->sip_payload->pl_len);
}

std::string SipMessage::contentType() const {
  return sip_->sip_content_type != nullptr && sip_->sip_content_type->c_type != nullptr
             ? sip_->sip_content_type->c_type
             : "";
}

std::optional<std::string> SipMessage::header(std::string_view name) const {
  msg_header_t** head = msg_chain_head(msg_);
  for (msg_header_t* h = head != nullptr ? *head : nullptr; h != nullptr; h = h->sh_succ) {
    const msg_hclass_t* hc = h->sh_class;
    if (hc == nullptr) continue;
    if (hc->hc_hash == msg_unknown_hash) {
      if (h->sh_unknown->un_name != nullptr && equalsIgnoreCase(h->sh_unknown->un_name, name))
        return std::string(h->sh_unknown->un_value != nullptr ? h->sh_unknown->un_value : "");
      continue;
    }
    if (hc->hc_name == nullptr) continue;
    if (equalsIgnoreCase(hc->hc_name, name) ||
        (name.size() == 1 && hc->hc_short[0] != '\0' && equalsIgnoreCase(std::string_view(hc->hc_short, 1), name)))
      return encodeValue(h);
  }
  return std::nullopt;
}

std::string SipMessage::encode(const sip_header_t* header) {
  if (header == nullptr) return {};
  const msg_header_t* h = reinterpret_cast<const msg_header_t*>(header);
  // Received headers keep their raw bytes: echo those (RFC 3261 8.2.6.2 copies Via "unchanged").
  if (h->sh_data != nullptr && h->sh_len > 0) {
    // The last header of a frame without a blank line has no line end of its own; bare LF is normalised too.
    std::string_view raw(static_cast<const char*>(h->sh_data), h->sh_len);
    while (!raw.empty() && (raw.back() == '\r' || raw.back() == '\n')) raw.remove_suffix(1);
    return std::string(raw) + "\r\n";
  }
  if (h->sh_data != nullptr) return {};  // a later value of a comma-separated line: already in the first one's bytes
  std::string out = h->sh_class->hc_name;
  out += ": ";
  out += encodeValue(h);
  out += "\r\n";
  return out;
}

std::string SipMessage::value(const sip_header_t* header) {
  if (header == nullptr) return {};
  const msg_header_t* h = reinterpret_cast<const msg_header_t*>(header);
  const msg_header_t* next = h->sh_next;
  bool ownLine = h->sh_data != nullptr && h->sh_len > 0 && (next == nullptr || next->sh_len > 0);
  if (!ownLine) return encodeValue(h);
  std::string_view raw(static_cast<const char*>(h->sh_data), h->sh_len);
  auto colon = raw.find(':');
  if (colon == std::string_view::npos) return encodeValue(h);
  raw.remove_prefix(colon + 1);
  while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) raw.remove_prefix(1);
  while (!raw.empty() && (raw.back() == '\r' || raw.back() == '\n' || raw.back() == ' ' || raw.back() == '\t'))
    raw.remove_suffix(1);
  return std::string(raw);
}

std::string SipMessage::encodeAll(const sip_header_t* header) {
  std::string out;
  for (auto* h = reinterpret_cast<const msg_header_t*>(header); h != nullptr; h = h->sh_next)
    out += encode(reinterpret_cast<const sip_header_t*>(h));
  return out;
}

std::string withoutHeaderParam(std::string value, std::string_view name) {
  // Header parameters start after the closing '>' of a name-addr; a quoted parameter value may itself hold '>'
  // (+sip.instance="<urn:...>"), so find the first '>' outside quotes.
  size_t start = 0;
  if (auto lt = value.find('<'); lt != std::string::npos) {
    auto gt = value.find('>', lt);
    start = gt == std::string::npos ? value.size() : gt;
  }
  for (;;) {
    size_t semi = value.find(';', start);
    if (semi == std::string::npos) break;
    size_t end = semi + 1;
    bool quoted = false;
    while (end < value.size() && (quoted || value[end] != ';')) {
      if (value[end] == '"') quoted = !quoted;
      ++end;
    }
    std::string_view param(value.data() + semi + 1, end - semi - 1);
    while (!param.empty() && (param.front() == ' ' || param.front() == '\t')) param.remove_prefix(1);
    std::string_view key = param.substr(0, param.find_first_of("= \t"));
    if (equalsIgnoreCase(key, name)) {
      value.erase(semi, end - semi);
      continue;
    }
    start = end;
  }
  return value;
}

}  // namespace rtcgate::signaling

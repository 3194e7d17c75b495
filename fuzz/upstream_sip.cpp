// SPDX-License-Identifier: Apache-2.0
// Target (e): one SIP datagram from the upstream (Genesys SIP Server), parsed by sofia-sip the way its transaction
// layer parses a UDP datagram (msg_extract over the whole buffer), then read by rtcgate's own code as the SIP leg
// does: the caller identity and auto-answer Call-Info of an INVITE, X-Genesys-CallUUID, the body (Genesys SDP,
// NOTIFY sipfrag, INFO DTMF) and the credentials for a 401/407 challenge.
// Invariants: the caller identity rtcgate puts in the browser's INVITE keeps its documented bounds.
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_protos.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "caller_info.h"
#include "fuzz_support.h"
#include "nua_glue.h"
#include "rtcgate/codec/dtmf.h"
#include "rtcgate/session/sdp_builder.h"
#include "rtcgate/sip/sipfrag.h"

namespace {

using namespace rtcgate;

void checkCaller(const sip_t* sip) {
  std::string user, name;
  sip::callerIdentity(sip, &user, &name);
  if (user.size() > 64 || name.size() > 64) std::abort();
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') std::abort();
  auto callInfo = sip::autoAnswerCallInfo(sip);
  if (callInfo.find_first_of("\r\n") != std::string::npos) std::abort();
}

bool contentTypeIs(const sip_t* sip, const char* type) {
  return sip->sip_content_type != nullptr && sip->sip_content_type->c_type != nullptr &&
         strcasecmp(sip->sip_content_type->c_type, type) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::silenceLogs();
  msg_t* msg = msg_create(sip_default_mclass(), 0);
  if (msg == nullptr) return 0;
  void* buf = msg_buf_alloc(msg, size + 1);
  if (buf == nullptr) {
    msg_destroy(msg);
    return 0;
  }
  if (size > 0) std::memcpy(buf, data, size);
  msg_buf_commit(msg, size, 1);  // one datagram: end of stream
  const int extracted = msg_extract(msg);
  const sip_t* sip = sip_object(msg);
  if (extracted > 0 && !msg_has_error(msg) && sip != nullptr) {
    (void)sip::unknownHeader(sip, "X-Genesys-CallUUID");
    std::string_view body = sip::bodyOf(sip);
    if (sip->sip_request != nullptr) {
      if (sip->sip_request->rq_method == sip_method_invite) checkCaller(sip);
      if (sip->sip_request->rq_method == sip_method_notify && contentTypeIs(sip, "message/sipfrag"))
        (void)sip::parseSipfragStatus(body);
      if (sip->sip_request->rq_method == sip_method_info && sip->sip_content_type != nullptr &&
          sip->sip_content_type->c_type != nullptr)
        (void)codec::parseInfoDtmf(sip->sip_content_type->c_type, body);
    } else if (sip->sip_status != nullptr &&
               (sip->sip_status->st_status == 401 || sip->sip_status->st_status == 407)) {
      (void)sip::digestCredentials(sip, "5001", "dn-secret");
    }
    if (contentTypeIs(sip, "application/sdp")) (void)session::readGenesysSdp(std::string(body));
  }
  msg_destroy(msg);
  return 0;
}

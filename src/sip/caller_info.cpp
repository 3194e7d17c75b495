// SPDX-License-Identifier: Apache-2.0
#include "caller_info.h"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>

#include <string_view>

namespace rtcgate::sip {

std::string autoAnswerCallInfo(const sip_t* sip) {
  std::string out;
  if (sip == nullptr) return out;
  for (const sip_call_info_t* ci = sip->sip_call_info; ci != nullptr; ci = ci->ci_next) {
    if (msg_params_find(ci->ci_params, "answer-after") == nullptr) continue;
    char buf[512];
    auto n = sip_header_field_e(buf, sizeof buf, reinterpret_cast<const sip_header_t*>(ci), 0);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) continue;
    std::string value(buf, static_cast<size_t>(n));
    if (value.find_first_of("\r\n") != std::string::npos) continue;
    if (!out.empty()) out += ", ";
    out += value;
  }
  return out;
}

void callerIdentity(const sip_t* sip, std::string* user, std::string* name) {
  if (sip == nullptr || sip->sip_from == nullptr) return;
  const char* u = sip->sip_from->a_url->url_user;
  if (u != nullptr) {
    std::string_view v(u);
    const bool ok = !v.empty() && v.size() <= 64 && v.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,") == std::string_view::npos;
    if (ok) *user = std::string(v);
  }
  if (const char* d = sip->sip_from->a_display; d != nullptr) {
    for (const char* c = d; *c != '\0' && name->size() < 64; ++c) {
      const auto b = static_cast<unsigned char>(*c);
      if (b < 0x20 || b == 0x7f || b == '"' || b == '\\') continue;
      name->push_back(*c);
    }
    // A multi-byte character cut by the bound is dropped whole.
    size_t end = name->size();
    size_t lead = end;
    while (lead > 0 && (static_cast<unsigned char>((*name)[lead - 1]) & 0xc0) == 0x80) --lead;
    if (lead > 0 && static_cast<unsigned char>((*name)[lead - 1]) >= 0xc0) {
      const auto b = static_cast<unsigned char>((*name)[lead - 1]);
      const size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      if (end - (lead - 1) < need) name->resize(lead - 1);
    }
    while (!name->empty() && name->back() == ' ') name->pop_back();
    while (!name->empty() && name->front() == ' ') name->erase(0, 1);
  }
}

}  // namespace rtcgate::sip

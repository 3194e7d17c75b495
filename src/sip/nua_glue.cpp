// SPDX-License-Identifier: Apache-2.0
#include "nua_glue.h"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_string.h>

namespace rtcgate::sip {

void NuaHandleDeleter::operator()(nua_handle_s* nh) const noexcept {
  if (nh == nullptr) return;
  nua_handle_destroy(nh);
}

std::string_view bodyOf(const sip_t* sip) {
  if (sip == nullptr || sip->sip_payload == nullptr || sip->sip_payload->pl_data == nullptr) return {};
  return {sip->sip_payload->pl_data, sip->sip_payload->pl_len};
}

std::string unknownHeader(const sip_t* sip, std::string_view name) {
  if (sip == nullptr) return {};
  for (const sip_unknown_t* h = sip->sip_unknown; h != nullptr; h = h->un_next) {
    if (h->un_name != nullptr && h->un_value != nullptr && name.size() == std::char_traits<char>::length(h->un_name) &&
        su_casenmatch(h->un_name, name.data(), name.size()))
      return h->un_value;
  }
  return {};
}

std::string digestCredentials(const sip_t* sip, const std::string& user, const std::string& password) {
  if (sip == nullptr) return {};
  const msg_auth_t* challenge = sip->sip_www_authenticate != nullptr ? sip->sip_www_authenticate
                                                                      : sip->sip_proxy_authenticate;
  if (challenge == nullptr || challenge->au_scheme == nullptr) return {};
  const char* realm = msg_params_find(challenge->au_params, "realm=");
  if (realm == nullptr) return {};
  // nua's credential string is "scheme:\"realm\":user:password"; the realm keeps its quotes.
  return std::string(challenge->au_scheme) + ":" + realm + ":" + user + ":" + password;
}

}  // namespace rtcgate::sip

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/symbol_check.h"

#include <dlfcn.h>

#include <cstring>

namespace rtcgate::media {

bool stunSymbolsSane(std::string* why) {
  void* sym = dlsym(RTLD_DEFAULT, "stun_message_length");
  if (sym == nullptr) return true;  // nobody exports it globally: libnice binds its own
  Dl_info info{};
  if (dladdr(sym, &info) == 0 || info.dli_fname == nullptr) return true;
  if (std::strstr(info.dli_fname, "libnice") != nullptr) return true;
  if (why) *why = std::string("stun_message_length resolves to ") + info.dli_fname + " instead of libnice";
  return false;
}

}  // namespace rtcgate::media

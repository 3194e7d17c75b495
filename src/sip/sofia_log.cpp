// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/sofia_log.h"

#include <sofia-sip/su_log.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>

#include "rtcgate/core/log.h"

// sofia exports its per-module logs without declaring them in the installed headers.
extern "C" {
extern su_log_t nua_log[];
extern su_log_t nta_log[];
extern su_log_t tport_log[];
}

namespace rtcgate::sip {
namespace {

// sofia writes one line in several calls: collect per thread until the newline. The sink gets no level, so the
// lines go out at the level that made sofia verbose in the first place.
void onSofiaLine(void*, char const* fmt, va_list ap) noexcept {
  try {
    thread_local std::string pending;
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0) return;
    pending.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
    if (pending.size() > 8192) pending.resize(8192);
    if (pending.empty() || pending.back() != '\n') return;
    while (!pending.empty() && (pending.back() == '\n' || pending.back() == '\r')) pending.pop_back();
    auto* l = log::get(log::Component::Sofia);
    l->log(l->level() <= spdlog::level::debug ? l->level() : spdlog::level::warn, "{}", pending);
    pending.clear();
  } catch (...) {
  }
}

}  // namespace

void routeSofiaLogs() {
  auto level = log::get(log::Component::Sofia)->level();
  // sofia levels: 0 fatal, 1 critical, 3 important (default), 5 verbose, 7 debug, 9 message dumps.
  unsigned sofiaLevel = level <= spdlog::level::trace ? 9 : level <= spdlog::level::debug ? 5 : 1;
  for (su_log_t* l : {su_log_default, nua_log, nta_log, tport_log}) {
    su_log_redirect(l, &onSofiaLine, nullptr);
    su_log_set_level(l, sofiaLevel);
  }
}

}  // namespace rtcgate::sip

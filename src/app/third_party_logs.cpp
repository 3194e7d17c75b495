// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/app/third_party_logs.h"

#include <glib.h>
#include <libwebsockets.h>

#include <string>

#include "rtcgate/core/log.h"
#include "rtcgate/sip/sofia_log.h"

namespace rtcgate::app {
namespace {

std::string_view trimNewline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void onGlibLog(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  auto comp = (domain != nullptr && std::string_view(domain) == "libnice") ? log::Component::Nice : log::Component::Core;
  auto* l = log::get(comp);
  std::string_view msg = message != nullptr ? message : "";
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    l->error("{}: {}", domain != nullptr ? domain : "glib", msg);
  else if (level & G_LOG_LEVEL_WARNING)
    l->warn("{}: {}", domain != nullptr ? domain : "glib", msg);
  else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    l->info("{}: {}", domain != nullptr ? domain : "glib", msg);
  else
    l->debug("{}: {}", domain != nullptr ? domain : "glib", msg);
}

void onLwsLog(int level, const char* line) {
  auto* l = log::get(log::Component::Lws);
  auto msg = trimNewline(line != nullptr ? line : "");
  // lws warns whenever LWS_CALLBACK_FILTER_NETWORK_CONNECTION refuses a socket; rtcgate refuses there on purpose
  // (connection rate limits, logged and counted by itself) and for every trusted proxy's connection, whose PROXY
  // header it reads before handing the socket back (docs/adr/0011): not a warning.
  if (msg.find("User code denied connection") != std::string_view::npos) {
    l->debug("{}", msg);
    return;
  }
  if (level & LLL_ERR)
    l->error("{}", msg);
  else if (level & LLL_WARN)
    l->warn("{}", msg);
  else if (level & (LLL_NOTICE | LLL_USER))
    l->info("{}", msg);
  else
    l->debug("{}", msg);
}

}  // namespace

void routeThirdPartyLogs() {
  g_log_set_default_handler(&onGlibLog, nullptr);
  g_log_set_handler("libnice", static_cast<GLogLevelFlags>(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION),
                    &onGlibLog, nullptr);
  sip::routeSofiaLogs();
  lws_set_log_level(LLL_ERR | LLL_WARN | LLL_NOTICE, &onLwsLog);
}

}  // namespace rtcgate::app

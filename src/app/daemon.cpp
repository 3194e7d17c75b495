// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/app/daemon.h"

#include <glib-unix.h>
#include <signal.h>

#include "rtcgate/admin/admin_http.h"
#include "rtcgate/app/third_party_logs.h"
#include "rtcgate/app/version.h"
#include "rtcgate/core/log.h"
#include "rtcgate/core/sd_notify.h"
#include "rtcgate/signaling/wss_server.h"

namespace rtcgate::app {
namespace {

struct SignalBinding {
  Daemon* daemon;
  int signum;
};

}  // namespace

Daemon::Daemon(config::ConfigPtr config, std::string configPath) : store_(std::move(config), std::move(configPath)) {}

Daemon::~Daemon() = default;

int Daemon::run() {
  control_.adoptCurrentThread();
  const auto& cfg = *store_.current();
  log::init(cfg.logging.settings);
  routeThirdPartyLogs();
  auto* lg = log::get(log::Component::Core);

  // A peer closing a TCP/TLS socket mid-write must not kill the daemon.
  ::signal(SIGPIPE, SIG_IGN);

  reloadsTotal_ = &metrics_.counter("rtcgate_config_reloads_total", "Configuration reloads applied");
  reloadFailuresTotal_ =
      &metrics_.counter("rtcgate_config_reload_failures_total", "Configuration reloads refused (old config kept)");
  metrics_.gauge("rtcgate_up", "1 while the daemon runs", [] { return 1.0; });

  workers_ = std::make_unique<WorkerPool>(cfg.media.workers);
  workers_->start();
  metrics_.gauge("rtcgate_media_workers", "Media worker threads", [this] { return static_cast<double>(workers_->size()); });

  std::string adminUrl = "disabled";
  if (cfg.listeners.admin.enabled) {
    try {
      admin_ = std::make_unique<admin::AdminHttp>(control_, cfg.listeners.admin.bind, metrics_,
                                                  [this] { return !stopping_; });
    } catch (const std::exception& e) {
      lg->critical("cannot start: {}", e.what());
      workers_->stop();
      return 1;
    }
    adminUrl = fmt::format("http://{}:{}/ (healthz, readyz, metrics)", cfg.listeners.admin.bind.address, admin_->port());
  }

  if (!cfg.listeners.wss.empty()) {
    try {
      wss_ = std::make_unique<signaling::WssServer>(control_, cfg, metrics_);
    } catch (const std::exception& e) {
      lg->critical("cannot start: {}", e.what());
      admin_.reset();
      workers_->stop();
      return 1;
    }
  }

  // GLib delivers these on the control context, outside the async-signal context, so handlers may do real work.
  auto watch = [this](int signum, auto handler) {
    GSource* src = g_unix_signal_source_new(signum);
    g_source_set_callback(src, handler, this, nullptr);
    g_source_attach(src, control_.context());
    g_source_unref(src);
  };
  watch(SIGHUP, +[](gpointer self) -> gboolean {
    static_cast<Daemon*>(self)->reload();
    return G_SOURCE_CONTINUE;
  });
  watch(SIGTERM, +[](gpointer self) -> gboolean {
    static_cast<Daemon*>(self)->beginShutdown("SIGTERM");
    return G_SOURCE_CONTINUE;
  });
  watch(SIGINT, +[](gpointer self) -> gboolean {
    static_cast<Daemon*>(self)->beginShutdown("SIGINT");
    return G_SOURCE_CONTINUE;
  });

  lg->info("rtcgate {} running (config: {}); media workers: {}; admin: {}", kVersion,
           store_.path().empty() ? "embedded default" : store_.path(), workers_->size(), adminUrl);
  if (cfg.security.allowedOrigins.empty())
    lg->warn("security.allowed_origins is empty: browsers from any web origin may connect");
  sdNotify(fmt::format("READY=1\nSTATUS=serving admin={}:{}", cfg.listeners.admin.bind.address,
                       admin_ ? admin_->port() : 0));

  control_.run();

  wss_.reset();
  admin_.reset();
  workers_->stop();
  lg->info("rtcgate stopped");
  spdlog::default_logger()->flush();
  return 0;
}

void Daemon::reload() {
  auto* lg = log::get(log::Component::Config);
  sdNotify("RELOADING=1");
  auto result = store_.reload();
  if (!result.applied) {
    reloadFailuresTotal_->fetch_add(1, std::memory_order_relaxed);
    lg->error("reload refused, the running configuration is unchanged: {}", result.error);
  } else {
    reloadsTotal_->fetch_add(1, std::memory_order_relaxed);
    log::init(store_.current()->logging.settings);
    if (wss_) wss_->applyConfig(*store_.current());
    for (auto& key : result.restartOnly) lg->warn("reload: '{}' changed; it takes effect at the next restart", key);
    lg->info("configuration reloaded from {}", store_.path().empty() ? "the embedded default" : store_.path());
  }
  sdNotify("READY=1");
}

void Daemon::beginShutdown(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  log::get(log::Component::Core)->info("{}: shutting down", why);
  sdNotify("STOPPING=1");
  // Sessions are drained here once the session layer exists; until then nothing holds the loop open.
  control_.quit();
}

}  // namespace rtcgate::app

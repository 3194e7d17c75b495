// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/app/daemon.h"

#include <glib-unix.h>
#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "admin_api.h"
#include "drain.h"
#include "rtcgate/admin/admin_http.h"
#include "rtcgate/app/file_watch.h"
#include "rtcgate/app/third_party_logs.h"
#include "rtcgate/config/agents_file.h"
#include "rtcgate/app/version.h"
#include "rtcgate/core/log.h"
#include "rtcgate/core/port_owner.h"
#include "rtcgate/core/sd_notify.h"
#include "rtcgate/sip/sip_stack.h"
#include "rtcgate/media/candidate_policy.h"
#include "rtcgate/media/dtls_certificate.h"
#include "rtcgate/media/symbol_check.h"
#include "rtcgate/session/agent_presence.h"
#include "rtcgate/session/session_manager.h"
#include "rtcgate/signaling/browser_sip_endpoint.h"
#include "rtcgate/signaling/wss_server.h"
#include "doctor_udp.h"

namespace rtcgate::app {
namespace {

// The SIP stack needs its call handler before the session layer (which needs the stack) exists.
class UpstreamCallRouter final : public sip::UpstreamCallHandler {
public:
  session::SessionManager* sessions = nullptr;
  void onIncomingCall(std::shared_ptr<sip::UpstreamCall> call) override {
    if (sessions != nullptr) return sessions->onIncomingCall(std::move(call));
    // No browser listener configured: no agent can be reached.
    call->reject(480, "Temporarily Unavailable");
  }
};

// How long a stop may wait for sofia to unregister DNs and end calls before the loop quits anyway.
constexpr std::chrono::milliseconds kShutdownGrace{5000};

// Issue 12: the operator sees at start which addresses browsers will be offered and the rule that decided, so a
// docker/LAN address cannot reach the SDP unnoticed. The interfaces are read once here; each call reads them again.
void logCandidatePolicy(const config::Candidates& policy) {
  auto lg = log::get(log::Component::Ice);
  auto report = media::describeCandidatePolicy(policy, media::listLocalAddresses());
  size_t offered = 0;
  for (auto& e : report.entries) {
    if (e.decision.allowed) ++offered;
    lg->info("ice candidate policy: {}", media::formatCandidatePolicyEntry(e));
  }
  for (auto& w : report.warnings) lg->warn("ice candidate policy: {}", w);
  if (offered == 0)
    lg->warn("ice candidate policy: no local address is offered to browsers; every call will fail (see --check-config)");
}

// Heap trimming once calls have ended (issue 11). Every call holds ~300 kB of heap while it is set up (libnice
// allocates two 64 kB receive buffers per stream, Opus encoder and decoder state, OpenSSL SSL objects, sofia's
// transactions, which nta keeps for up to a minute after the call). Measured with scripts/half_open_daemon.sh
// (100 + 100 half-open legs per pass, release build): RSS 23 MB at start, 66 MB after pass 1, then 84, 93, 96,
// 98, 99 MB after passes 2-6: a plateau, not a leak. heaptrack, 70 s after the last call: 2.6 MB still allocated,
// all of it start-up state; malloc_info: 67 MB of the 79 MB heap free, in ~10,000 chunks between long-lived
// ones, so glibc can return nothing from the top of the heap. glibc.malloc.arena_max=1 and a fixed
// mmap_threshold (32, 64, 128 kB) did not change the figures (4 threads; the big buffers are not the problem).
// malloc_trim(0) returns the free pages inside the heap (MADV_DONTNEED): 99 MB -> 48 MB. So it runs on the
// control loop every kHeapTrimInterval when calls ended since the last run: 3-11 ms with a ~100 MB heap, 28 ms
// with 222 MB (each arena is locked while it is walked: a media worker's malloc waits that long at worst), at most
// twice a minute; nothing happens while no call ends. With it the 500-leg run peaks at 222 MB in both passes
// (300 MB without) and is back to 43 MB 35 s later.
constexpr std::chrono::milliseconds kHeapTrimInterval{30000};

// Issue 13: libwebsockets and sofia report a port in use only vaguely ("context failed", "nua_create failed"), so
// the bind is tried first and a failure names address:port, errno's text and, when /proc tells, the holder.
std::string bindProblem(PortProtocol protocol, const std::string& address, uint16_t port) {
  auto ip = IpAddress::parse(address);
  if (!ip || port == 0) return {};  // port 0: the kernel picks a free one
  int err = 0;
  if (protocol == PortProtocol::Tcp) err = tcpBindError(*ip, port);
  else if (!doctor::udpBindable(*ip, port, err)) err = err != 0 ? err : EADDRINUSE;
  if (err == 0) return {};
  const auto owner = err == EADDRINUSE ? portOwner(protocol, port) : std::string();
  return fmt::format("cannot listen on {}:{} ({}): {}{}", address, port, protocol == PortProtocol::Tcp ? "tcp" : "udp",
                     std::strerror(err), owner.empty() ? "" : " (held by " + owner + ")");
}

// An edit is several writes (or a write then a rename): reload once the file has been quiet this long.
constexpr std::chrono::milliseconds kAgentsFileDebounce{300};

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
  metrics_.gauge("rtcgate_build_info", "Always 1; the labels name the running build",
                 {{"version", kVersion}, {"commit", kCommit}, {"build_type", kBuildType}}, [] { return 1.0; });

  workers_ = std::make_unique<WorkerPool>(cfg.media.workers);
  workers_->start();
  metrics_.gauge("rtcgate_media_workers", "Media worker threads", [this] { return static_cast<double>(workers_->size()); });

  std::string adminUrl = "disabled";
  if (cfg.listeners.admin.enabled) {
    if (auto why = bindProblem(PortProtocol::Tcp, cfg.listeners.admin.bind.address, cfg.listeners.admin.bind.port);
        !why.empty()) {
      lg->critical("cannot start: admin HTTP: {}", why);
      workers_->stop();
      return 1;
    }
    try {
      admin_ = std::make_unique<admin::AdminHttp>(control_, cfg.listeners.admin.bind, metrics_,
                                                  [this] { return notReadyReasons(); });
    } catch (const std::exception& e) {
      lg->critical("cannot start: {}", e.what());
      workers_->stop();
      return 1;
    }
    adminUrl = fmt::format("http://{}:{}/ (healthz, readyz, metrics, api/v1)", cfg.listeners.admin.bind.address, admin_->port());
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
  // Drain without the API (systemd ExecReload-style scripts, `kill -USR1`): the default deadline.
  watch(SIGUSR1, +[](gpointer self) -> gboolean {
    static_cast<Daemon*>(self)->startDrain(std::chrono::duration_cast<std::chrono::milliseconds>(Drain::kDefaultDeadline),
                                           "SIGUSR1");
    return G_SOURCE_CONTINUE;
  });

  auto router = std::make_unique<UpstreamCallRouter>();
  auto* routerPtr = router.get();
  callHandler_ = std::move(router);
  for (auto t : cfg.upstream.transports) {
    const auto protocol = t == config::SipTransport::Udp ? PortProtocol::Udp : PortProtocol::Tcp;
    if (auto why = bindProblem(protocol, cfg.upstream.sipBind.address, cfg.upstream.sipBind.port); !why.empty()) {
      lg->critical("cannot start: SIP toward Genesys (upstream.sip_bind): {}", why);
      wss_.reset();
      admin_.reset();
      workers_->stop();
      return 1;
    }
  }
  try {
    sip_ = std::make_unique<sip::SipStack>(control_, store_.current(), metrics_, *callHandler_);
    sip_->onReady([this] { announceReady(); });
    sip_->start();
  } catch (const std::exception& e) {
    lg->critical("cannot start: SIP toward {}:{}: {}", cfg.upstream.sipBind.address, cfg.upstream.sipBind.port,
                 e.what());
    sip_.reset();
    wss_.reset();
    admin_.reset();
    workers_->stop();
    return 1;
  }
  if (std::string why; !media::stunSymbolsSane(&why)) {
    // A packaging/link-order fault, not a configuration one: ICE could never connect.
    lg->critical("cannot start: {} (libnice must be loaded before sofia-sip-ua; see docs/adr)", why);
    return 1;
  }
  if (wss_) {
    presence_ = std::make_unique<session::AgentPresence>(
        wss_->registrar(), [this](const std::string& dn) { sip_->registerDn(dn); },
        [this](const std::string& dn) { sip_->unregisterDn(dn); });
    wss_->endpoint().dialogs().setGraceListener(
        [this](const std::string& agent, bool waiting) { presence_->keepForReconnect(agent, waiting); });
    try {
      ports_ = std::make_unique<media::RtpPortPool>(cfg.media.rtpPortMin, cfg.media.rtpPortMax,
                                                    static_cast<unsigned>(workers_->size()));
      media::MediaContext mediaContext;
      mediaContext.config = store_.current();
      mediaContext.certificate = media::DtlsCertificate::fromConfig(cfg.media);
      mediaContext.metrics = &metrics_;
      sessions_ = std::make_unique<session::SessionManager>(
          session::SessionDeps{control_, *workers_, *ports_, *sip_, wss_->endpoint().dialogs(), mediaContext},
          store_, wss_->registrar(), metrics_);
    } catch (const std::exception& e) {
      lg->critical("cannot start: media: {}", e.what());
      return 1;
    }
    routerPtr->sessions = sessions_.get();
    callsTotal_ = &metrics_.counter("rtcgate_calls_total", "Calls admitted (both directions)");
    heapTrims_ = &metrics_.counter("rtcgate_heap_trims_total", "malloc_trim runs after calls ended");
    heapTrim_ = Timer(control_, kHeapTrimInterval, [this] {
      trimHeapAfterCalls();
      return true;
    });
    wss_->endpoint().dialogs().setIncomingHandler(
        [this](std::shared_ptr<signaling::BrowserDialog> d) { sessions_->onBrowserInvite(std::move(d)); });
  }
  drain_ = std::make_unique<Drain>(control_, Drain::Hooks{
      [this] { return sessions_ ? sessions_->size() : size_t{0}; },
      [this] {
        if (sessions_) sessions_->setDraining(true);
        if (wss_) wss_->endpoint().setDraining(true);
        if (sip_) sip_->setDraining(true);
      },
      [this](const char* why) { beginShutdown(why); }});
  if (admin_) {
    api_ = std::make_unique<AdminApi>(AdminApi::Deps{store_, sessions_.get(), wss_.get(), sip_.get(), *drain_,
                                                     [this] { return reload(); }});
    admin_->setApi([this](const admin::AdminHttp::ApiRequest& r, admin::AdminHttp::Reply reply) {
      api_->handle(r, std::move(reply));
    }, [this] { return store_.current()->adminAuth.token.reveal(); });
  }
  lg->info("rtcgate {} starting (config: {}); media workers: {}; admin: {}", kVersion,
           store_.path().empty() ? "embedded default" : store_.path(), workers_->size(), adminUrl);
  if (cfg.security.allowedOrigins.empty())
    lg->warn("security.allowed_origins is empty: browsers from any web origin may connect");
  logCandidatePolicy(cfg.ice.candidates);
  // WatchdogSec= in the unit: the control loop proves it still turns; if it stalls, systemd restarts the daemon.
  // A relative timer, not periodic(): after a stall it must not send a burst of catch-up pings.
  if (const auto interval = sdWatchdogInterval(); interval.count() > 0) {
    const auto period = std::max(std::chrono::milliseconds{1},
                                 std::chrono::duration_cast<std::chrono::milliseconds>(interval));
    watchdog_ = Timer(control_, period, [] {
      sdNotify("WATCHDOG=1");
      return true;
    });
    lg->info("systemd watchdog: WATCHDOG=1 every {} ms", period.count());
  }
  agentsFileReloads_ = &metrics_.counter("rtcgate_agents_file_reloads_total", "agents_file reloads applied");
  agentsFileReloadFailures_ = &metrics_.counter("rtcgate_agents_file_reload_failures_total",
                                                "agents_file reloads refused (the agents loaded before stay)");
  metrics_.gauge("rtcgate_agents_configured", "Agents listed (YAML agents and agents_file)",
                 [this] { return static_cast<double>(store_.current()->agents.size()); });
  watchAgentsFile();

  control_.run();
  agentsWatch_.reset();

  if (admin_) admin_->setApi(nullptr, nullptr);
  api_.reset();
  drain_.reset();
  if (wss_) {
    wss_->endpoint().dialogs().setIncomingHandler(nullptr);
    wss_->endpoint().dialogs().setGraceListener(nullptr);
  }
  static_cast<UpstreamCallRouter&>(*callHandler_).sessions = nullptr;
  heapTrim_ = Timer();
  watchdog_ = Timer();
  sessions_.reset();
  presence_.reset();
  wss_.reset();
  sip_.reset();
  admin_.reset();
  workers_->stop();
  lg->info("rtcgate stopped");
  spdlog::default_logger()->flush();
  return 0;
}

void Daemon::announceReady() {
  const auto& cfg = *store_.current();
  std::string transports;
  for (auto t : cfg.upstream.transports)
    transports += std::string(transports.empty() ? "" : "+") + (t == config::SipTransport::Udp ? "udp" : "tcp");
  log::get(log::Component::Core)
      ->info("ready: SIP toward Genesys on {}:{} ({}), {} upstream server(s), {} agent DN(s)",
             cfg.upstream.sipBind.address, sip_->port(), transports, cfg.upstream.servers.size(), cfg.agents.size());
  std::string wss;
  for (size_t i = 0; wss_ && i < cfg.listeners.wss.size(); ++i)
    wss += fmt::format(" wss={}:{}", cfg.listeners.wss[i].bind.address, wss_->port(i));
  sdNotify(fmt::format("READY=1\nSTATUS=serving admin={}:{} sip={}:{}{}", cfg.listeners.admin.bind.address,
                       admin_ ? admin_->port() : 0, cfg.upstream.sipBind.address, sip_->port(), wss));
}

void Daemon::startDrain(std::chrono::milliseconds deadline, const std::string& by) {
  if (drain_ && !stopping_) drain_->start(deadline, by);
}

config::ConfigStore::ReloadResult Daemon::reload() {
  auto* lg = log::get(log::Component::Config);
  sdNotify("RELOADING=1");
  auto result = store_.reload();
  for (auto& w : result.warnings) lg->warn("reload: {}", w);
  // Parsing a hostile file (100,000 nested '[': yaml-cpp takes ~240 bytes per level) frees its memory but the
  // heap keeps it resident: 23 MB stayed in RSS after one such SIGHUP, 480 MB after 2,000,000 levels (issue 11).
  ::malloc_trim(0);
  if (!result.applied) {
    reloadFailuresTotal_->fetch_add(1, std::memory_order_relaxed);
    // One line per error (the loader lists them all), each naming FILE:LINE:COLUMN and the key.
    std::istringstream errors(result.error);
    std::string first;
    std::getline(errors, first);
    lg->error("reload refused, the running configuration is unchanged: {}", first);
    for (std::string more; std::getline(errors, more);) lg->error("reload refused: also {}", more);
  } else {
    reloadsTotal_->fetch_add(1, std::memory_order_relaxed);
    log::init(store_.current()->logging.settings);
    if (wss_) wss_->applyConfig(*store_.current());
    if (sip_) sip_->applyConfig(*store_.current());
    for (auto& key : result.restartOnly)
      lg->warn("reload: '{}' changed; it needs a restart and keeps its running value until then", key);
    if (!result.agentsFileError.empty()) {
      agentsFileReloadFailures_->fetch_add(1, std::memory_order_relaxed);
      lg->error("agents file reload refused: {}", result.agentsFileError);
    }
    lg->info("configuration reloaded from {}", store_.path().empty() ? "the embedded default" : store_.path());
    logCandidatePolicy(store_.current()->ice.candidates);  // [reload]: what new calls will offer
    watchAgentsFile();  // agents_file may name another file now
  }
  sdNotify("READY=1");
  return result;
}

void Daemon::watchAgentsFile() {
  const auto& cfg = *store_.current();
  const std::string path = config::resolveAgentsFile(cfg.agentsFile, store_.path());
  if (agentsWatch_ && agentsWatch_->path() == path) return;
  agentsWatch_.reset();
  if (path.empty()) return;
  log::get(log::Component::Config)
      ->info("agents file {}: {} agents in all, reloaded when it changes", log::escaped(path, 200), cfg.agents.size());
  agentsWatch_ = std::make_unique<FileWatch>(control_, path, kAgentsFileDebounce, [this] { reloadAgentsFile(); });
}

void Daemon::reloadAgentsFile() {
  auto* lg = log::get(log::Component::Config);
  auto result = store_.reloadAgentsFile();
  ::malloc_trim(0);
  if (!result.applied) {
    agentsFileReloadFailures_->fetch_add(1, std::memory_order_relaxed);
    lg->error("agents file reload refused: {}", result.error);
    return;
  }
  agentsFileReloads_->fetch_add(1, std::memory_order_relaxed);
  if (wss_) wss_->applyConfig(*store_.current());
  if (sip_) sip_->applyConfig(*store_.current());
  size_t fromFile = 0;
  for (const auto& a : store_.current()->agents) fromFile += a.fromFile ? 1 : 0;
  lg->info("agents file reloaded: {} agents from the file, {} in all", fromFile, store_.current()->agents.size());
}

void Daemon::trimHeapAfterCalls() {
  const uint64_t ended = callsTotal_->load(std::memory_order_relaxed) - sessions_->size();
  if (ended == endedAtTrim_) return;
  endedAtTrim_ = ended;
  const auto start = std::chrono::steady_clock::now();
  ::malloc_trim(0);
  heapTrims_->fetch_add(1, std::memory_order_relaxed);
  log::get(log::Component::Core)
      ->debug("heap trimmed in {} us", std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::steady_clock::now() - start).count());
}

void Daemon::beginShutdown(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  log::get(log::Component::Core)->info("{}: shutting down", why);
  sdNotify("STOPPING=1");
  // DNs are unregistered and upstream calls ended by nua's shutdown; the loop quits when it reports back, or
  // after the grace period if the upstream does not answer.
  shutdownDeadline_ = Timer(control_, kShutdownGrace, [this] {
    log::get(log::Component::Core)->warn("SIP shutdown did not complete in {} ms; stopping anyway", kShutdownGrace.count());
    control_.quit();
    return false;
  });
  // Calls first (BYE/CANCEL on both legs), then the SIP stack (DN unregistrations), then the loop.
  auto stopSip = [this] {
    if (sip_) {
      sip_->onShutdownComplete([this] { control_.quit(); });
      sip_->shutdown();
    } else {
      control_.quit();
    }
  };
  if (sessions_) {
    sessions_->terminateAll(stopSip);
  } else {
    stopSip();
  }
}

}  // namespace rtcgate::app

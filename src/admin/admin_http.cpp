// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/admin/admin_http.h"

#include <libwebsockets.h>

#include <stdexcept>

#include "rtcgate/core/address.h"
#include "rtcgate/core/log.h"

namespace rtcgate::admin {
namespace {

struct PerRequest {
  std::string* body;
};

int onHttp(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t) noexcept {
  auto* req = static_cast<PerRequest*>(user);
  try {
    switch (reason) {
      case LWS_CALLBACK_HTTP: {
        auto* self = static_cast<const AdminHttp*>(lws_context_user(lws_get_context(wsi)));
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
          lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, nullptr);
          return -1;
        }
        auto resp = self->handle(static_cast<const char*>(in));
        unsigned char headers[LWS_PRE + 512];
        unsigned char* p = headers + LWS_PRE;
        unsigned char* end = headers + sizeof(headers) - 1;
        if (lws_add_http_common_headers(wsi, static_cast<unsigned>(resp.status), resp.contentType.c_str(),
                                        resp.body.size(), &p, end) != 0 ||
            lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end) != 0)
          return 1;
        req->body = new std::string(LWS_PRE, '\0');
        req->body->append(resp.body);
        lws_callback_on_writable(wsi);
        return 0;
      }
      case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (req == nullptr || req->body == nullptr) break;
        auto* data = reinterpret_cast<unsigned char*>(req->body->data()) + LWS_PRE;
        size_t len = req->body->size() - LWS_PRE;
        if (lws_write(wsi, data, len, LWS_WRITE_HTTP_FINAL) != static_cast<int>(len)) return 1;
        delete req->body;
        req->body = nullptr;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
      }
      case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      case LWS_CALLBACK_CLOSED_HTTP:
        if (req != nullptr) {
          delete req->body;
          req->body = nullptr;
        }
        break;
      default:
        break;
    }
  } catch (const std::exception& e) {
    log::get(log::Component::Admin)->error("admin request failed: {}", e.what());
    return -1;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, 0);
}

const lws_protocols kProtocols[] = {
    {"http", &onHttp, sizeof(PerRequest), 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

AdminHttp::AdminHttp(EventLoop& control, const config::Endpoint& bind, Metrics& metrics,
                     std::function<std::vector<std::string>()> ready)
    : control_(control), metrics_(metrics), ready_(std::move(ready)) {
  RTCGATE_ASSERT_ON_LOOP(control_);
  lws_context_creation_info info{};
  info.port = bind.port;
  info.iface = bind.address.c_str();
  info.protocols = kProtocols;
  info.user = this;
  // The GLib event-loop plugin (package libwebsockets-evlib-glib) runs lws on our control context.
  info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
  // lws 4.1 binds an IPv4 `iface` on its IPv6 socket as in6addr_any, i.e. every interface (warmcat/libwebsockets
  // #2290): a loopback-only admin listener would be reachable from the DMZ. IPv4 addresses get an IPv4 socket.
  if (auto a = IpAddress::parse(bind.address); a && !a->isV6()) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  void* loops[] = {control.glibLoop()};
  info.foreign_loops = loops;
  info.vhost_name = "admin";
  context_ = lws_create_context(&info);
  if (context_ == nullptr)
    throw std::runtime_error("admin HTTP: libwebsockets context failed (is libwebsockets-evlib-glib installed, is " +
                             bind.address + ":" + std::to_string(bind.port) + " free?)");
  lws_vhost* vh = lws_get_vhost_by_name(context_, "admin");
  int port = vh != nullptr ? lws_get_vhost_listen_port(vh) : -1;
  if (port <= 0) {
    lws_context_destroy(context_);
    throw std::runtime_error("admin HTTP: could not listen on " + bind.address + ":" + std::to_string(bind.port));
  }
  port_ = static_cast<uint16_t>(port);
}

AdminHttp::~AdminHttp() {
  if (context_ != nullptr) lws_context_destroy(context_);
}

AdminHttp::Response AdminHttp::handle(const std::string& path) const {
  if (path == "/healthz") return {200, "text/plain", "ok\n"};
  if (path == "/readyz") {
    const auto why = ready_ ? ready_() : std::vector<std::string>{"starting"};
    if (why.empty()) return {200, "text/plain", "ready\n"};
    std::string body = "not ready\n";
    for (const auto& line : why) body += line + "\n";
    return {503, "text/plain", body};
  }
  if (path == "/metrics") return {200, "text/plain; version=0.0.4", metrics_.renderPrometheus()};
  return {404, "text/plain", "not found\n"};
}

}  // namespace rtcgate::admin

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/admin/admin_http.h"

#include <libwebsockets.h>

#include <cstdlib>
#include <stdexcept>

#include "rtcgate/admin/json_writer.h"
#include "rtcgate/core/address.h"
#include "rtcgate/core/log.h"

namespace rtcgate::admin {
namespace {

// One HTTP transaction. lws allocates PerRequest itself (zeroed, freed without a destructor), so it holds only a
// pointer to this; a keep-alive connection gets a fresh one per request. `alive` turns false when the client goes
// away, so a reply that comes back later from the media workers writes nothing.
struct RequestState {
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::string method, path, authorization, body;
  bool tooLarge = false;
  std::optional<AdminHttp::Response> response;
  bool headersSent = false;
};

struct PerRequest {
  RequestState* st;
};

void release(PerRequest* req) {
  if (req == nullptr || req->st == nullptr) return;
  *req->st->alive = false;
  delete req->st;
  req->st = nullptr;
}

std::string header(lws* wsi, lws_token_indexes token, size_t max) {
  int len = lws_hdr_total_length(wsi, token);
  if (len <= 0 || static_cast<size_t>(len) > max) return {};
  std::string v(static_cast<size_t>(len) + 1, '\0');
  if (lws_hdr_copy(wsi, v.data(), len + 1, token) < 0) return {};
  v.resize(static_cast<size_t>(len));
  return v;
}

void start(lws* wsi, RequestState* st) {
  auto* self = static_cast<const AdminHttp*>(lws_context_user(lws_get_context(wsi)));
  std::weak_ptr<bool> alive = st->alive;
  auto reply = [wsi, st, alive](AdminHttp::Response resp) {
    auto a = alive.lock();
    if (!a || !*a) return;
    st->response = std::move(resp);
    lws_callback_on_writable(wsi);
  };
  if (st->tooLarge) return reply({413, "application/json", jsonError("request body too large")});
  self->dispatch(st->method, st->path, st->authorization, st->body, std::move(reply));
}

int writeResponse(lws* wsi, RequestState* st) {
  auto& resp = *st->response;
  if (!st->headersSent) {
    unsigned char headers[LWS_PRE + 1024];
    unsigned char* p = headers + LWS_PRE;
    unsigned char* end = headers + sizeof(headers) - 1;
    if (lws_add_http_common_headers(wsi, static_cast<unsigned>(resp.status), resp.contentType.c_str(),
                                    resp.body.size(), &p, end) != 0)
      return 1;
    for (auto& [name, value] : resp.headers) {
      std::string n = name + ":";
      if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(n.c_str()),
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), &p, end) != 0)
        return 1;
    }
    if (lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end) != 0) return 1;
    st->headersSent = true;
    lws_callback_on_writable(wsi);
    return 0;
  }
  std::string out(LWS_PRE, '\0');
  out += resp.body;
  auto* data = reinterpret_cast<unsigned char*>(out.data()) + LWS_PRE;
  if (lws_write(wsi, data, resp.body.size(), LWS_WRITE_HTTP_FINAL) != static_cast<int>(resp.body.size())) return 1;
  const bool close = st->tooLarge;
  st->response.reset();
  // An unread oversized body would be parsed as the next request on this connection: close it instead.
  if (close) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int onHttp(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) noexcept {
  auto* req = static_cast<PerRequest*>(user);
  try {
    switch (reason) {
      case LWS_CALLBACK_HTTP: {
        release(req);
        req->st = new RequestState;
        auto* st = req->st;
        st->path = static_cast<const char*>(in);
        st->authorization = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, 1024);
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0) {
          st->method = "GET";
        } else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
          st->method = "POST";
          // Bodies are bounded (kMaxBody): a larger announced one is refused before it is read.
          std::string cl = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, 20);
          unsigned long long n = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
          if (n > AdminHttp::kMaxBody) st->tooLarge = true;
          if (n > 0 && !st->tooLarge) return 0;  // the body follows: LWS_CALLBACK_HTTP_BODY(_COMPLETION)
        } else {
          st->method = "OTHER";
        }
        start(wsi, st);
        return 0;
      }
      case LWS_CALLBACK_HTTP_BODY:
        if (req == nullptr || req->st == nullptr) return -1;
        if (req->st->body.size() + len > AdminHttp::kMaxBody) req->st->tooLarge = true;
        else req->st->body.append(static_cast<const char*>(in), len);
        return 0;
      case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (req == nullptr || req->st == nullptr) return -1;
        start(wsi, req->st);
        return 0;
      case LWS_CALLBACK_HTTP_WRITEABLE:
        if (req == nullptr || req->st == nullptr || !req->st->response) break;
        return writeResponse(wsi, req->st);
      case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      case LWS_CALLBACK_CLOSED_HTTP:
        release(req);
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

constexpr std::string_view kApiPrefix = "/api/v1/";

}  // namespace

bool tokenMatches(const std::string& presented, const std::string& expected) {
  if (presented.size() != expected.size() || expected.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(presented[i] ^ expected[i]);
  return diff == 0;
}

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

void AdminHttp::setApi(ApiHandler handler, std::function<std::string()> token) {
  api_ = std::move(handler);
  token_ = std::move(token);
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

void AdminHttp::dispatch(const std::string& method, const std::string& path, const std::string& authorization,
                         const std::string& body, Reply reply) const {
  const bool api = path.rfind(kApiPrefix, 0) == 0;
  // The API is withdrawn first when the daemon stops (its routes read objects being torn down).
  if (api && !api_) return reply({503, "application/json", jsonError("the gateway is stopping")});
  if (!api) {
    // /healthz, /readyz, /metrics: GET only, never behind the token (probes and Prometheus scrape them).
    if (method != "GET") return reply({405, "text/plain", "method not allowed\n", {{"allow", "GET"}}});
    return reply(handle(path));
  }
  const std::string token = token_ ? token_() : std::string();
  if (!token.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    const bool ok = authorization.size() > kBearer.size() &&
                    authorization.compare(0, kBearer.size(), kBearer) == 0 &&
                    tokenMatches(authorization.substr(kBearer.size()), token);
    if (!ok) {
      // The presented value is never logged: it may be a mistyped real token.
      log::get(log::Component::Admin)->warn("admin API: {} {} refused (401): {}", method, log::escaped(path),
                                            authorization.empty() ? "no bearer token" : "wrong bearer token");
      return reply({401, "application/json", jsonError("a valid 'Authorization: Bearer <token>' is required"),
                    {{"www-authenticate", "Bearer realm=\"rtcgate\""}}});
    }
  }
  if (method != "GET" && method != "POST")
    return reply({405, "application/json", jsonError("method not allowed"), {{"allow", "GET, POST"}}});
  api_({method, path.substr(kApiPrefix.size()), body}, std::move(reply));
}

}  // namespace rtcgate::admin

// SPDX-License-Identifier: Apache-2.0
#include "wss_client.h"

#include <libwebsockets.h>

#include <cstring>
#include <stdexcept>

namespace rtcgate::load {
namespace {

int trampoline(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) noexcept {
  (void)user;
  lws_context* ctx = wsi != nullptr ? lws_get_context(wsi) : nullptr;
  auto* self = ctx != nullptr ? static_cast<WssClient*>(lws_context_user(ctx)) : nullptr;
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  try {
    return self->onCallback(wsi, static_cast<int>(reason), in, len);
  } catch (...) {
    return -1;  // never unwind through libwebsockets
  }
}

const lws_protocols kProtocols[] = {
    {"sip", trampoline, 0, 65536, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

WssClient::WssClient(EventLoop& loop, size_t maxConnections) : loop_(loop) {
  lws_set_log_level(LLL_ERR, nullptr);
  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.user = this;
  info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  void* loops[] = {loop_.glibLoop()};
  info.foreign_loops = loops;
  info.fd_limit_per_thread = static_cast<unsigned>(maxConnections + 16);
  context_ = lws_create_context(&info);
  if (context_ == nullptr) throw std::runtime_error("libwebsockets client context failed");
}

WssClient::~WssClient() {
  if (context_ != nullptr) lws_context_destroy(context_);
}

std::shared_ptr<WssClient::Connection> WssClient::connect(const std::string& url, const std::string& origin,
                                                          Handler handler) {
  // lws_parse_uri edits its argument in place.
  std::string copy = url;
  const char* proto = nullptr;
  const char* address = nullptr;
  const char* path = nullptr;
  int port = 0;
  if (lws_parse_uri(copy.data(), &proto, &address, &port, &path) != 0) return nullptr;
  std::string fullPath = std::string("/") + path;
  auto conn = std::make_shared<Connection>();
  conn->handler_ = std::move(handler);
  lws_client_connect_info ci{};
  ci.context = context_;
  ci.address = address;
  ci.port = port;
  ci.path = fullPath.c_str();
  ci.host = address;
  ci.origin = origin.c_str();
  ci.protocol = "sip";
  ci.local_protocol_name = "sip";
  ci.ssl_connection = std::strcmp(proto, "wss") == 0
                          ? LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED
                          : 0;
  ci.opaque_user_data = conn.get();
  conn->self_ = conn;
  ci.pwsi = &conn->wsi_;
  if (lws_client_connect_via_info(&ci) == nullptr) {
    conn->self_.reset();
    conn->wsi_ = nullptr;
    return nullptr;
  }
  return conn;
}

int WssClient::onCallback(lws* wsi, int reasonInt, void* in, size_t len) {
  auto reason = static_cast<lws_callback_reasons>(reasonInt);
  auto* conn = static_cast<Connection*>(lws_get_opaque_user_data(wsi));
  switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (conn == nullptr) return -1;
      conn->open_ = true;
      if (!conn->outbox_.empty()) lws_callback_on_writable(wsi);
      if (conn->handler_.open) conn->handler_.open();
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (conn == nullptr) return -1;
      conn->inbound_.append(static_cast<const char*>(in), len);
      if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        std::string text = std::move(conn->inbound_);
        conn->inbound_.clear();
        if (conn->handler_.message) conn->handler_.message(std::move(text));
      }
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
      if (conn == nullptr || conn->outbox_.empty()) return 0;
      std::string& front = conn->outbox_.front();
      size_t n = front.size() - LWS_PRE;
      if (lws_write(wsi, reinterpret_cast<unsigned char*>(front.data()) + LWS_PRE, n, LWS_WRITE_TEXT) !=
          static_cast<int>(n))
        return -1;
      conn->outbox_.pop_front();
      if (!conn->outbox_.empty()) lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED: {
      if (conn == nullptr) return 0;
      lws_set_opaque_user_data(wsi, nullptr);
      conn->wsi_ = nullptr;
      conn->open_ = false;
      std::string why = reason == LWS_CALLBACK_CLIENT_CLOSED ? "closed" : "connect failed";
      if (reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR && in != nullptr && len > 0)
        why += ": " + std::string(static_cast<const char*>(in), strnlen(static_cast<const char*>(in), len));
      auto keep = std::move(conn->self_);
      auto closed = std::move(conn->handler_.closed);
      conn->handler_ = {};
      if (closed) closed(why);
      return 0;
    }
    default:
      return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  }
}

bool WssClient::Connection::send(std::string text) {
  if (wsi_ == nullptr) return false;
  std::string framed(LWS_PRE, '\0');
  framed += text;
  outbox_.push_back(std::move(framed));
  if (open_) lws_callback_on_writable(wsi_);
  return true;
}

void WssClient::Connection::close() {
  handler_ = {};
  if (wsi_ != nullptr) {
    lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }
}

}  // namespace rtcgate::load

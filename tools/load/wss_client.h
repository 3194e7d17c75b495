// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "rtcgate/core/event_loop.h"

struct lws;
struct lws_context;

namespace rtcgate::load {

// SIP over WebSocket Secure, client side (RFC 7118, subprotocol "sip"), on libwebsockets' client API driven by one
// rtcgate EventLoop (lws' glib event library, as the daemon's WssServer). The server certificate is not verified:
// the generator talks to a gateway it was pointed at on loopback (self-signed demo certificates).
// Thread: everything on `loop`'s thread, including the handler callbacks.
class WssClient {
public:
  struct Handler {
    std::function<void()> open;
    std::function<void(std::string text)> message;  // one complete text message (one SIP message)
    std::function<void(const std::string& why)> closed;  // connection failed or closed; no callback follows
  };
  class Connection;

  WssClient(EventLoop& loop, size_t maxConnections);
  ~WssClient();
  WssClient(const WssClient&) = delete;
  WssClient& operator=(const WssClient&) = delete;

  // url: wss://HOST:PORT/PATH (HOST an IP address). nullptr when lws refuses to start the connection.
  std::shared_ptr<Connection> connect(const std::string& url, const std::string& origin, Handler handler);

  // lws' callback, by reason; public for the C trampoline only.
  int onCallback(lws* wsi, int reason, void* in, size_t len);

private:
  EventLoop& loop_;
  lws_context* context_ = nullptr;
};

class WssClient::Connection {
public:
  // Queues one text message; sent when the socket is writable. False once closed.
  bool send(std::string text);
  void close();  // no handler callback follows
  bool isOpen() const { return wsi_ != nullptr && open_; }

private:
  friend class WssClient;
  lws* wsi_ = nullptr;
  bool open_ = false;
  Handler handler_;
  std::deque<std::string> outbox_;  // each with LWS_PRE bytes in front
  std::string inbound_;             // fragments of the message being received
  std::shared_ptr<Connection> self_;  // keeps the connection alive while lws holds it
};

}  // namespace rtcgate::load

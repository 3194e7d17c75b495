// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "rtcgate/core/event_loop.h"

namespace rtcgate::load {

// A bound, non-blocking UDP socket watched on one EventLoop: `readable` runs when datagrams wait (read them all with
// receive()). Owns the descriptor and its GSource. Thread: the loop's.
class UdpSocket {
public:
  // Binds ip:port (port 0: ephemeral); throws std::runtime_error with the errno text on failure.
  UdpSocket(EventLoop& loop, const std::string& ip, uint16_t port, std::function<void()> readable);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  void setReadable(std::function<void()> readable) { readable_ = std::move(readable); }
  uint16_t port() const { return port_; }
  int fd() const { return fd_; }
  const std::string& ip() const { return ip_; }
  // One datagram or -1 when none is waiting.
  ssize_t receive(uint8_t* buf, size_t cap, sockaddr_storage* from = nullptr);
  // Asks the kernel to stamp each datagram as it arrives (SO_TIMESTAMPNS), so a receiver's figures leave out how
  // long the datagram then waited for this process's loop. Returns false if the kernel refused.
  bool enableArrivalTimestamps();
  // One datagram or -1; `arrival` is when the kernel received it, on the steady clock (now when not stamped).
  ssize_t receive(uint8_t* buf, size_t cap, std::chrono::steady_clock::time_point& arrival);
  bool sendTo(const uint8_t* data, size_t len, const sockaddr_storage& to, socklen_t toLen);
  bool sendTo(const std::string& text, const std::string& ip, uint16_t port);

private:
  static int onReadable(int fd, unsigned condition, void* self);
  int fd_ = -1;
  unsigned sourceId_ = 0;
  std::string ip_;
  uint16_t port_ = 0;
  std::function<void()> readable_;
  GMainContext* sourceContext_ = nullptr;
};

}  // namespace rtcgate::load

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace rtcgate::media {

// One recvmmsg(2) worth of datagrams from a non-blocking UDP socket (issue 14, docs/adr/0010-batch-socket-io.md).
// A receive takes what is queued, up to kCapacity, in one system call; fewer than kCapacity means the queue was
// empty, so a reader need not make a further call that ends in EAGAIN (what a recvfrom loop does on every wakeup).
// A datagram larger than kDatagramBytes is cut by the kernel and reported as truncated (MSG_TRUNC), never handed
// on as if it were whole.
// Thread: forThisThread() gives each thread its own batch, which all the RTP legs of a media worker share: the
// datagrams of one receive are valid until that thread's next receive. Fixed storage: no allocation.
class DatagramBatch {
public:
  static constexpr unsigned kCapacity = 16;
  static constexpr size_t kDatagramBytes = 1500;  // Ethernet MTU: no RTP/RTCP packet a SIP peer sends is larger

  struct Datagram {
    std::span<const uint8_t> data;
    const sockaddr_storage* from;
    bool truncated;  // larger than kDatagramBytes: data holds only its first kDatagramBytes
  };

  static DatagramBatch& forThisThread();

  // Receives up to kCapacity datagrams without blocking; returns how many (0: none queued, or an error).
  unsigned receive(int fd);
  Datagram operator[](unsigned i) const;

private:
  std::array<std::array<uint8_t, kDatagramBytes>, kCapacity> data_{};
  std::array<sockaddr_storage, kCapacity> from_{};
  std::array<iovec, kCapacity> iov_{};
  std::array<mmsghdr, kCapacity> msgs_{};
};

}  // namespace rtcgate::media

// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/media/rtp/datagram_batch.h"

namespace rtcgate::media {

DatagramBatch& DatagramBatch::forThisThread() {
  // Trivially constructible storage in the executable's static TLS block: created with the thread, not on the heap.
  static thread_local DatagramBatch batch;
  return batch;
}

unsigned DatagramBatch::receive(int fd) {
  for (unsigned i = 0; i < kCapacity; ++i) {
    iov_[i] = {data_[i].data(), data_[i].size()};
    msgs_[i].msg_hdr = {};
    msgs_[i].msg_hdr.msg_name = &from_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_len = 0;
  }
  // No timeout argument: with MSG_DONTWAIT recvmmsg returns what is queued at once (its timeout is only checked
  // after each datagram, recvmmsg(2) BUGS).
  const int n = recvmmsg(fd, msgs_.data(), kCapacity, MSG_DONTWAIT, nullptr);
  return n > 0 ? static_cast<unsigned>(n) : 0u;
}

DatagramBatch::Datagram DatagramBatch::operator[](unsigned i) const {
  const auto& m = msgs_[i];
  const bool truncated = (m.msg_hdr.msg_flags & MSG_TRUNC) != 0;
  return {std::span<const uint8_t>(data_[i].data(), truncated ? data_[i].size() : m.msg_len), &from_[i], truncated};
}

}  // namespace rtcgate::media

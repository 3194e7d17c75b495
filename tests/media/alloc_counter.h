// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace rtcgate::test {

// Heap allocations made by the calling thread, counted by the replacements in alloc_counter.cpp (linked only into
// rtcgate_packet_path_alloc_tests: replacing operator new and malloc is process-wide).
//   operatorNew: every global operator new / new[] (all variants). rtcgate's own code allocates only this way.
//   malloc:      every malloc/calloc/realloc/memalign family call, including the ones operator new makes. What is
//                left after subtracting operatorNew is C libraries' own heap use (GLib's g_malloc, OpenSSL's
//                CRYPTO_malloc, libopus/libsrtp2 are plain malloc).
//   live:        blocks allocated minus blocks freed: 0 over a window means whatever was allocated was freed again.
// Not counted: mmap by the allocator itself, and allocations on other threads.
struct AllocCounts {
  uint64_t operatorNew = 0;
  uint64_t malloc = 0;
  int64_t live = 0;  // blocks allocated and not yet freed (all allocation functions)
  uint64_t libraryMalloc() const { return malloc - operatorNew; }
};

// False in sanitizer builds: ASan/TSan own malloc and operator new there, so nothing is replaced or counted.
bool allocCountingAvailable();
AllocCounts threadAllocCounts();

// The allocations between construction and delta() on this thread.
class AllocWindow {
public:
  AllocWindow() : start_(threadAllocCounts()) {}
  AllocCounts delta() const {
    AllocCounts now = threadAllocCounts();
    return {now.operatorNew - start_.operatorNew, now.malloc - start_.malloc, now.live - start_.live};
  }

private:
  AllocCounts start_;
};

}  // namespace rtcgate::test

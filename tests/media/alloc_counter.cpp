// SPDX-License-Identifier: Apache-2.0
// Counting replacements of the global allocation functions. operator new goes through malloc (so the malloc count
// includes it); malloc and friends forward to glibc's __libc_* entry points, which exist for exactly this kind of
// interposition. Counters are thread_local in the executable (static TLS: reading them never allocates).
#include "alloc_counter.h"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RTCGATE_ALLOC_COUNTING 0
#else
#define RTCGATE_ALLOC_COUNTING 1
#endif

namespace {
constinit thread_local uint64_t tOperatorNew = 0;
constinit thread_local uint64_t tMalloc = 0;
constinit thread_local int64_t tLive = 0;  // blocks allocated minus blocks freed on this thread
inline void* born(void* p) {
  if (p != nullptr) ++tLive;
  return p;
}
}  // namespace

namespace rtcgate::test {
bool allocCountingAvailable() { return RTCGATE_ALLOC_COUNTING != 0; }
AllocCounts threadAllocCounts() { return {tOperatorNew, tMalloc, tLive}; }
}  // namespace rtcgate::test

#if RTCGATE_ALLOC_COUNTING

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t n) {
  ++tMalloc;
  return born(__libc_malloc(n));
}
void* calloc(size_t n, size_t size) {
  ++tMalloc;
  return born(__libc_calloc(n, size));
}
void* realloc(void* p, size_t n) {
  ++tMalloc;
  void* q = __libc_realloc(p, n);
  if (p == nullptr && q != nullptr) ++tLive;
  if (p != nullptr && n == 0 && q == nullptr) --tLive;  // glibc frees on realloc(p, 0)
  return q;
}
void free(void* p) {
  if (p != nullptr) --tLive;
  __libc_free(p);
}
void* memalign(size_t align, size_t n) {
  ++tMalloc;
  return born(__libc_memalign(align, n));
}
void* aligned_alloc(size_t align, size_t n) {
  ++tMalloc;
  return born(__libc_memalign(align, n));
}
int posix_memalign(void** out, size_t align, size_t n) {
  ++tMalloc;
  void* p = born(__libc_memalign(align, n));
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}

namespace {
void* counted(size_t n) {
  ++tOperatorNew;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* countedAligned(size_t n, std::align_val_t a) {
  ++tOperatorNew;
  void* p = nullptr;
  if (posix_memalign(&p, static_cast<size_t>(a), n == 0 ? 1 : n) == 0) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(size_t n) { return counted(n); }
void* operator new[](size_t n) { return counted(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  ++tOperatorNew;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  ++tOperatorNew;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new(size_t n, std::align_val_t a) { return countedAligned(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return countedAligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

#endif

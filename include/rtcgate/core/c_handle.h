// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <glib-object.h>
#include <glib.h>

#include <memory>

namespace rtcgate {

// Stateless deleter for a C free function: one owner type per C handle, no per-object function pointer.
template <auto FreeFn>
struct CDeleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) FreeFn(p);
  }
};

template <typename T, auto FreeFn>
using CHandle = std::unique_ptr<T, CDeleter<FreeFn>>;

struct GObjectUnref {
  void operator()(gpointer p) const noexcept {
    if (p != nullptr) g_object_unref(p);
  }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
  void operator()(gpointer p) const noexcept { g_free(p); }
};
using GCharPtr = std::unique_ptr<gchar, GFree>;

}  // namespace rtcgate

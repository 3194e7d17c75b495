# SPDX-License-Identifier: Apache-2.0
# Every third-party dependency of rtcgate is found here, once, as an imported target, so its headers are
# SYSTEM includes (clean under -Werror) and no module reaches for a library on its own.
find_package(PkgConfig REQUIRED)
pkg_check_modules(GLIB REQUIRED IMPORTED_TARGET glib-2.0>=2.74 gio-2.0 gio-unix-2.0)
pkg_check_modules(NICE REQUIRED IMPORTED_TARGET nice>=0.1.21)
pkg_check_modules(SRTP REQUIRED IMPORTED_TARGET libsrtp2>=2.5)
pkg_check_modules(SOFIA REQUIRED IMPORTED_TARGET sofia-sip-ua>=1.12.11)
pkg_check_modules(SOFIA_GLIB REQUIRED IMPORTED_TARGET sofia-sip-ua-glib>=1.12.11)
pkg_check_modules(OPUS REQUIRED IMPORTED_TARGET opus>=1.3)
pkg_check_modules(SPANDSP REQUIRED IMPORTED_TARGET spandsp>=0.0.6)
# Admin API JSON (json-glib) and rtcgatectl's HTTP client (libcurl): docs/adr/0008-admin-api-json-and-http-client.md
pkg_check_modules(JSONGLIB REQUIRED IMPORTED_TARGET json-glib-1.0>=1.6)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl>=7.74)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Threads REQUIRED)
# libwebsockets 4.1.6 (Debian): event loops are runtime plugins; the GLib one is libwebsockets-evlib-glib.
find_package(libwebsockets CONFIG REQUIRED)
find_package(spdlog 1.10 CONFIG REQUIRED)
# yaml-cpp 0.7 exports the plain target `yaml-cpp` (the namespaced name arrived in 0.8).
find_package(yaml-cpp 0.7 CONFIG REQUIRED)
if(RTCGATE_BUILD_TESTS)
  find_package(GTest 1.12 CONFIG REQUIRED)
endif()

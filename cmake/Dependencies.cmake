# SPDX-License-Identifier: Apache-2.0
# Every third-party dependency of rtcgate is found here, once, as an imported target, so its headers are
# SYSTEM includes (clean under -Werror) and no module reaches for a library on its own.
find_package(PkgConfig REQUIRED)
pkg_check_modules(GLIB REQUIRED IMPORTED_TARGET glib-2.0>=2.74 gio-2.0 gio-unix-2.0)
pkg_check_modules(NICE REQUIRED IMPORTED_TARGET nice>=0.1.21)
pkg_check_modules(SOFIA REQUIRED IMPORTED_TARGET sofia-sip-ua>=1.12.11)
pkg_check_modules(SOFIA_GLIB REQUIRED IMPORTED_TARGET sofia-sip-ua-glib>=1.12.11)
pkg_check_modules(OPUS REQUIRED IMPORTED_TARGET opus>=1.3)
pkg_check_modules(SPANDSP REQUIRED IMPORTED_TARGET spandsp>=0.0.6)
# Admin API JSON (json-glib) and rtcgatectl's HTTP client (libcurl): docs/adr/0009-admin-api-json-and-http-client.md
pkg_check_modules(JSONGLIB REQUIRED IMPORTED_TARGET json-glib-1.0>=1.6)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl>=7.74)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Threads REQUIRED)
# libsrtp2 with OpenSSL crypto (docs/adr/0008-libsrtp2-with-openssl.md): Debian's binary package uses NSS, whose cost
# per packet grows with the number of live sessions. scripts/build-libsrtp2.sh (run by scripts/setup.sh) builds
# Debian's own source package with --enable-openssl into RTCGATE_SRTP_PREFIX; it is linked statically. Without it,
# or with RTCGATE_SRTP_SYSTEM=ON, Debian's libsrtp2 is used.
set(RTCGATE_SRTP_PREFIX "${PROJECT_SOURCE_DIR}/build-deps/libsrtp2-openssl" CACHE PATH
  "prefix of a static libsrtp2 built with OpenSSL crypto (scripts/build-libsrtp2.sh)")
option(RTCGATE_SRTP_SYSTEM "link Debian's libsrtp2 (NSS crypto) even when RTCGATE_SRTP_PREFIX holds a build" OFF)
add_library(rtcgate_srtp INTERFACE)
if(NOT RTCGATE_SRTP_SYSTEM AND EXISTS "${RTCGATE_SRTP_PREFIX}/lib/libsrtp2.a"
   AND EXISTS "${RTCGATE_SRTP_PREFIX}/include/srtp2/srtp.h")
  # An imported archive whose own dependencies CMake places after it on every link line (libcrypto must follow
  # libsrtp2.a; Debian's gcc links --as-needed).
  add_library(rtcgate_srtp_openssl STATIC IMPORTED)
  set_target_properties(rtcgate_srtp_openssl PROPERTIES IMPORTED_LOCATION "${RTCGATE_SRTP_PREFIX}/lib/libsrtp2.a"
    INTERFACE_INCLUDE_DIRECTORIES "${RTCGATE_SRTP_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES "OpenSSL::Crypto;Threads::Threads;${CMAKE_DL_LIBS}")
  target_link_libraries(rtcgate_srtp INTERFACE rtcgate_srtp_openssl)
  target_compile_definitions(rtcgate_srtp INTERFACE RTCGATE_SRTP_CRYPTO="OpenSSL, static")
  message(STATUS "libsrtp2: ${RTCGATE_SRTP_PREFIX} (OpenSSL crypto, static)")
else()
  pkg_check_modules(SRTP REQUIRED IMPORTED_TARGET libsrtp2>=2.5)
  target_link_libraries(rtcgate_srtp INTERFACE PkgConfig::SRTP)
  target_compile_definitions(rtcgate_srtp INTERFACE RTCGATE_SRTP_CRYPTO="Debian package, NSS")
  if(NOT RTCGATE_SRTP_SYSTEM)
    message(WARNING "libsrtp2 with OpenSSL crypto not found in ${RTCGATE_SRTP_PREFIX}: linking Debian's libsrtp2 "
      "(NSS crypto, whose cost grows with the number of live SRTP sessions; docs/adr/0008). "
      "Run scripts/build-libsrtp2.sh.")
  endif()
endif()
# libwebsockets 4.1.6 (Debian): event loops are runtime plugins; the GLib one is libwebsockets-evlib-glib.
find_package(libwebsockets CONFIG REQUIRED)
find_package(spdlog 1.10 CONFIG REQUIRED)
# yaml-cpp 0.7 exports the plain target `yaml-cpp` (the namespaced name arrived in 0.8).
find_package(yaml-cpp 0.7 CONFIG REQUIRED)
if(RTCGATE_BUILD_TESTS)
  find_package(GTest 1.12 CONFIG REQUIRED)
endif()

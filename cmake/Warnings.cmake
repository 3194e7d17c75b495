# SPDX-License-Identifier: Apache-2.0
add_library(rtcgate_warnings INTERFACE)
target_compile_options(rtcgate_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough)
if(RTCGATE_WARNINGS_AS_ERRORS)
  target_compile_options(rtcgate_warnings INTERFACE -Werror)
endif()
if(RTCGATE_SANITIZE)
  string(REPLACE ";" "," _san "${RTCGATE_SANITIZE}")
  # GCC 12 reports false maybe-uninitialized warnings inside libstdc++ (std::regex, std::function) once the
  # sanitizers instrument it; the plain -Werror build keeps that warning.
  add_compile_options(-fsanitize=${_san} -fno-omit-frame-pointer -Wno-maybe-uninitialized)
  if("undefined" IN_LIST RTCGATE_SANITIZE)
    # A UBSan finding fails the test that triggered it instead of scrolling by.
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  add_link_options(-fsanitize=${_san})
endif()

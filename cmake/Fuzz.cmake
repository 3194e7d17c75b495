# SPDX-License-Identifier: Apache-2.0
# RTCGATE_FUZZ=ON: the libFuzzer targets of fuzz/ with ASan+UBSan, in a build directory of their own (build-fuzz,
# see scripts/fuzz.sh). Every project library gets the coverage instrumentation without libFuzzer's main()
# (-fsanitize=fuzzer-no-link); only the targets link libFuzzer itself.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "RTCGATE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_C_COMPILER=clang "
                      "-DCMAKE_CXX_COMPILER=clang++ (Debian: clang, libclang-rt-14-dev)")
endif()
if(RTCGATE_SANITIZE)
  message(FATAL_ERROR "RTCGATE_FUZZ brings its own sanitizers: leave RTCGATE_SANITIZE empty")
endif()
# A UBSan finding must stop the run like an ASan one, or libFuzzer never saves the input. -O1 and line tables
# only (they come after the build type's -O2 -g and win): the CI step builds from cold within its budget, and
# sanitizer reports still name file and line.
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -O1 -gline-tables-only)
add_link_options(-fsanitize=address,undefined)

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The unit and component suites under ASan+UBSan, and the event-loop/timer/worker tests under TSan, each in a build
# directory of its own (build-asan, build-tsan, or under $RTCGATE_BUILD_DIR's parent). Part of scripts/test.sh;
# run alone after scripts/setup.sh:  ./scripts/sanitize.sh [asan|tsan]  (default: both).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=$(dirname "${RTCGATE_BUILD_DIR:-$root/build}")
jobs=${RTCGATE_JOBS:-2}
what=${1:-all}

configure() {  # dir sanitizers
  cmake -S "$root" -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTCGATE_WARNINGS_AS_ERRORS=ON \
    -DRTCGATE_BUILD_TESTS=ON -DRTCGATE_BUILD_BENCHMARKS=OFF "-DRTCGATE_SANITIZE=$2" >/dev/null
}

if [[ $what == all || $what == asan ]]; then
  dir=$base/build-asan
  configure "$dir" "address;undefined"
  cmake --build "$dir" -j"$jobs"
  # Every UBSan finding is fatal (-fno-sanitize-recover); leaks are reported by the unit suites' processes.
  # Chromium, the browser e2e suites, the packaging checks and the long calls are left to the main run; the
  # media-session call is 10 s.
  (cd "$dir" && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    RTCGATE_MEDIA_CALL_SECONDS=10 ctest --output-on-failure --timeout 300 -j"$jobs" -LE 'e2e|packaging' -E 'Chromium|chromium')
fi

if [[ $what == all || $what == tsan ]]; then
  dir=$base/build-tsan
  configure "$dir" "thread"
  cmake --build "$dir" -j"$jobs" --target rtcgate_unit_tests
  # GLib's GMutex/GCond are futex-based and invisible to TSan: its main-context internals are suppressed, our
  # own code (post queue, timers, worker pool) is not.
  (cd "$dir" && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp" \
    ctest --output-on-failure --timeout 300 -j"$jobs" -R 'EventLoop|Timer|WorkerPool')
fi

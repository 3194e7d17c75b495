#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configure and build into ./build (or $RTCGATE_BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RTCGATE_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"${RTCGATE_JOBS:-2}"

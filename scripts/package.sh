#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the .deb into build/pkg/ (CPack, DEB generator; Depends from dpkg-shlibdeps). Uses the runtime build
# (scripts/build-runtime.sh: no tests, no benchmarks, no thread asserts).
# Usage: scripts/package.sh   then: sudo apt install ./build/pkg/rtcgate_*.deb
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RTCGATE_RUNTIME_BUILD_DIR:-$root/build-runtime}
out=${RTCGATE_PKG_DIR:-$root/build/pkg}
RTCGATE_RUNTIME_BUILD_DIR=$build "$root/scripts/build-runtime.sh" "$build/stage"
mkdir -p "$out"
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
rm -rf "$out/_CPack_Packages"
ls "$out"/rtcgate_*.deb

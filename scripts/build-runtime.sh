#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build what the runtime needs and install it into a staging directory: the Docker image's build stage runs this,
# and so does CI (scripts/test.sh), so the image's build steps are exercised without Docker.
# Usage: scripts/build-runtime.sh STAGING_DIR [PREFIX]   (PREFIX default /usr; build dir $RTCGATE_RUNTIME_BUILD_DIR,
# default build-runtime). Tests, benchmarks and thread asserts are off; the client bundle needs tests/js/node_modules
# (`npm ci` there), which the Docker build stage installs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stage=${1:?usage: build-runtime.sh STAGING_DIR [PREFIX]}
prefix=${2:-/usr}
build=${RTCGATE_RUNTIME_BUILD_DIR:-$root/build-runtime}
# libsrtp2 with OpenSSL crypto, linked statically (docs/adr/0008); idempotent. Without it CMake links Debian's
# NSS-based libsrtp2, which the runtime image also carries, and says so.
"$root/scripts/build-libsrtp2.sh" || echo "build-runtime: WARNING: scripts/build-libsrtp2.sh failed; Debian's libsrtp2 (NSS) is linked" >&2
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTCGATE_BUILD_TESTS=OFF \
  -DRTCGATE_BUILD_BENCHMARKS=OFF -DRTCGATE_WARNINGS_AS_ERRORS=ON -DCMAKE_INSTALL_PREFIX="$prefix" "${launcher[@]}" >/dev/null
cmake --build "$build" -j"${RTCGATE_JOBS:-2}"
rm -rf "$stage"
DESTDIR=$stage cmake --install "$build" --strip
# The staged binary must start: a missing runtime library or a broken default config shows here.
"$stage$prefix/bin/rtcgate" --check-config "$stage/etc/rtcgate/rtcgate.yaml" >/dev/null
echo "staged in $stage (prefix $prefix)"

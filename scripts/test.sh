#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what is missing, build with warnings as errors, and run every test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" -DRTCGATE_WARNINGS_AS_ERRORS=ON -DRTCGATE_BUILD_TESTS=ON
(cd "${RTCGATE_BUILD_DIR:-$root/build}" && ctest --output-on-failure --timeout 300 -j2)
# The Docker image's build stage without Docker: the same script, tests and benchmarks off, staged install.
"$root/scripts/build-runtime.sh" "${RTCGATE_RUNTIME_BUILD_DIR:-$root/build-runtime}/stage"
# The unit and component suites again under ASan+UBSan, the loop tests under TSan (separate build directories).
"$root/scripts/sanitize.sh"
# The libFuzzer targets under ASan+UBSan for a bounded time (clang, build-fuzz).
"$root/scripts/fuzz.sh"

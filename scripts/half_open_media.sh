#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Half-open media at scale (issue 11, reliability-security.md 3.10, 5 items 26 and 30): N browser offers whose ICE
# never completes and N/2 pairs whose DTLS never starts, all at once (default N = 500: 500 ICE legs + 500 DTLS legs),
# through the component test BrowserLeg.HalfOpenIceAndDtlsAtOnceAreFreedAtTheirDeadlines with its counts raised.
# Each leg must fail at its 1 s deadline and every descriptor must be back afterwards. Figures (time until the last
# leg failed, descriptors at the peak and after) go to OUT (default build/bench/half_open_media.txt).
# The test gives each leg its own loop thread (a test harness detail; the daemon shares a few media workers), so
# N is bounded by threads and RLIMIT_NOFILE: the script raises the soft limit to the hard one.
# Usage: scripts/half_open_media.sh [N=500] [OUT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-500}
build=${RTCGATE_BUILD_DIR:-$root/build}
out=${2:-$build/bench/half_open_media.txt}
bin=$build/tests/media/rtcgate_media_tests
[ -x "$bin" ] || { echo "build the tests first ($bin)" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
ulimit -n "$(ulimit -Hn)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
RTCGATE_HALF_OPEN_ICE=$n RTCGATE_HALF_OPEN_DTLS_PAIRS=$((n / 2)) \
  "$bin" --gtest_filter=BrowserLeg.HalfOpenIceAndDtlsAtOnceAreFreedAtTheirDeadlines >"$log" 2>&1 || status=$?
{
  echo "# half-open media ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, RLIMIT_NOFILE $(ulimit -n))"
  grep -h '^FIGURES' "$log" | sed 's/^FIGURES //' || echo "no figures: the test stopped early"
  echo "test_exit=$status ($(grep -c 'Failure' "$log" || true) failed assertions)"
} | tee "$out"
[ "$status" -eq 0 ] || tail -40 "$log"
exit "$status"

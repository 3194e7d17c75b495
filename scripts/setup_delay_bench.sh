#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (issue 12): post-dial delay added by rtcgate with a STUN server that never answers. Ten agent calls
# through the real Session/SipStack with SIPp as Genesys (486 to each); per call the time from the browser's INVITE
# to the INVITE toward Genesys being placed, at the default ice.gather_deadline_ms (300 ms). It runs the benchmark
# case of rtcgate_session_call_tests (skipped in ctest) and appends one line, labelled LABEL, to OUT
# (default build/bench/setup_delay.txt).
# Usage: scripts/setup_delay_bench.sh [LABEL=$(git describe)] [OUT]
# Loopback only; SIPp is started and stopped by the test, by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RTCGATE_BUILD_DIR:-$root/build}
label=${1:-$(git -C "$root" describe --always --dirty)}
out=${2:-$build/bench/setup_delay.txt}
bin=$build/tests/session/rtcgate_session_call_tests
[ -x "$bin" ] || { echo "build rtcgate_session_call_tests first ($bin)" >&2; exit 2; }
command -v sipp >/dev/null || { echo "sipp (Debian sip-tester) is needed" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
printf '%s %s: ' "$(date -u +%FT%TZ)" "$label" >> "$out"
RTCGATE_SETUP_DELAY_OUT="$out" "$bin" --gtest_filter='SessionCallTest.SetupDelayBenchWithASilentStunServer' \
  --gtest_brief=1 > "$(dirname "$out")/setup_delay.log" 2>&1 || { tail -n 30 "$(dirname "$out")/setup_delay.log" >&2; exit 1; }
tail -n 1 "$out"

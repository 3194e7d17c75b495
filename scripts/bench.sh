#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build and run the media-path benchmark with stable settings; prints CPU per call-second.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" -DRTCGATE_BUILD_BENCHMARKS=ON
"${RTCGATE_BUILD_DIR:-$root/build}/benchmarks/rtcgate_media_bench" --benchmark_min_time="${BENCH_MIN_TIME:-2}" \
  --benchmark_repetitions="${BENCH_REPETITIONS:-3}" --benchmark_report_aggregates_only=true "$@"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (issue 13): the packet gap around SIGHUP. tests/e2e/call_e2e.js's sighup scenario (the real daemon,
# Chromium agents answering, SIPp and a Genesys stand-in sending G.711 on its own absolute 20 ms schedule; six
# SIGHUPs: a log level, a syntax error, the original, an unknown key, agents + certificate + codec order + limits +
# log level + two [restart] keys, a burst of 10) with 1, 3 and 10 calls, each run once with the SIGHUPs and once
# without them (RTCGATE_E2E_SIGHUP_DRY=1: same file writes, probes and timing: the noise floor of this machine).
# Per run: the largest inter-arrival gap within 1 s after each SIGHUP, per direction, as the Genesys stand-in's
# event loop saw it and as the kernel timestamped it on lo (scripts/lib/rtp_capture.py: a late receiver cannot
# move those), and the media worker's own stall (rtcgate_media_loop_lag_*, probe every 20 ms). Then the daemon alone
# (scripts/lib/reload_lag.py): LAG_WINDOWS (30) one-second windows after a SIGHUP (agents, certificate, log level,
# codec order, all, nothing) alternating with as many quiet ones, the media worker's probe every 5 ms.
# Figures are appended to OUT (default build/bench/reload_gap.txt); logs in build/bench/reload_gap/.
# PERF_SCHED=1: also `perf sched latency` per run ($logs/NAME.sched-latency.txt; the capture is ~70 MB per 30 s).
# Usage: scripts/reload_gap_bench.sh [LABEL=$(git describe)] [CALLS="1 3 10"] [REPEAT=1]   (CALLS "" skips the calls)
# Needs root (the AF_PACKET capture), node with tests/js/node_modules, chromium, sipp. Loopback only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RTCGATE_BUILD_DIR:-$root/build}
label=${1:-$(git -C "$root" describe --always --dirty)}
calls_list=${2-1 3 10}
repeat=${3:-1}
out=${OUT:-$build/bench/reload_gap.txt}
bin=$build/src/rtcgate
logs=$build/bench/reload_gap
[ -x "$bin" ] || { echo "build rtcgate first ($bin)" >&2; exit 2; }
command -v sipp >/dev/null || { echo "sipp (Debian sip-tester) is needed" >&2; exit 2; }
mkdir -p "$logs"
for calls in $calls_list; do
  for r in $(seq 1 "$repeat"); do
    for dry in 1 0; do
      name="calls$calls-$([ "$dry" = 1 ] && echo dry || echo sighup)-$r"
      python3 "$root/scripts/lib/rtp_capture.py" "$logs/$name.tsv" 300 &
      cap=$!
      # PERF_SCHED=1 (Debian linux-perf): run-queue delay of every thread on the machine during the run, so that a
      # media worker that waited for a CPU is told apart from one that was busy or blocked.
      sched=
      if [ "${PERF_SCHED:-0}" = 1 ] && command -v perf >/dev/null; then
        perf sched record -a -o "$logs/$name.sched" > /dev/null 2>&1 &  # until SIGINT
        sched=$!
      fi
      # The e2e script's own exit code is not the figure: a dry run fails its reload checks by design.
      RTCGATE_E2E_SIGHUP_CALLS=$calls RTCGATE_E2E_SIGHUP_DRY=$dry RTCGATE_MEDIA_LAG_PROBE_MS=20 \
        timeout 300 node "$root/tests/e2e/call_e2e.js" "$bin" inbound sighup > "$logs/$name.log" 2>&1 || true
      kill -TERM "$cap" 2>/dev/null || true
      wait "$cap" 2>/dev/null || true
      if [ -n "$sched" ]; then
        kill -INT "$sched" 2>/dev/null || true
        wait "$sched" 2>/dev/null || true
        perf sched latency -p -i "$logs/$name.sched" --sort max > "$logs/$name.sched-latency.txt" 2>/dev/null || true
        rm -f "$logs/$name.sched"
      fi
      python3 "$root/scripts/lib/reload_gap_report.py" "$(date -u +%FT%TZ) $label $name" "$logs/$name.log" \
        "$logs/$name.tsv" "$logs/$name.sched-latency.txt" | tee -a "$out"
    done
  done
done
if [ "${PERF_SCHED:-0}" = 1 ] && command -v perf >/dev/null; then
  perf sched record -k CLOCK_MONOTONIC -a -o "$logs/reload-lag.sched" > /dev/null 2>&1 &  # until SIGINT
  sched=$!
  RELOAD_LAG_TRACE="$logs/reload-lag.trace" python3 "$root/scripts/lib/reload_lag.py" "$bin" "${LAG_WINDOWS:-30}" \
    "$(date -u +%FT%TZ) $label reload-lag" | tee -a "$out"
  kill -INT "$sched" 2>/dev/null || true
  wait "$sched" 2>/dev/null || true
  worker=$(awk '$1 == "worker" {print $2; exit}' "$logs/reload-lag.trace")
  perf sched timehist -i "$logs/reload-lag.sched" -t "$worker" > "$logs/reload-lag.timehist" 2>/dev/null || true
  rm -f "$logs/reload-lag.sched"
  python3 "$root/scripts/lib/reload_lag_sched.py" "$(date -u +%FT%TZ) $label reload-lag-sched" \
    "$logs/reload-lag.trace" "$logs/reload-lag.timehist" | tee -a "$out"
else
  python3 "$root/scripts/lib/reload_lag.py" "$bin" "${LAG_WINDOWS:-30}" "$(date -u +%FT%TZ) $label reload-lag" | tee -a "$out"
fi

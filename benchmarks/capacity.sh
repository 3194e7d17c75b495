#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Capacity sweep (issue 14): the real daemon on loopback, driven by rtcgate-load (tools/load/, its README says how
# loss, late packets and added latency are measured). For each series (PCMU passthrough; Opus<->PCMU transcoded
# with rtcgate's media.codecs.opus.complexity at 1, 5 and 10) the concurrency grows step by step (1, 10, 100, 500,
# 1000, 2000 by default); each step starts a fresh daemon with as many agents as calls, ramps the calls at --rate,
# keeps all of them up together for --hold s, then reads the generator's JSON report. A series stops at the first step with a failed call, loss
# >= --loss-limit % (0.1) or p99 added latency >= --stop-latency-ms (20) in either direction; the table marks each
# step against the goal (no failure, loss < --loss-limit, p99 added latency toward Genesys, where the generator
# stamps arrivals in the kernel, < --latency-limit-ms, 1 ms; toward the browser it is shown, not judged).
# Figures per step: rtcgate CPU ms per call-second and RSS per call (the generator's --cpu-of samples over the
# steady part), rtcgate CPU over the whole step (sampled here from /proc), loss, p99 added latency, setup times.
# A setup series (10 s of calls at --setup-rate) gives setups/s (each one a full ICE + DTLS-SRTP handshake).
# Results: OUT/capacity.json (every step, the generator's reports included) and OUT/capacity.txt (a table).
# Usage: benchmarks/capacity.sh [--quick] [--series passthrough,opus1,opus5,opus10,setup] [--steps "1 10 100"]
#          [--hold S] [--rate R] [--setup-rate R] [--loss-limit PCT] [--latency-limit-ms MS]
#          [--stop-latency-ms MS] [--label NAME] [--nice N] [--out DIR]
# --nice N: run rtcgate and rtcgate-load at this nice level (e.g. -10, as root) so that other work on a shared
#   machine does not put its scheduling delays into the latency figures; the table records the load average.
# Environment: RTCGATE_BUILD_DIR (default build/; a -DRTCGATE_SRTP_SYSTEM=ON build dir gives the NSS figures),
#   RTCGATE_LOAD (default $RTCGATE_BUILD_DIR/tools/load/rtcgate-load).
# Loopback only; everything started here is stopped by PID. Each step is bounded (ramp + hold + 60 s).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RTCGATE_BUILD_DIR:-$root/build}
load=${RTCGATE_LOAD:-$build/tools/load/rtcgate-load}
out=$build/bench
series="passthrough,opus1,opus5,opus10,setup"
steps="1 10 100 500 1000 2000"
hold=30
rate=20
setup_rate=50
loss_limit=0.1
latency_limit_ms=1
stop_latency_ms=20
nice_level=0
label=""
. "$root/benchmarks/lib/load_steps.sh"
. "$root/scripts/lib/daemon_config.sh"
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --quick) steps="1 10 100 500 1000"; hold=10; rate=25; setup_rate=50 ;;
    --series) series=$2; shift ;;
    --setup-rate) setup_rate=$2; shift ;;
    --label) label=$2; shift ;;
    -h|--help) usage ;;
    *) common_option "$1" "${2:-}" && shift || { echo "capacity.sh: unknown option $1" >&2; usage; } ;;
  esac
  shift
done
bin=$build/src/rtcgate
[ -x "$bin" ] || { echo "capacity.sh: build rtcgate first ($bin: cmake --build build --target rtcgate)" >&2; exit 2; }
[ -x "$load" ] || { echo "capacity.sh: rtcgate-load not found at $load (cmake --build build --target rtcgate-load," \
  "or set RTCGATE_LOAD)" >&2; exit 2; }
for tool in python3 curl; do
  command -v "$tool" >/dev/null || { echo "capacity.sh: $tool is needed" >&2; exit 2; }
done
mkdir -p "$out"
label=${label:-rtcgate ($(basename "$build"))}
work=$(mktemp -d)
daemon=""
gen=""
cleanup() {
  [ -n "$gen" ] && kill "$gen" 2>/dev/null && wait "$gen" 2>/dev/null
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  # Steps already measured are kept even when a later one fails (a daemon that does not start, an interrupt).
  if [ -d "$work/steps" ] && [ -n "$(ls -A "$work/steps" 2>/dev/null)" ]; then
    rm -rf "$out/capacity-steps"; cp -r "$work/steps" "$out/capacity-steps"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# rtcgate's config for CALLS concurrent calls with CODEC (pcmu: passthrough; opus: transcoded at COMPLEXITY). The
# generator's Opus offer lists PCMU too, as Chromium's does; with passthrough on, rtcgate would pick PCMU on both
# legs, so the transcoded series offer browsers Opus only.
# Port ranges start at 10000, sized to the admission limit (an RTP+RTCP pair and one ICE port per call), and stay
# below the kernel's ephemeral range (32768) that the generator's own sockets use up to 3,700 agents; admission
# limits are lifted (every agent comes from 127.0.0.1).
write_config() {
  local calls=$1 codec=$2 complexity=$3 agents=$((calls > 0 ? calls : 1))
  local limit=$((agents * 2 + 10)) rate_cap=100000
  {
    upstream_port=$genesys_port config_head
    # Names as rtcgate-load's defaults: agent%04d with DN %04d (1-based), one password for all.
    for ((i = 1; i <= agents; i++)); do
      printf '  - {user: "agent%04d", password: load-secret, dn: "%04d"}\n' "$i" "$i"
    done
    cat <<YAML
media: {rtp_address: 127.0.0.1, rtp_port_min: 10000, rtp_port_max: $((10000 + 2 * limit + 19)), ice_port_min: $((10000 + 2 * limit + 20)), ice_port_max: $((10000 + 3 * limit + 39))}
ice: {candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}
codecs:
  browser: [$codec]
  passthrough: $([ "$codec" = opus ] && echo false || echo true)
  opus: {complexity: $complexity}
security:
  max_connections: $limit
  max_connections_per_ip: $limit
  max_calls: $limit
  max_calls_per_agent: 4
  max_pending_media_sessions: $limit
  rate_limits:
    connections_per_ip: {per_s: $rate_cap, burst: $rate_cap}
    connections: {per_s: $rate_cap, burst: $rate_cap}
    registers_per_ip: {per_s: $rate_cap, burst: $rate_cap}
    registers: {per_s: $rate_cap, burst: $rate_cap}
    invites_per_ip: {per_s: $rate_cap, burst: $rate_cap}
    invites: {per_s: $rate_cap, burst: $rate_cap}
    upstream_invites: {per_s: $rate_cap, burst: $rate_cap}
logging: {level: warn}
YAML
  } > "$work/rtcgate.yaml"
}

start_daemon() {
  nice -n "$nice_level" "$bin" --config "$work/rtcgate.yaml" >"$work/rtcgate.log" 2>&1 &
  daemon=$!
  for _ in $(seq 150); do  # bounded: 15 s
    curl -sf "http://127.0.0.1:$admin_port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.1
  done
  echo "capacity.sh: rtcgate did not start; its log:" >&2
  tail -n 30 "$work/rtcgate.log" >&2
  exit 1
}

stop_daemon() {
  [ -n "$daemon" ] || return 0
  kill "$daemon" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  daemon=""
}

# run_step SERIES CALLS CODEC COMPLEXITY RATE HOLD: a fresh daemon with CALLS agents, one generator run.
run_step() {
  local name=$1 calls=$2 codec=$3 complexity=$4
  wss_port=$(free_port); admin_port=$(free_port); sip_port=$(free_port); genesys_port=$(free_port)
  write_config "$calls" "$codec" "$complexity"
  start_daemon
  run_load "$name" "$calls" "$codec" "$complexity" "$5" "$6" "wss://127.0.0.1:$wss_port/" \
    "127.0.0.1:$genesys_port" "$daemon" "$daemon"
  # The media mode the step measured: Opus frames encoded (docs/metrics.md rtcgate_transcode_frame_seconds) in a
  # transcoded series, none in passthrough; a step in the wrong mode is a broken benchmark, not a figure.
  local encodes
  encodes=$(curl -sf "http://127.0.0.1:$admin_port/metrics" | awk '/^rtcgate_transcode_frame_seconds_count/ &&
    /op="encode"/ && /codec="opus"/ {n += $2} END {print n + 0}')
  stop_daemon
  if { [ "$codec" = opus ] && [ "$encodes" -eq 0 ]; } || { [ "$codec" = pcmu ] && [ "$encodes" -ne 0 ]; }; then
    echo "capacity.sh: $name/$calls ran in the wrong media mode ($encodes Opus frames encoded); stopping" >&2
    exit 1
  fi
}

mkdir -p "$work/steps"
echo "capacity.sh: $label, series $series, steps $steps, hold ${hold}s, rate ${rate}/s ($(nproc) cores)"
IFS=, read -r -a series_list <<<"$series"
for s in "${series_list[@]}"; do
  case $s in
    passthrough) codec=pcmu; complexity=5 ;;
    opus[0-9]|opus10) codec=opus; complexity=${s#opus} ;;
    setup) codec=pcmu; complexity=5 ;;
    *) echo "capacity.sh: unknown series $s" >&2; exit 2 ;;
  esac
  if [ "$s" = setup ]; then
    # Setups per second: 10 s worth of calls ramped at --setup-rate, then all up for 2 s.
    run_step setup $((setup_rate * 10)) pcmu 5 "$setup_rate" 2
    continue
  fi
  for n in $steps; do
    run_step "$s" "$n" "$codec" "$complexity" "$rate" "$hold"
    if over_limits "$work/steps/$s-$n.json"; then
      echo "  $s: over the limits at $n calls; series stopped"
      break
    fi
  done
done

# The steps stay beside the summary (capacity_report.py can be re-run on them, or on several runs' steps merged).
rm -rf "$out/capacity-steps"; cp -r "$work/steps" "$out/capacity-steps"
python3 "$root/benchmarks/lib/capacity_report.py" "$work/steps" "$out/capacity.json" "$out/capacity.txt" "$label" \
  "$loss_limit" "$latency_limit_ms"
echo "capacity.sh: wrote $out/capacity.json and $out/capacity.txt"

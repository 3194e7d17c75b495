# SPDX-License-Identifier: Apache-2.0
# Sourced by benchmarks/capacity.sh and benchmarks/anchor/run.sh: one load step = one rtcgate-load run against a
# gateway already started by the caller, with the gateway's CPU sampled here from /proc over the whole step (the
# generator's own --cpu-of sample covers the steady part only), and the step's JSON written for
# benchmarks/lib/capacity_report.py.
# Needs: $load (rtcgate-load), $nice_level (optional, for the generator), $work (a temp dir with steps/), $loss_limit, $stop_latency_ms.
# Sets: $gen while the generator runs (the caller's cleanup stops it by PID).

# common_option OPT VALUE: the sweep options capacity.sh and anchor/run.sh share (their usage texts); status 0 when
# OPT was one of them (the caller then shifts two).
common_option() {
  case $1 in
    --steps) steps=$2 ;;
    --hold) hold=$2 ;;
    --rate) rate=$2 ;;
    --loss-limit) loss_limit=$2 ;;
    --latency-limit-ms) latency_limit_ms=$2 ;;
    --stop-latency-ms) stop_latency_ms=$2 ;;
    --nice) nice_level=$2 ;;
    --out) out=$2 ;;
    *) return 1 ;;
  esac
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hz=$(getconf CLK_TCK)
# cpu_ticks PID...: utime + stime of these processes, in clock ticks.
cpu_ticks() {
  local p sum=0 t
  for p in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    sum=$((sum + t))
  done
  echo "$sum"
}
# rss_kb PID...: the sum of the processes' resident peaks (VmHWM).
rss_kb() {
  local p sum=0 t
  for p in "$@"; do
    t=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}

# run_load NAME CALLS CODEC COMPLEXITY RATE HOLD WSS_URL GENESYS_ADDR CPU_OF_PID PIDS...
# Runs rtcgate-load (outbound calls, agents agent%04d with password load-secret) and writes $work/steps/NAME-CALLS.json.
# PIDS: every process of the gateway whose CPU counts (rtcgate; or Kamailio's processes and rtpengine).
run_load() {
  local name=$1 calls=$2 codec=$3 complexity=$4 step_rate=$5 step_hold=$6 wss=$7 genesys=$8 cpu_of=$9
  shift 9
  local pids=("$@")
  local ramp=$(((calls + step_rate - 1) / step_rate))
  # 15 s of slack: rtcgate-load's --setup-timeout-ms default. Each call is held past the run's end, so that all
  # CALLS are up together for about HOLD s (not replaced as they end: a call held less than the ramp would never
  # let the concurrency reach CALLS); the run's end hangs them all up.
  local duration=$((ramp + step_hold + 15))
  local call_hold=$((duration + 10))
  local base=$work/steps/$name-$calls
  local t0 t1 ticks0 ticks1 rss status=0
  local load0
  load0=$(cut -d' ' -f1 /proc/loadavg)
  ticks0=$(cpu_ticks "${pids[@]}"); t0=$(date +%s%3N)
  nice -n "${nice_level:-0}" "$load" --wss "$wss" --sip-domain 127.0.0.1 --agents "$calls" --password load-secret --genesys-listen "$genesys" \
    --direction outbound --codec "$codec" --rate "$step_rate" --concurrency "$calls" --hold "$call_hold" \
    --duration "$duration" --report "$base.report.json" --cpu-of "$cpu_of" > "$base.stdout" 2>&1 &
  gen=$!
  # Bounded: the run's own duration plus 60 s for setup and teardown.
  for _ in $(seq $(((duration + 60) * 10))); do kill -0 "$gen" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$gen" 2>/dev/null; then
    echo "rtcgate-load overran its bound at $name/$calls; stopped" >&2
    kill "$gen" 2>/dev/null || true
  fi
  wait "$gen" || status=$?
  gen=""
  t1=$(date +%s%3N); ticks1=$(cpu_ticks "${pids[@]}"); rss=$(rss_kb "${pids[@]}")
  python3 - "$base.json" "$base.report.json" <<PY
import json, sys, os
out, report = sys.argv[1], sys.argv[2]
try:
    r = json.load(open(report))
except (OSError, ValueError):
    r = None
json.dump({"series": "$name", "concurrency": $calls, "codec": "$codec", "opus_complexity": $complexity,
           "rate": $step_rate, "hold_s": $step_hold, "duration_s": $duration, "generator_exit": $status,
           "gateway_cpu_s_whole_step": ($ticks1 - $ticks0) / $hz, "wall_s_whole_step": ($t1 - $t0) / 1000.0,
           "gateway_rss_kb_hwm": $rss, "loadavg_1min_before_after": [$load0, $(cut -d' ' -f1 /proc/loadavg)],
           "report": r}, open(out, "w"), indent=1)
PY
  echo "  $name concurrency=$calls exit=$status: $(tail -n 3 "$base.stdout" | tr '\n' ' ')"
}

# over_limits FILE: exit 0 when a sweep should stop after this step (or it has no report): a failed or missing call,
# loss at or over $loss_limit %, or p99 added latency at or over $stop_latency_ms in either direction. The latency
# goal proper (capacity_report.py's --latency limit, 1 ms) is judged per step in the report, not here: on a
# shared 2-core machine the scheduler alone puts single calls' p99 over 1 ms, and a sweep stopped there says nothing.
over_limits() {
  python3 - "$1" "$loss_limit" "$stop_latency_ms" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); loss, lat = float(sys.argv[2]), float(sys.argv[3])
r = s.get("report")
if not r:
    sys.exit(0)
c = r.get("calls", {})
if sum((c.get("failed") or {}).values()) > 0 or c.get("established", 0) < c.get("attempted", 0):
    sys.exit(0)
for d in ("to_genesys", "to_browser"):
    x = r.get("directions", {}).get(d, {})
    if x.get("loss_percent", 100) >= loss or (x.get("added_latency_ms") or {}).get("p99", 1e9) >= lat:
        sys.exit(0)
sys.exit(1)
PY
}

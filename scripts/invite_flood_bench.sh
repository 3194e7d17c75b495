#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (issue 11, reliability-security.md 5 item 19): an INVITE flood from the upstream side at FACTOR times
# the rated rate against the real daemon. The rated rate is security.rate_limits.upstream_invites (RATE/s, burst
# RATE). SIPp sends RATE*FACTOR INVITEs per second for SECONDS s to an unknown DN: admitted ones get 404, the
# excess 503 + Retry-After. Measured: the response time of every INVITE (SIPp rtd, -trace_rtt), its percentiles,
# the counts, and the daemon's CPU time. Figures go to OUT (default build/bench/invite_flood.txt).
# Usage: scripts/invite_flood_bench.sh [RATE=20] [FACTOR=10] [SECONDS=10] [OUT]
# Loopback only; everything started here is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rate=${1:-20}
factor=${2:-10}
seconds=${3:-10}
build=${RTCGATE_BUILD_DIR:-$root/build}
out=${4:-$build/bench/invite_flood.txt}
bin=$build/src/rtcgate
[ -x "$bin" ] || { echo "build rtcgate first ($bin)" >&2; exit 2; }
command -v sipp >/dev/null || { echo "sipp (Debian sip-tester) is needed" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
daemon=""
cleanup() { [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sip_port=$(free_port); admin_port=$(free_port); wss_port=$(free_port); upstream_port=$(free_port)
sipp_port=$(free_port); media_port=$(free_port)
cat > "$work/rtcgate.yaml" <<YAML
listeners:
  wss: [{address: 127.0.0.1, port: $wss_port}]
  admin: {address: 127.0.0.1, port: $admin_port}
upstream:
  sip_bind: {address: 127.0.0.1, port: $sip_port}
  servers: [{host: 127.0.0.1, port: $upstream_port}]
agents: [{user: "1001", password: bench-1001, dn: "1001"}]
security:
  rate_limits:
    upstream_invites: {per_s: $rate, burst: $rate}
logging: {level: warn}
YAML
"$bin" --config "$work/rtcgate.yaml" >"$work/rtcgate.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null || { cat "$work/rtcgate.log"; exit 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
ticks0=$(cpu_ticks)
total=$((rate * factor * seconds))
sipp_status=0
(cd "$work" && sipp "127.0.0.1:$sip_port" -sf "$root/tests/sip/scenarios/invite_flood_404_or_503_retry_after.xml" \
  -i 127.0.0.1 -p "$sipp_port" -mp "$media_port" -s 9999 -r $((rate * factor)) -m "$total" -nostdin \
  -timeout $((seconds * 3 + 30))s -timeout_error -trace_rtt -rtt_freq 1 -trace_screen >/dev/null 2>&1) || sipp_status=$?
ticks1=$(cpu_ticks)
metrics=$(curl -sf "http://127.0.0.1:$admin_port/metrics")
metric() { echo "$metrics" | awk -v n="$1" '$1 == n {print $2}'; }
rtt=$(ls "$work"/*_rtt.csv 2>/dev/null | head -1)
hz=$(getconf CLK_TCK)
{
  echo "# INVITE flood benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r))"
  echo "rated_rate_per_s=$rate flood_rate_per_s=$((rate * factor)) seconds=$seconds invites_sent=$total"
  echo "invites_received=$(metric rtcgate_sip_invites_received_total)"
  echo "answered_503_rate_limited=$(metric rtcgate_sip_invites_rate_limited_total)"
  echo "answered_404_admitted=$(metric rtcgate_sip_invites_unknown_dn_total)"
  echo "daemon_cpu_s=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')"
  if [ -n "$rtt" ]; then
    # Columns: Date_ms;response_time_ms;rtd_no (SIPp 3.6 -trace_rtt), times in whole ms (SIPp's clock).
    awk -F';' 'NR > 1 && $2 != "" {print $2}' "$rtt" | sort -g | awk '
      {v[NR] = $1}
      END {
        if (NR == 0) { print "response_ms: none recorded"; exit }
        printf "responses=%d response_ms_p50=%.3f p95=%.3f p99=%.3f max=%.3f over_50ms=%d\n", NR,
          v[int(NR * 0.50) + (NR * 0.50 > int(NR * 0.50))], v[int(NR * 0.95) + (NR * 0.95 > int(NR * 0.95))],
          v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))], v[NR], over
      }
      $1 > 50 {over++}'
  else
    echo "response_ms: SIPp wrote no rtt file"
  fi
  echo "sipp_exit=$sipp_status (0: every INVITE answered 404, or 503 with Retry-After: 1)"
} | tee "$out"
[ -z "${KEEP_RTT:-}" ] || cp "$rtt" "$KEEP_RTT"

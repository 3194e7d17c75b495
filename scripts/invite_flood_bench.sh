#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (issue 11, reliability-security.md 5 item 19): an INVITE flood from the upstream side at FACTOR times
# the rated rate against the real daemon. The rated rate is security.rate_limits.upstream_invites (RATE/s, burst
# RATE). SIPp sends RATE*FACTOR INVITEs per second for SECONDS s to an unknown DN: admitted ones get 404, the
# excess 503 + Retry-After. Measured: the response time of every INVITE (SIPp rtd, -trace_rtt), its percentiles,
# the counts, and the daemon's CPU time. Figures go to OUT (default build/bench/invite_flood.txt).
# With LIVE=1 (the default) one real call is up through the flood: headless Chromium (JsSIP, Opus, DTLS-SRTP; agent
# 4001) calls out, SIPp as Genesys answers and echoes the RTP, through a relay (tests/js/soak/soak_agents.mjs
# impair, no loss) that logs each packet. Reported for the flood's window: packets per second rtcgate sent toward
# Genesys, the largest gap between two of them, and sequence numbers missing; and the browser's own figures for
# the whole call (packets received, packetsLost, jitter). LIVE=0: the flood alone, as before.
# Usage: [LIVE=1] scripts/invite_flood_bench.sh [RATE=20] [FACTOR=10] [SECONDS=10] [OUT]
# Loopback only; everything started here is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rate=${1:-20}
factor=${2:-10}
seconds=${3:-10}
build=${RTCGATE_BUILD_DIR:-$root/build}
out=${4:-$build/bench/invite_flood.txt}
mkdir -p "$(dirname "$out")"
live=${LIVE:-1}
. "$root/scripts/lib/bench_daemon.sh"
sip_port=$(free_port); admin_port=$(free_port); wss_port=$(free_port); upstream_port=$(free_port)
sipp_port=$(free_port); media_port=$(free_port)
uas_mp=$(free_port); relay_port=$(free_port); http_port=$(free_port)
live_agent=""; live_media=""
if [ "$live" = 1 ]; then
  live_agent='  - {user: "4001", password: soak-4001, dn: "4001"}'
  live_media='media: {rtp_address: 127.0.0.1}
ice: {candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}'
  # Genesys for the live call (and 4001's DN REGISTER): answers, echoes RTP; its SDP names the relay.
  (cd "$work" && exec sipp -sf "$root/tests/soak/soak-uas-answer-echo.xml" -i 127.0.0.1 -p "$upstream_port" \
    -mi 127.0.0.1 -mp "$uas_mp" -rtp_echo -bind_local -nostdin -key mediaport "$relay_port" \
    > "$work/sipp-uas.log" 2>&1) &
  helpers+=($!)
  node "$root/tests/js/soak/soak_agents.mjs" impair 0 - $((seconds * 4 + 120)) listen="$relay_port" \
    target="$uas_mp" loss=0 jitter_ms=0 trace="$work/rtp.trace" > "$work/impair.log" 2>&1 &
  helpers+=($!)
fi
{ config_head; cat <<YAML; } > "$work/rtcgate.yaml"
  - {user: "1001", password: bench-1001, dn: "1001"}
$live_agent
$live_media
security:
  rate_limits:
    upstream_invites: {per_s: $rate, burst: $rate}
logging: {level: warn}
YAML
start_daemon "$admin_port"
browser_pid=""
media_ready=no
if [ "$live" = 1 ]; then
  # One call held for the flood and some margin either side.
  node "$root/tests/js/soak/soak_agents.mjs" browser "$wss_port" "http://127.0.0.1:$http_port" $((seconds * 4 + 90)) \
    http_port="$http_port" calls=1 call_ms=$(((seconds + 8) * 1000)) > "$work/browser.log" 2>&1 &
  browser_pid=$!; helpers+=($browser_pid)
  for _ in $(seq 600); do  # bounded: 60 s for Chromium, registration, ICE and DTLS; then 5 s of media as the reference
    n=$(grep -c ' to ' "$work/rtp.trace" 2>/dev/null || true)
    [ "${n:-0}" -ge 250 ] && { media_ready=yes; break; }
    sleep 0.1
  done
  [ "$media_ready" = yes ] || echo "live call: no media after 60 s (see below)" >&2
fi
cpu_ticks() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
ticks0=$(cpu_ticks)
total=$((rate * factor * seconds))
sipp_status=0
flood_t0=$(date +%s%3N)
(cd "$work" && sipp "127.0.0.1:$sip_port" -sf "$root/tests/sip/scenarios/invite_flood_404_or_503_retry_after.xml" \
  -i 127.0.0.1 -p "$sipp_port" -mp "$media_port" -s 9999 -r $((rate * factor)) -m "$total" -nostdin \
  -timeout $((seconds * 3 + 30))s -timeout_error -trace_rtt -rtt_freq 1 -trace_screen >/dev/null 2>&1) || sipp_status=$?
flood_t1=$(date +%s%3N)
ticks1=$(cpu_ticks)
if [ -n "$browser_pid" ]; then
  for _ in $(seq $(((seconds + 40) * 10))); do kill -0 "$browser_pid" 2>/dev/null || break; sleep 0.1; done
fi
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
  if [ "$live" = 1 ]; then
    echo "live_call_media_ready=$media_ready flood_window_ms=$((flood_t1 - flood_t0))"
    # rtcgate -> Genesys during the flood, and before it as the reference: RTP sequence numbers unwrapped
    # (16 bits), arrival gaps in ms (the gap into the window counts).
    rtp_window() {
    awk -v t0="$1" -v t1="$2" -v label="$3" '
      $2 == "to" {
        s = $3; if (have) { d = s - last16; if (d < -32768) wraps++; if (d > 32768) wraps--; }
        last16 = s; have = 1; seq = s + wraps * 65536
        if ($1 < t0 || $1 > t1) { prev = $1; next }
        if (n == 0 && prev != "") gap = $1 - prev
        else if (n > 0 && $1 - prev > gap) gap = $1 - prev
        if (n == 0 || seq < lo) lo = seq; if (n == 0 || seq > hi) hi = seq
        if (!(seq in got)) { got[seq] = 1; distinct++ }
        n++; prev = $1
      }
      END {
        if (n == 0) { print label ": no packets in the window"; exit }
        printf "%s packets=%d per_s=%.1f max_gap_ms=%.1f lost=%d (sequence %d..%d)\n",
          label, n, n * 1000 / (t1 - t0), gap, (hi - lo + 1) - distinct, lo, hi
      }' "$work/rtp.trace"
    }
    first=$(awk '$2 == "to" {printf "%.0f", $1; exit}' "$work/rtp.trace")
    [ -n "$first" ] && rtp_window "$first" "$flood_t0" live_rtp_to_genesys_before_flood
    rtp_window "$flood_t0" "$flood_t1" live_rtp_to_genesys_during_flood
    echo "live_call_browser: $(grep -o 'media call .*' "$work/browser.log" | tail -1)"
  fi
} | tee "$out"
[ -z "${KEEP_RTT:-}" ] || cp "$rtt" "$KEEP_RTT"

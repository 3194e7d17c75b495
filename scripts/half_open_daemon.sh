#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Half-open media at scale against the real daemon (issue 11, reliability-security.md 3.10, 5 items 26 and 30; not
# CI). N agent calls over WSS whose ICE never completes and N whose ICE completes but DTLS never does, all at once
# (tests/js/signaling/sip_clients.mjs half-open: raw SIP, digest, a minimal STUN agent), each answered by SIPp as
# Genesys; during it one legitimate real-media call (headless Chromium, JsSIP, Opus/DTLS-SRTP; SIPp echoes its RTP).
# Reported: time from each INVITE (and, for DTLS legs, from ICE completion) until rtcgate freed it (BYE) against
# ice.connect_timeout_ms / media.dtls_handshake_timeout_ms (defaults, 10 s each), descriptors, bound ports and RSS
# of the daemon at baseline, peak and after, and the legitimate call's outcome. Figures go to OUT
# (default build/bench/half_open.txt). The component-level variant is scripts/half_open_media.sh.
# PASSES (default 2) runs the whole load that many times on one daemon: RSS after each pass tells allocator
# caching (flat after the first) from a leak (growing).
# SETTLE_S (default 35) is waited after each pass before RSS is sampled again: the control loop trims the heap
# (malloc_trim) every 30 s when calls ended; rtcgate_browser_legs_live must then be 0.
# Usage: [PASSES=2] scripts/half_open_daemon.sh [N=500] [OUT]     Loopback only; everything started here is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-500}
passes=${PASSES:-2}
settle=${SETTLE_S:-35}
build=${RTCGATE_BUILD_DIR:-$root/build}
out=${2:-$build/bench/half_open.txt}
mkdir -p "$(dirname "$out")"
ulimit -n "$(ulimit -Hn)"
. "$root/scripts/lib/bench_daemon.sh"
sip_port=$(free_port); admin_port=$(free_port); wss_port=$(free_port); upstream_port=$(free_port)
uas_mp=$(free_port); http_port=$(free_port)
agents=10
calls=$((2 * n + 20))
{
  config_head
  echo '  - {user: "4001", password: soak-4001, dn: "4001"}'
  for k in $(seq 1 $agents); do u=$((2000 + k)); echo "  - {user: \"$u\", password: demo-$u, dn: \"$u\"}"; done
  cat <<YAML
media: {rtp_address: 127.0.0.1, rtp_port_min: 20000, rtp_port_max: 29999, ice_port_min: 30000, ice_port_max: 39999}
ice: {candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}
security:
  max_calls: $calls
  max_pending_media_sessions: $calls
  max_calls_per_agent: 100
  rate_limits:
    invites_per_ip: {per_s: 1000, burst: 1000}
    invites: {per_s: 1000, burst: 1000}
logging: {level: warn}
YAML
} > "$work/rtcgate.yaml"
[ $(((2 * n + agents - 1) / agents)) -le 100 ] || { echo "N too large for $agents agents of 100 calls" >&2; exit 2; }

# Genesys: answers every call (and the DN REGISTERs), echoes RTP.
(cd "$work" && exec sipp -sf "$root/tests/soak/soak-uas-answer-echo.xml" -i 127.0.0.1 -p "$upstream_port" \
  -mi 127.0.0.1 -mp "$uas_mp" -rtp_echo -bind_local -nostdin -key mediaport "$uas_mp" \
  > "$work/sipp-uas.log" 2>&1) &
helpers+=($!)
start_daemon "$admin_port"

sample() {  # fds ports rss_kb calls_active
  local fds ports rss active
  fds=$(find "/proc/$daemon/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  ports=$(ss -Huanp 2>/dev/null | grep -c "pid=$daemon," || true)
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$daemon/status")
  active=$(curl -sf --max-time 2 "http://127.0.0.1:$admin_port/metrics" | awk '$1 == "rtcgate_calls_active" {print $2}')
  echo "$fds ${ports:-0} $rss ${active:-?}"
}
sleep 1  # start-up settles (the READY notification socket, first timers) before the baseline
read -r fds0 ports0 rss0 _ <<<"$(sample)"

peak_fds=$fds0; peak_ports=$ports0; peak_rss=$rss0; peak_active=0
for pass in $(seq 1 "$passes"); do
t0=$(date +%s%3N)
SIP_CLIENTS_DEADLINE_MS=120000 node "$root/tests/js/signaling/sip_clients.mjs" half-open "$wss_port" \
  https://app.example "$n" "$n" "$agents" > "$work/half_open.log" 2>&1 &
load=$!; helpers+=($load)
# The legitimate call, placed while the half-open legs are pending (Chromium starts in a few seconds).
node "$root/tests/js/soak/soak_agents.mjs" browser "$wss_port" "http://127.0.0.1:$http_port" 90 \
  http_port="$http_port" calls=1 call_ms=5000 > "$work/browser.log" 2>&1 &
browser=$!; helpers+=($browser)
for _ in $(seq 1200); do  # bounded: 240 s
  read -r f p r a <<<"$(sample)"
  [ "$f" -gt "$peak_fds" ] && peak_fds=$f
  [ "$p" -gt "$peak_ports" ] && peak_ports=$p
  [ "$r" -gt "$peak_rss" ] && peak_rss=$r
  [[ $a =~ ^[0-9]+$ ]] && [ "$a" -gt "$peak_active" ] && peak_active=$a
  if ! kill -0 "$load" 2>/dev/null && ! kill -0 "$browser" 2>/dev/null && [ "$a" = 0 ]; then break; fi
  sleep 0.2
done
t1=$(date +%s%3N)
load_status=0; wait "$load" || load_status=$?
# Descriptors and ports drain asynchronously after the last call (transactions, sockets): awaited, bounded.
for _ in $(seq 100); do
  read -r f p r a <<<"$(sample)"
  [ "$f" -le "$fds0" ] && [ "$p" -le "$ports0" ] && break
  sleep 0.1
done
metric() { curl -sf --max-time 2 "http://127.0.0.1:$admin_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
sleep "$settle"
rss_settled=$(awk '/^VmRSS:/ {print $2}' "/proc/$daemon/status")
{
  echo "# pass $pass of $passes"
  echo "# half-open media against the daemon ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r))"
  echo "legs: $n ICE never completes + $n DTLS never completes, $agents agents over WSS; deadlines: ice.connect_timeout_ms=10000 media.dtls_handshake_timeout_ms=10000 (defaults)"
  grep -h '^RESULT' "$work/half_open.log" | sed 's/^RESULT //'
  echo "half_open_driver_exit=$load_status"
  echo "daemon fds baseline=$fds0 peak=$peak_fds after=$f"
  echo "daemon udp_ports baseline=$ports0 peak=$peak_ports after=$p"
  echo "daemon rss_kb baseline=$rss0 peak=$peak_rss after=$r"
  echo "daemon rss_kb ${settle}s after the pass=$rss_settled heap_trims=$(metric rtcgate_heap_trims_total) browser_legs_live=$(metric rtcgate_browser_legs_live)"
  echo "calls_active peak=$peak_active after=$a; run_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1000}')"
  echo "legitimate_call: $(grep -o 'media call .*' "$work/browser.log" | tail -1 || echo 'none: see browser.log')"
  echo "daemon_alive=$(kill -0 "$daemon" 2>/dev/null && echo yes || echo no)"
} | tee "$out"
[ "$load_status" -eq 0 ] || { tail -30 "$work/half_open.log"; tail -30 "$work/browser.log"; }
[ "$pass" = 1 ] && cp "$out" "$out.pass1"
done
[ ! -f "$out.pass1" ] || { cat "$out.pass1" "$out" > "$out.all"; mv "$out.all" "$out"; rm -f "$out.pass1"; }
# A reload ends with malloc_trim (docs/security.md): what RSS is left after it is held, not cached.
reloads() { curl -sf --max-time 2 "http://127.0.0.1:$admin_port/metrics" | awk '$1 == "rtcgate_config_reloads_total" {print $2}'; }
r0=$(reloads); kill -HUP "$daemon"
for _ in $(seq 50); do [ "$(reloads)" != "$r0" ] && break; sleep 0.1; done
echo "daemon rss_kb after a reload (malloc_trim)=$(awk '/^VmRSS:/ {print $2}' "/proc/$daemon/status")" | tee -a "$out"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (issue 13, agents at scale): the real daemon with an agents file of N generated agents (default 2,000;
# also run with 20,000, the default max_agents). Figures, appended to OUT (default build/bench/agents.txt):
# One upstream server (nothing listens there), so every agent has its DN registration object.
# `--check-config` wall time and peak RSS (parse + validate the file), daemon RSS at READY with the file and with no
# agents, agents file reload time (file rewritten, until the "agents file reloaded" log line), and the wall time of
# a stock JsSIP REGISTER (digest, challenge included) for the last agent. ctest asserts behaviour only
# (AgentsAtScale.*); this script measures.
# Usage: scripts/agents_bench.sh [N=2000] [OUT]
# Loopback only; the daemon is started and stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RTCGATE_BUILD_DIR:-$root/build}
n=${1:-2000}
out=${2:-$build/bench/agents.txt}
bin=$build/src/rtcgate
[ -x "$bin" ] || { echo "build rtcgate first ($bin)" >&2; exit 2; }
[ -d "$root/tests/js/node_modules" ] || { echo "tests/js/node_modules is needed (npm ci in tests/js)" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
work=$(mktemp -d /tmp/rtcgate-agents-bench.XXXXXX)
daemon=""
cleanup() { if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

python3 - "$work/agents.csv" "$n" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("user,password,dn,dn_auth_user,dn_password,always_registered\n")
    for i in range(n):
        f.write(f"a{i},pw-{i},{100000 + i},,,false\n")
PY
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
admin=$(free_port); wss=$(free_port); upstream=$(free_port)
config() {  # $1: agents_file value
  cat <<YAML
listeners:
  admin: {address: 127.0.0.1, port: $admin}
  wss: [{address: 127.0.0.1, port: $wss}]
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: $upstream}]  # nothing listens: DN registrations exist, only a1999's is wanted
agents_file: "$1"
max_agents: 1000000
security: {register_min_expires_s: 10}
media: {workers: 1}
YAML
}
config agents.csv > "$work/rtcgate.yaml"
config "" > "$work/none.yaml"

check=$( { /usr/bin/time -f '%e %M' "$bin" --check-config "$work/rtcgate.yaml" > /dev/null; } 2>&1 | tail -n 1)
check_s=${check% *}; check_kb=${check#* }

# The daemon on $1 until the admin /healthz answers (bounded); its RSS then in $rss.
start() {
  "$bin" --config "$1" > "$work/daemon.log" 2>&1 & daemon=$!
  for _ in $(seq 1 500); do
    curl -sf "http://127.0.0.1:$admin/healthz" > /dev/null 2>&1 && break
    sleep 0.02  # nothing to wait on but the port answering
  done
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
}
stop() { kill "$daemon"; wait "$daemon" || true; daemon=""; }

start "$work/none.yaml"; rss_none=$rss; stop
t0=$(date +%s.%N)
start "$work/rtcgate.yaml"; rss_file=$rss
t1=$(date +%s.%N)
last=$((n - 1))
reg_start=$(date +%s.%N)
js=$(cd "$root/tests/js" && node signaling/sip_clients.mjs jssip-agent "$wss" https://app.example "a$last" password "pw-$last")
reg_end=$(date +%s.%N)
echo "$js" | grep -q 'RESULT first=registered' || { echo "REGISTER of a$last failed: $js" >&2; exit 1; }
# Reload: the same file with one more agent, timed until the daemon logs it.
echo "a$n,pw-$n,$((100000 + n)),,,false" >> "$work/agents.csv"
r0=$(date +%s.%N)
for _ in $(seq 1 1000); do grep -q 'agents file reloaded' "$work/daemon.log" && break; sleep 0.01; done
r1=$(date +%s.%N)
grep -q 'agents file reloaded' "$work/daemon.log" || { echo "no reload seen" >&2; exit 1; }
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
stop

line=$(python3 - "$n" "$check_s" "$check_kb" "$rss_none" "$rss_file" "$t0" "$t1" "$reg_start" "$reg_end" "$r0" "$r1" "$rss_after" <<'PY'
import sys
n, cs, ckb, rn, rf, t0, t1, rs, re_, r0, r1, ra = sys.argv[1:]
print(f"agents={n} check_config_s={float(cs):.2f} check_config_maxrss_kb={ckb} daemon_rss_kb_no_agents={rn} "
      f"daemon_rss_kb_with_file={rf} (+{int(rf) - int(rn)} kB) start_to_healthz_s={float(t1) - float(t0):.2f} "
      f"jssip_register_last_agent_ms={(float(re_) - float(rs)) * 1000:.0f} (node start included) "
      f"file_reload_s={float(r1) - float(r0):.2f} (300 ms debounce included) rss_after_reload_kb={ra}")
PY
)
echo "$(date -u +%FT%TZ) $(git -C "$root" describe --always --dirty) $line" | tee -a "$out"

# SPDX-License-Identifier: Apache-2.0
# Sourced by the benchmark scripts that run the real daemon on loopback (invite_flood_bench.sh,
# half_open_daemon.sh): a work directory, helper processes stopped by PID on exit, free ports, and the daemon
# started from $work/rtcgate.yaml and awaited until /readyz answers.
# Needs: $build (the build directory). Sets: $bin, $work, $daemon; `helpers` collects PIDs to stop.
bin=$build/src/rtcgate
[ -x "$bin" ] || { echo "build rtcgate first ($bin)" >&2; exit 2; }
command -v sipp >/dev/null || { echo "sipp (Debian sip-tester) is needed" >&2; exit 2; }
work=$(mktemp -d)
daemon=""
helpers=()
cleanup() {
  # SIGUSR2 first: the Node helpers (tests/js/soak/soak_agents.mjs) end cleanly on it, closing Chromium.
  for p in "${helpers[@]}"; do kill -USR2 "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  for p in "${helpers[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_daemon ADMIN_PORT: runs $bin on $work/rtcgate.yaml, bounded wait (10 s) for its /readyz.
start_daemon() {
  "$bin" --config "$work/rtcgate.yaml" >"$work/rtcgate.log" 2>&1 &
  daemon=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$work/rtcgate.log" >&2
  exit 1
}

. "$(dirname "${BASH_SOURCE[0]}")/daemon_config.sh"

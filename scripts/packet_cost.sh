#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where the gateway's time per packet goes (issue 14, docs/adr/0010-batch-socket-io.md): runs
# benchmarks/rtcgate_packet_cost (N calls on one gateway worker, real sockets, ICE + DTLS-SRTP) for passthrough and
# transcoded calls, each direction alone and both, and attaches perf to the gateway worker thread only:
#   perf stat   -e raw_syscalls:sys_enter and per-syscall tracepoints  -> syscalls per packet, by name
#   perf record -e cpu-clock (software clock: works in VMs without PMU)  -> share of samples by where they fall
# The CPU figures come from a window before perf attaches (the bench runs on for perf afterwards).
# Writes build/bench/packet_cost.txt (or $PACKET_COST_OUT). Needs root or perf_event_paranoid <= 1 for the
# tracepoints; installs Debian's linux-perf when perf is missing (bench script only, never setup.sh).
# Usage: scripts/packet_cost.sh [BIN...]  (several binaries, e.g. before and after a change: run in turn for each
# configuration, so that both see the same machine load)   env: CALLS="20 100 200" SECONDS_PER_RUN=8 WARMUP=3 MODES="passthrough transcoded"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RTCGATE_BUILD_DIR:-$root/build}
bins=("$@")
[[ ${#bins[@]} -gt 0 ]] || bins=("$build/benchmarks/rtcgate_packet_cost")
out=${PACKET_COST_OUT:-$build/bench/packet_cost.txt}
calls_list=${CALLS:-"20 100 200"}
secs=${SECONDS_PER_RUN:-8}
warmup=${WARMUP:-3}
modes=${MODES:-"passthrough transcoded"}
directions=${DIRECTIONS:-"both to-genesys to-browser"}
for bin in "${bins[@]}"; do
  [[ -x $bin ]] || { echo "no $bin: build target rtcgate_packet_cost" >&2; exit 1; }
done
if ! command -v perf >/dev/null; then
  apt-get install -y -q linux-perf >/dev/null
fi
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
bench_pid=
cleanup() {
  [[ -n $bench_pid ]] && kill "$bench_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

syscalls="raw_syscalls:sys_enter"
for s in poll ppoll epoll_wait recvfrom recvmsg recvmmsg sendto sendmsg sendmmsg read write; do
  syscalls+=",syscalls:sys_enter_$s"
done

# Shares of the perf samples: kernel_poll (poll(2) over all the worker's fds: sock_poll, fdget, udp_poll...),
# kernel (the other syscalls, the loopback delivery they do, scheduling), SRTP (libsrtp2 + OpenSSL
# crypto), copy (memcpy/memmove), codec (libopus, G.711), GLib main loop, libnice, the rest (rtcgate, libc).
classify() {
  perf report -i "$1" --stdio --no-children --sort dso,sym 2>/dev/null | awk '
    /^#/ || NF < 3 { next }
    { pct = $1; sub("%", "", pct); line = $0
      if (line ~ /\[k\]/ && line ~ /poll|fdget|fput/) c = "kernel_poll"  # scanning every fd of the worker per wakeup
      else if (line ~ /\[k\]/) c = "kernel"
      else if (line ~ /srtp|aes|AES|gcm|GCM|sha1|SHA1|hmac|HMAC|libcrypto|ossl|EVP|cipher|ghash|gcm_/) c = "srtp"
      else if (line ~ /memcpy|memmove/) c = "copy"
      else if (line ~ /opus|silk|celt|ulaw|alaw|Pcm|pcm|resampl/) c = "codec"
      else if (line ~ /libglib/) c = "glib"
      else if (line ~ /libnice|nice_|stun_/) c = "libnice"
      else c = "other"
      share[c] += pct }
    END { for (c in share) printf "%s=%.1f%% ", c, share[c]; printf "\n" }'
}

{
  echo "# rtcgate packet cost, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# binaries: ${bins[*]}; window ${secs}s after ${warmup}s warm-up; one gateway worker thread; peers on other threads"
  echo "# us_per_pkt = gateway thread CPU (getrusage RUSAGE_THREAD user+sys) / packets the peers sent into it"
} >>"$out"

# SWEEP=0: only the REPEATS below.
[[ ${SWEEP:-1} == 0 ]] && directions=""
for mode in $modes; do
  for calls in $calls_list; do
    for dir in $directions; do
    for bin in "${bins[@]}"; do
      args=(--calls "$calls" --seconds "$secs" --warmup "$warmup" --tid-file "$work/tid" --perf-seconds "$((secs + 1))")
      [[ $mode == transcoded ]] && args+=(--transcoded)
      [[ $dir != both ]] && args+=(--only "$dir")
      rm -f "$work/tid"
      "$bin" "${args[@]}" >"$work/bench.out" 2>"$work/bench.err" &
      bench_pid=$!
      for _ in $(seq 1 $((1200 + 10 * (warmup + secs)))); do
        [[ -s $work/tid ]] && break
        kill -0 "$bench_pid" 2>/dev/null || break  # set-up failed: it exited
        sleep 0.1
      done
      if [[ ! -s $work/tid ]]; then
        echo "$mode calls=$calls $dir: no measurement window (set-up failed): $(tail -1 "$work/bench.err")" >>"$out"
        wait "$bench_pid" || true
        bench_pid=
        continue
      fi
      tid=$(cat "$work/tid")
      window=$secs
      perf stat -x, -e "$syscalls" -t "$tid" -o "$work/stat" -- sleep "$window" 2>/dev/null &
      stat_pid=$!
      perf record -q -e cpu-clock -F 2000 -t "$tid" -o "$work/perf.data" -- sleep "$window" >/dev/null 2>&1 || true
      wait "$stat_pid" || true
      wait "$bench_pid"
      bench_pid=
      line=$(tail -1 "$work/bench.out")
      # Per packet forwarded in perf's window: each forwarded packet is exactly one sendmsg (RtpLeg::send toward
      # Genesys, libnice's toward the browser; RTCP goes out with sendto), so sendmsg counts the window's packets.
      per_pkt=$(awk -F, '
        $3 ~ /raw_syscalls/ { total = $1 }
        $3 ~ /syscalls:sys_enter_/ && $1 + 0 > 0 { n = $3; sub("syscalls:sys_enter_", "", n); c[n] = $1; order[++k] = n }
        END { p = c["sendmsg"]; if (p == 0) { print "no packets"; exit }
              printf "packets=%d syscalls_per_pkt=%.2f ", p, total / p
              for (i = 1; i <= k; i++) printf "%s=%.2f ", order[i], c[order[i]] / p }
      ' "$work/stat")
      echo "$(basename "$bin") $line" >>"$out"
      echo "  perf: $per_pkt" >>"$out"
      echo "  time: $(classify "$work/perf.data")" >>"$out"
    done
    done
  done
done
# CPU per packet on a shared machine varies by tens of percent from run to run (other processes, steal): with
# REPEATS > 0, each binary runs REPEATS more times, in turn, without perf, and the median is reported.
repeats=${REPEATS:-0}
if (( repeats > 0 )); then
  for mode in $modes; do
    for calls in $calls_list; do
      for bin in "${bins[@]}"; do : >"$work/$(basename "$bin").cpu"; done
      for ((r = 0; r < repeats; r++)); do
        for bin in "${bins[@]}"; do
          args=(--calls "$calls" --seconds "$secs" --warmup "$warmup")
          [[ $mode == transcoded ]] && args+=(--transcoded)
          "$bin" "${args[@]}" 2>/dev/null | tail -1 | tr ' ' '\n' | awk -F= '
            $1 == "gateway_us_per_pkt" { t = $2 } $1 == "gateway_user_us_per_pkt" { u = $2 }
            $1 == "gateway_sys_us_per_pkt" { k = $2 } END { if (t != "") print t, u, k }' >>"$work/$(basename "$bin").cpu" || true
        done
      done
      for bin in "${bins[@]}"; do
        sort -n "$work/$(basename "$bin").cpu" | awk -v name="$(basename "$bin")" -v mode="$mode" -v calls="$calls" '
          { t[NR] = $1; u[NR] = $2; k[NR] = $3; all = all " " $1 }
          END { m = int((NR + 1) / 2); printf "%s mode=%s calls=%d direction=both runs=%d median_us_per_pkt=%.2f (user %.2f, sys %.2f); all:%s\n",
                name, mode, calls, NR, t[m], u[m], k[m], all }' >>"$out"
      done
    done
  done
fi
echo "wrote $out"

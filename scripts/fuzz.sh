#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The libFuzzer targets of fuzz/ under ASan+UBSan, each for a bounded time (CI; part of scripts/test.sh):
#   ./scripts/fuzz.sh [seconds-per-target]      (default 25; two at a time: 11 targets in 6 rounds, about 2.5 min)
#   ./scripts/fuzz.sh --build-only
# Builds build-fuzz with clang (only the targets and the libraries they link), then runs every target over its
# committed corpus (fuzz/corpus/<target>), its crash regressions (fuzz/regressions/<target>) and, for the SIP
# targets, tests/sip/torture when present. New inputs go to build-fuzz/fuzz-scratch, never to the committed corpus.
# Fails on any crash, sanitizer report, leak, input slower than 1 s (-timeout=1) or RSS above 2 GiB; the input is
# left in build-fuzz/fuzz-artifacts/<target>/ (reproduce: build-fuzz/fuzz/fuzz_<target> <file>).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=$(dirname "${RTCGATE_BUILD_DIR:-$root/build}")
dir=${RTCGATE_FUZZ_DIR:-$base/build-fuzz}
jobs=${RTCGATE_JOBS:-2}
seconds=${1:-25}

# Largest input per target, in bytes: a WebSocket SIP message with SDP, one datagram, a config file.
declare -A max_len=([browser_sip_frames]=16384 [digest_authorization]=2048 [sdp_browser]=8192 [sdp_genesys]=4096
  [media_packet]=1500 [upstream_sip]=8192 [opus_to_g711]=4096 [dtmf]=512 [config_yaml]=16384
  [srtp_unprotect]=1500 [dtls_records]=4096)
declare -A dict=([browser_sip_frames]=sip [digest_authorization]=sip [sdp_browser]=sip [sdp_genesys]=sip
  [upstream_sip]=sip [dtmf]=sip [config_yaml]=yaml)
sip_targets=" browser_sip_frames upstream_sip "

# Seed directories of a target: committed corpus, regressions, the RFC 4475/5118 torture messages.
seeds() {
  local t=$1
  for d in "$root/fuzz/corpus/$t" "$root/fuzz/regressions/$t"; do [[ -d $d ]] && echo "$d"; done
  [[ $sip_targets == *" $t "* && -d $root/tests/sip/torture ]] && echo "$root/tests/sip/torture"
  return 0
}

# run <target> <seconds> <scratch corpus dir> <log>: one libFuzzer run; its exit status.
run() {
  local t=$1 secs=$2 scratch=$3 log=$4 extra=()
  mkdir -p "$scratch" "$dir/fuzz-artifacts/$t"
  [[ -n ${dict[$t]:-} ]] && extra+=("-dict=$root/fuzz/dict/${dict[$t]}.dict")
  local -a seed_dirs
  mapfile -t seed_dirs < <(seeds "$t")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:symbolize=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$dir/fuzz/fuzz_$t" -max_total_time="$secs" -max_len="${max_len[$t]}" -rss_limit_mb=2048 -timeout=1 \
    -print_final_stats=1 -artifact_prefix="$dir/fuzz-artifacts/$t/" "${extra[@]}" \
    "$scratch" "${seed_dirs[@]}" >"$log" 2>&1
}

# The figures of a finished run, from libFuzzer's last lines.
summary() {
  local t=$1 log=$2
  local execs rate cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
  printf '%-22s %10s execs %7s exec/s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}"
}

if [[ ${BASH_SOURCE[0]} != "$0" ]]; then return 0; fi  # sourced by fuzz-campaign.sh for seeds/run/summary

# ccache when there is one (local runs; CI starts cold). Thread asserts on: a harness must call from the right loop.
launcher=$(command -v ccache || true)
cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRTCGATE_FUZZ=ON -DRTCGATE_BUILD_TESTS=OFF -DRTCGATE_BUILD_BENCHMARKS=OFF -DRTCGATE_WARNINGS_AS_ERRORS=ON \
  -DRTCGATE_THREAD_ASSERTS=ON -DCMAKE_C_COMPILER_LAUNCHER="$launcher" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" \
  >/dev/null
cmake --build "$dir" -j"$jobs" --target fuzz_all
[[ $seconds == --build-only ]] && exit 0


targets=$(cd "$root/fuzz" && ls -1 ./*.cpp | sed 's#^\./##; s#\.cpp$##' | grep -vx replay_main)
rm -rf "$dir/fuzz-scratch" "$dir/fuzz-logs"
mkdir -p "$dir/fuzz-logs"
declare -A pid_of=()
failed=()
start=$(date +%s)
for t in $targets; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  ( run "$t" "$seconds" "$dir/fuzz-scratch/$t" "$dir/fuzz-logs/$t.log" ) &
  pid_of[$t]=$!
done
for t in $targets; do
  if wait "${pid_of[$t]}"; then
    summary "$t" "$dir/fuzz-logs/$t.log"
  else
    failed+=("$t")
    echo "fuzz: $t FAILED (log: $dir/fuzz-logs/$t.log, input: $dir/fuzz-artifacts/$t/)" >&2
    grep -E '^==[0-9]+==ERROR|runtime error|ALARM|leak|out-of-memory|deadly signal|Test unit written' \
      "$dir/fuzz-logs/$t.log" | head -8 >&2 || true
  fi
done
echo "fuzz: $(wc -w <<<"$targets") targets, ${seconds}s each, $((jobs)) at a time, $(($(date +%s) - start))s"
((${#failed[@]} == 0)) || { echo "fuzz: failed: ${failed[*]}" >&2; exit 1; }

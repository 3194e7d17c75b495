#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scale-out figures (issue 14, docs/scale-out.md): runs the e2e_scaleout lab (tests/e2e/scaleout_e2e.js: two nodes
# behind HAProxy and Kamailio, a node killed, a node drained) <rounds> times and summarises its measured times
# (min / median / max per figure). Needs root, `ip netns`, haproxy, kamailio, sipp and chromium (scripts/setup.sh).
# Usage: scripts/scaleout_lab.sh [rounds]   (default 5; figures appended to build/bench/scaleout.txt, summary to
#   build/bench/scaleout-summary.txt)
set -euo pipefail
rounds=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RTCGATE_BIN:-$root/build/src/rtcgate}
bench=$root/build/bench
[[ -x $bin ]] || { echo "scaleout_lab: no daemon binary at $bin (scripts/build.sh)" >&2; exit 2; }
mkdir -p "$bench"
start=$(wc -l < "$bench/scaleout.txt" 2>/dev/null || echo 0)
failed=0
for ((i = 1; i <= rounds; i++)); do
  echo "scaleout_lab: round $i of $rounds"
  if ! node "$root/tests/e2e/scaleout_e2e.js" "$bin" "$bench" > "$bench/scaleout-round-$i.log" 2>&1; then
    echo "scaleout_lab: round $i failed (see $bench/scaleout-round-$i.log):" >&2
    grep -a '^FAILED' "$bench/scaleout-round-$i.log" >&2 || tail -20 "$bench/scaleout-round-$i.log" >&2
    failed=$((failed + 1))
  fi
done
# One line per figure: name min median max (ms), over the rounds of this run.
tail -n +"$((start + 1))" "$bench/scaleout.txt" | python3 -c '
import sys, collections
v = collections.defaultdict(list)
for line in sys.stdin:
    for f in line.split()[2:]:
        k, _, x = f.partition("=")
        if x not in ("", "null"): v[k].append(int(x))
for k in sorted(v):
    a = sorted(v[k])
    print(f"{k:34} min {a[0]:6d}  median {a[(len(a) - 1) // 2]:6d}  max {a[-1]:6d}  ({len(a)} rounds)")
' | tee "$bench/scaleout-summary.txt"
echo "scaleout_lab: $((rounds - failed)) of $rounds rounds passed; $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" |
  tee -a "$bench/scaleout-summary.txt"
((failed == 0))

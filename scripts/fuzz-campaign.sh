#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A long local fuzzing campaign: every target of fuzz/ in turn (one at a time, niced), for the given minutes each,
# on a corpus that persists between campaigns (build-fuzz/campaign-corpus/<target>, seeded from the committed one).
#   ./scripts/fuzz-campaign.sh <minutes-per-target> [target...]
# Writes per target executions, exec/s, coverage (cov/ft of libFuzzer's last line), corpus size and crashes to
# build-fuzz/fuzz-report.txt. A crash input lands in build-fuzz/fuzz-artifacts/<target>/: fix the bug, add a unit
# test, and commit the input as fuzz/regressions/<target>/<name> (docs/fuzzing.md). Keeps going after a crash.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:?usage: fuzz-campaign.sh <minutes-per-target> [target...]}
shift
renice -n 10 $$ >/dev/null  # one target at a time, behind interactive work
"$root/scripts/fuzz.sh" --build-only
# shellcheck source=fuzz.sh
source "$root/scripts/fuzz.sh"
targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(cd "$root/fuzz" && ls -1 ./*.cpp | sed 's#^\./##; s#\.cpp$##' | grep -vx replay_main)

report=$dir/fuzz-report.txt
mkdir -p "$dir/campaign-logs"
{
  echo "# rtcgate fuzz campaign $(date -u +%FT%TZ), ${minutes} min per target, commit $(git -C "$root" rev-parse --short HEAD)"
  printf '%-22s %10s %7s  %s\n' target executions exec/s "coverage (libFuzzer), corpus entries/bytes; crashes"
} >"$report"
for t in "${targets[@]}"; do
  log=$dir/campaign-logs/$t.log
  status=0
  # libFuzzer keeps going only until the first finding; the campaign records it and moves on to the next target.
  run "$t" $((minutes * 60)) "$dir/campaign-corpus/$t" "$log" || status=$?
  crashes=$(find "$dir/fuzz-artifacts/$t" -type f 2>/dev/null | wc -l)
  line=$(summary "$t" "$log")
  echo "$line; crashes: $crashes$( ((status)) && echo " (run stopped: exit $status, see $log)")" | tee -a "$report"
done
echo "report: $report"

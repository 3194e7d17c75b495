#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Why the media worker's probe was late in reload_lag.py's windows (issue 13, scripts/reload_gap_bench.sh with
# PERF_SCHED=1): `perf sched timehist` of the worker thread splits each wake-up into the time it waited for a CPU
# (sch delay: runnable, not running) and the time it ran. A late probe with a long wait for a CPU is the machine's
# doing; one with a long run, or neither, would be rtcgate's (work on the worker, or a lock it blocked on).
# Usage: reload_lag_sched.py LABEL TRACE TIMEHIST.txt
import collections
import sys


def main():
    label, trace, timehist = sys.argv[1:4]
    windows = []
    for line in open(trace):
        kind, value = line.split()
        if kind in ("quiet", "sighup"):
            windows.append((kind, float(value)))
    rows = []
    for line in open(timehist):
        f = line.split()
        try:
            rows.append((float(f[0]), float(f[-2]), float(f[-1])))  # time, sch delay, run time (ms)
        except (ValueError, IndexError):
            continue
    agg = collections.defaultdict(lambda: {"waits": 0, "maxWait": 0.0, "runs": 0, "maxRun": 0.0})
    for kind, t0 in windows:
        a = agg[kind]
        for t, sch, run in rows:
            if t0 <= t < t0 + 1.0:
                a["maxWait"] = max(a["maxWait"], sch)
                a["maxRun"] = max(a["maxRun"], run)
                a["waits"] += sch > 20
                a["runs"] += run > 20
    text = "; ".join(f"{k}: waited > 20 ms for a CPU {a['waits']} times (longest {a['maxWait']:.1f} ms), ran > 20 ms "
                     f"{a['runs']} times (longest {a['maxRun']:.1f} ms)" for k, a in sorted(agg.items()))
    print(f"{label}: the idle daemon's media worker under perf sched, same windows: {text}")


if __name__ == "__main__":
    main()

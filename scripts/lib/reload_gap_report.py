#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# One line of scripts/reload_gap_bench.sh's figures from one run: the GAPS line of tests/e2e/call_e2e.js (gaps as the
# Genesys stand-in saw them, in its own event loop; the media worker's lag probe) and rtp_capture.py's kernel
# timestamps (gaps as the senders made them, per direction). A gap counts for a SIGHUP when its second packet
# arrived within 1 s after the signal; everything else is "outside".
# Usage: reload_gap_report.py LABEL E2E.log CAPTURE.tsv [SCHED-LATENCY.txt] >> build/bench/reload_gap.txt
# SCHED-LATENCY.txt: `perf sched latency -p` of the run (PERF_SCHED=1): the longest wait for a CPU of the
# daemon's threads and of the test process's main thread.
import collections
import json
import os
import re
import sys

GENESYS_SSRC = "6e6e6e6e"  # call_e2e.js genesysMedia()


def gaps(times, reloads):
    inside, outside = [0.0] * len(reloads), 0.0
    for a, b in zip(times, times[1:]):
        g = (b - a) * 1000
        hit = False
        for k, r in enumerate(reloads):
            if b >= r and a <= r + 1.0:
                inside[k] = max(inside[k], g)
                hit = True
        if not hit:
            outside = max(outside, g)
    return inside, outside


def main():
    label, log, cap = sys.argv[1:4]
    line = next((l for l in open(log) if l.startswith("GAPS ")), None)
    if line is None:
        print(f"{label}: no GAPS line in {log} (the run failed before its figures)")
        return
    g = json.loads(line[5:])
    reloads = [t / 1000 for t in g["reloadEpochMs"]]
    # Only this run's calls: other tests on the machine may send G.711 on lo at the same time.
    ports = {str(p) for p in g["ports"]}
    flows = collections.defaultdict(list)
    for row in open(cap):
        ts, sport, dport, ssrc, _seq = row.split("\t")
        if sport in ports or dport in ports:
            flows[(sport, dport, ssrc)].append(float(ts))
    worst = {"to_genesys": ([0.0] * len(reloads), 0.0, 0), "from_genesys": ([0.0] * len(reloads), 0.0, 0)}
    for (sport, dport, ssrc), times in flows.items():
        if len(times) < 50:
            continue  # another test's stray flow, or the after-reload call's few packets
        d = "from_genesys" if ssrc == GENESYS_SSRC else "to_genesys"
        inside, outside = gaps(sorted(times), reloads)
        w_in, w_out, n = worst[d]
        worst[d] = ([max(x, y) for x, y in zip(w_in, inside)], max(w_out, outside), n + 1)
    node_in = [max(c[k] for c in g["windowMs"]) for k in range(len(reloads))] if g["windowMs"] else []
    node_out = max(g["outsideMs"]) if g["outsideMs"] else 0
    sched = ""
    if len(sys.argv) > 4 and os.path.exists(sys.argv[4]):
        waits = {}
        for row in open(sys.argv[4]):
            m = re.match(r"\s*(\S+):(\d+)\s*\|.*max:\s*([\d.]+) ms", row)
            if m:
                waits[int(m.group(2))] = (m.group(1), float(m.group(3)))
        mine = sorted((waits[t] for t in g.get("daemonThreads", []) if t in waits), key=lambda x: -x[1])
        test = waits.get(g.get("testPid"), ("node", 0.0))
        sched = ("; longest wait for a CPU (perf sched): " + ", ".join(f"{n} {w:.1f} ms" for n, w in mine[:4]) +
                 f", test process {test[1]:.1f} ms")
    phase = ""
    p = g.get("reloadPhaseLag") or {}
    if "+Inf" in p:
        phase = (f"; of those from the first SIGHUP to 1 s after the last: probes {p['+Inf']:.0f}, over 20 ms "
                 f"{p['+Inf'] - p['0.02']:.0f}, over 50 ms {p['+Inf'] - p['0.05']:.0f}, over 100 ms {p['+Inf'] - p['0.1']:.0f}")
    fmt = lambda xs: "/".join(f"{x:.0f}" for x in xs)
    print(f"{label}: calls={g['calls']} {'no SIGHUP (dry)' if g['dry'] else 'SIGHUP'}; "
          f"largest gap per reload window [ms] (1 s after each of {len(reloads)} SIGHUPs; outside the windows): "
          f"Genesys stand-in's receive loop {fmt(node_in)} ({node_out:.0f}); "
          f"kernel, rtcgate->Genesys {fmt(worst['to_genesys'][0])} ({worst['to_genesys'][1]:.0f}) over "
          f"{worst['to_genesys'][2]} flows; kernel, Genesys stand-in's sender {fmt(worst['from_genesys'][0])} "
          f"({worst['from_genesys'][1]:.0f}); media worker lag probe max {g['lagMaxMs']:.1f} ms, "
          f"probes {g['lagCount']:.0f}, over 20 ms {g['lagCount'] - g['lagBuckets']['0.02']:.0f}, "
          f"over 50 ms {g['lagCount'] - g['lagBuckets']['0.05']:.0f}{phase}{sched}; reload timings {'; '.join(g['reloadLog'])}")


if __name__ == "__main__":
    main()

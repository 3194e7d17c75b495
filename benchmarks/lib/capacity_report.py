#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Summarise the steps of a capacity sweep (benchmarks/lib/load_steps.sh wrote one JSON per step, each with the
rtcgate-load report) into one JSON document and a text table.

Usage: capacity_report.py STEPS_DIR OUT_JSON OUT_TXT LABEL LOSS_LIMIT_PCT LATENCY_LIMIT_MS
Per series: the highest concurrency within the limits (no failed call, loss below LOSS_LIMIT_PCT and p99 added
latency below LATENCY_LIMIT_MS in both directions) and the cost there. "Calls per core" is 1000 / (gateway CPU ms
per call-second) at that step: the generator shares the 2 cores, so the concurrency reached is bounded by the
machine, the cost per call-second is not.
"""
import glob
import json
import os
import platform
import sys
import time


def get(d, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or d.get(p) is None:
            return default
        d = d[p]
    return d


def fmt(v, spec="{:.2f}"):
    if v is None:
        return "-"
    return spec.format(v) if isinstance(v, float) else str(v)


def cost_whole(step, r):
    received = get(r, "directions", "to_browser", "packets_received", default=0)
    return round(1000 * step["gateway_cpu_s_whole_step"] / (received / 50), 3) if received else None


def row_of(step, loss_limit, lat_limit):
    r = step.get("report") or {}
    failed = sum((get(r, "calls", "failed") or {}).values())
    dirs = ("to_genesys", "to_browser")
    losses = [get(r, "directions", d, "loss_percent") for d in dirs]
    # The goal's latency is judged toward Genesys: rtcgate-load stamps those arrivals in the kernel (SO_TIMESTAMPNS),
    # so they hold rtcgate's added latency alone. Toward the browser the packets come through libnice, read when
    # the generator's one loop gets to them: that figure (p99_to_browser_ms) also holds the generator's own delay.
    p99 = get(r, "directions", "to_genesys", "added_latency_ms", "p99")
    p99_to_browser = get(r, "directions", "to_browser", "added_latency_ms", "p99")
    loss = None if None in losses else max(losses)
    established = get(r, "calls", "established", default=0)
    ok = bool(r) and failed == 0 and established >= get(r, "calls", "attempted", default=1) \
        and loss is not None and loss < loss_limit and p99 is not None and p99 < lat_limit
    row = dict(series=step["series"], calls=step["concurrency"], established=established, failed=failed,
               failed_by_reason=get(r, "calls", "failed") or {},
               # rtcgate-load writes 0 when the steady window (every call up) was never reached.
               cpu_ms_per_call_s=get(r, "target", "cpu_ms_per_call_second") or None,
               rss_kb_per_call=get(r, "target", "rss_kb_per_call"), loss_pct=loss, p99_added_ms=p99,
               p99_to_browser_ms=p99_to_browser, generator_ticks_skipped=get(r, "generator", "ticks_skipped"),
               jitter_ms_p99=max(get(r, "directions", d, "jitter_ms_p99", default=0.0) for d in dirs),
               setup_p50_ms=get(r, "setup_ms", "p50"), setup_p99_ms=get(r, "setup_ms", "p99"),
               gateway_cpu_s_whole_step=step["gateway_cpu_s_whole_step"],
               # Over the whole step (ramp, setups and teardown included), per call-second of media carried
               # (packets received toward the browser / 50): a cost that exists even when the steady window
               # the generator measures in was never reached.
               cpu_ms_per_call_s_whole=cost_whole(step, r),
               loadavg=(step.get("loadavg_1min_before_after") or [None, None])[1], generator_cpu_s=get(r, "generator", "cpu_s"),
               ok=ok)
    if step["series"].startswith("setup"):
        # Calls ramped at `rate` and held to the end: setups/s achieved = established calls over the ramp's length
        # (the offered rate when every call set up in time); the gateway's CPU per setup is over the whole step,
        # so it includes each call's media until the run's end (see cpu_ms_per_call_s_whole for that part).
        ramp_s = step["concurrency"] / step["rate"] if step["rate"] else None
        row["setups_per_s"] = round(min(established, step["concurrency"]) / ramp_s, 1) if ramp_s else None
        row["gateway_cpu_ms_per_setup"] = round(1000 * step["gateway_cpu_s_whole_step"] / established, 2) \
            if established else None
    return row


def main():
    steps_dir, json_out, txt_out, label, loss_limit, lat_limit = sys.argv[1:7]
    loss_limit, lat_limit = float(loss_limit), float(lat_limit)
    steps = [json.load(open(f)) for f in glob.glob(os.path.join(steps_dir, "*.json"))
             if not f.endswith(".report.json")]
    steps.sort(key=lambda s: (s["series"], s["concurrency"]))
    rows, summary = [], {}
    for s in steps:
        row = row_of(s, loss_limit, lat_limit)
        s["within_limits"] = row["ok"]
        rows.append(row)
        if s["series"].startswith("setup"):
            continue
        best = summary.setdefault(s["series"], {"max_calls_within_limits": 0, "first_over_limits": None,
                                                "max_calls_within_loss_limit": 0})
        # A step where the generator skipped send ticks carried fewer packets than asked: its loss and its cost per
        # call-second say nothing about rtcgate at that concurrency, so it never counts as within a limit.
        skipped = row["generator_ticks_skipped"] or 0
        if skipped and best.get("generator_limited_from") is None:
            best["generator_limited_from"] = s["concurrency"]
        if skipped:
            row["ok"] = s["within_limits"] = False
        if not skipped and row["failed"] == 0 and row["loss_pct"] is not None and row["loss_pct"] < loss_limit \
                and s["concurrency"] >= best["max_calls_within_loss_limit"]:
            best["max_calls_within_loss_limit"] = s["concurrency"]
            cost = row["cpu_ms_per_call_s"] or row["cpu_ms_per_call_s_whole"]
            best["cpu_ms_per_call_second_at_loss_limit"] = cost
            best["calls_per_core_at_loss_limit"] = int(1000 / cost) if cost else None
        if row["ok"] and s["concurrency"] >= best["max_calls_within_limits"]:
            best["max_calls_within_limits"] = s["concurrency"]
            best["cpu_ms_per_call_second_there"] = row["cpu_ms_per_call_s"]
            best["calls_per_core_at_that_cost"] = int(1000 / row["cpu_ms_per_call_s"]) \
                if row["cpu_ms_per_call_s"] else None
        elif not row["ok"] and best["first_over_limits"] is None:
            best["first_over_limits"] = s["concurrency"]
    machine = {"nproc": os.cpu_count(), "kernel": platform.release(),
               "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    models = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")]
    machine["cpu_model"] = models[0] if models else "?"
    doc = {"label": label, "machine": machine,
           "limits": {"loss_percent_below": loss_limit, "p99_added_latency_ms_below": lat_limit},
           "summary": summary, "rows": rows, "steps": steps}
    with open(json_out, "w") as f:
        json.dump(doc, f, indent=1)
    lines = [f"# {label}: {machine['date_utc']}, {machine['cpu_model']}, {machine['nproc']} cores, {machine['kernel']}",
             f"# limits: loss < {loss_limit} %, p99 added latency < {lat_limit} ms, no failed call",
             "# p99_add_ms: toward Genesys, arrivals stamped by the kernel (rtcgate's added latency alone; judged);"
             " p99_brw: toward the browser, read by the generator's loop (includes its own delay; not judged);"
             " skip: send ticks the generator skipped (>0: the generator was the limit)",
             "# loadavg: the machine's 1-minute load average at the step's end (other work shares the cores)",
             "# cpu_ms/call_s: steady part (rtcgate-load --cpu-of); whole: the whole step incl. setups, per call-second",
             "series       calls  estab failed cpu_ms/call_s  whole rss_kb/call  loss_% p99_add_ms p99_brw jit_p99 "
             "setup_p50/p99 loadavg  skip ok"]
    for r in rows:
        line = (f"{r['series']:<12} {r['calls']:>5} {fmt(r['established']):>6} {r['failed']:>6} "
                f"{fmt(r['cpu_ms_per_call_s'], '{:.3f}'):>13} {fmt(r['cpu_ms_per_call_s_whole'], '{:.3f}'):>6} "
                f"{fmt(r['rss_kb_per_call'], '{:.1f}'):>11} "
                f"{fmt(r['loss_pct'], '{:.3f}'):>7} {fmt(r['p99_added_ms'], '{:.3f}'):>10} "
                f"{fmt(r['p99_to_browser_ms'], '{:.3f}'):>7} "
                f"{fmt(r['jitter_ms_p99'], '{:.2f}'):>7} {fmt(r['setup_p50_ms'], '{:.0f}'):>6}/"
                f"{fmt(r['setup_p99_ms'], '{:.0f}'):<6} {fmt(r['loadavg'], '{:.1f}'):>7} "
                f"{fmt(r['generator_ticks_skipped']):>5} {'yes' if r['ok'] else 'NO'}")
        if r["failed_by_reason"]:
            line += f"  failed: {r['failed_by_reason']}"
        if "setups_per_s" in r:
            line += f"  setups/s={fmt(r['setups_per_s'])} gateway_cpu_ms/setup={fmt(r['gateway_cpu_ms_per_setup'])}"
        lines.append(line)
    for name, b in sorted(summary.items()):
        lines.append(f"# {name}: within the loss limit alone up to {b['max_calls_within_loss_limit']} calls at "
                     f"{fmt(b.get('cpu_ms_per_call_second_at_loss_limit'), '{:.3f}')} ms/call-s "
                     f"(~{fmt(b.get('calls_per_core_at_loss_limit'))} calls per core); "
                     f"highest concurrency within all limits {b['max_calls_within_limits']} "
                     f"(first over: {fmt(b['first_over_limits'])}), cost there "
                     f"{fmt(b.get('cpu_ms_per_call_second_there'), '{:.3f}')} ms/call-s "
                     f"(~{fmt(b.get('calls_per_core_at_that_cost'))} calls per core)"
                     + (f"; the generator skipped send ticks from {b['generator_limited_from']} calls on"
                        if b.get("generator_limited_from") else ""))
    with open(txt_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The media workers' stall around SIGHUP with nothing else in the daemon (issue 13, scripts/reload_gap_bench.sh):
# the real daemon, its lag probe every 5 ms (RTCGATE_MEDIA_LAG_PROBE_MS), K one-second windows right after a SIGHUP
# alternating with K quiet one-second windows. Each SIGHUP changes something (agents, the WSS certificate, log
# levels, codec order, all of them, or nothing). What the probe counts in the SIGHUP windows beyond the quiet ones
# is what a reload does to a media thread; the quiet windows are this machine's noise floor.
# Usage: reload_lag.py RTCGATE_BIN K LABEL >> build/bench/reload_gap.txt
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BOUNDS = ["0.005", "0.01", "0.02", "0.05", "0.1", "+Inf"]


def config(d, cert, agents, level, codecs):
    return f"""listeners:
  admin: {{address: 127.0.0.1, port: 0}}
  wss: [{{address: 127.0.0.1, port: 0, tls_cert_file: {d}/{cert}.crt, tls_key_file: {d}/{cert}.key}}]
upstream:
  sip_bind: {{address: 127.0.0.1, port: 0}}
  servers: [{{host: 127.0.0.1, port: 9}}]
agents: [{", ".join(f'{{user: "{a}", password: demo-{a}, dn: "{a}"}}' for a in agents)}]
media: {{workers: 1, rtp_address: 127.0.0.1}}
ice: {{candidates: {{allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}}}
codecs: {{browser: [{codecs}]}}
logging: {{components: {{session: {level}}}}}
"""


def scrape(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for le in BOUNDS:
        m = re.search(r'^rtcgate_media_loop_lag_seconds_bucket\{le="' + re.escape(le) + r'"\} (\S+)$', text, re.M)
        out[le] = float(m.group(1)) if m else 0.0
    m = re.search(r"^rtcgate_media_worker_tasks (\S+)$", text, re.M)
    out["tasks"] = float(m.group(1)) if m else 0.0
    return out


def main():
    binary, k, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    d = tempfile.mkdtemp(prefix="rtcgate-reload-lag-")
    for name in ("a", "b"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.crt", "-days", "2", "-subj", f"/CN={name}"],
                       check=True, capture_output=True)
    base = dict(cert="a", agents=["1001", "1002"], level="debug", codecs="opus, pcmu, pcma")
    variants = [("nothing", {}), ("agents", {"agents": ["1001", "1003", "1004"]}), ("certificate", {"cert": "b"}),
                ("log level", {"level": "info"}), ("codec order", {"codecs": "pcmu, opus, pcma"}),
                ("all", {"agents": ["1005"], "cert": "b", "level": "warn", "codecs": "pcma, pcmu, opus"})]
    cfg = f"{d}/rtcgate.yaml"
    open(cfg, "w").write(config(d, **base))
    log = open(f"{d}/rtcgate.log", "w+")
    env = dict(os.environ, RTCGATE_MEDIA_LAG_PROBE_MS="5")
    p = subprocess.Popen([binary, "--config", cfg], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        port = None
        for _ in range(200):
            m = re.search(r"admin: http://127\.0\.0\.1:(\d+)/", open(f"{d}/rtcgate.log").read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        if port is None:
            print(f"{label}: the daemon did not start: {open(f'{d}/rtcgate.log').read()[-500:]}")
            return
        time.sleep(1)
        # RELOAD_LAG_TRACE=FILE: the media worker's thread id and the CLOCK_MONOTONIC start of every window, to line
        # up with `perf sched record -k CLOCK_MONOTONIC` (scripts/reload_gap_bench.sh, PERF_SCHED=1).
        trace = open(os.environ["RELOAD_LAG_TRACE"], "w") if os.environ.get("RELOAD_LAG_TRACE") else None
        if trace:
            for tid in os.listdir(f"/proc/{p.pid}/task"):
                if open(f"/proc/{p.pid}/task/{tid}/comm").read().startswith("rtc-media-"):
                    trace.write(f"worker {tid}\n")
        sums = {"quiet": dict.fromkeys(BOUNDS + ["tasks"], 0.0), "sighup": dict.fromkeys(BOUNDS + ["tasks"], 0.0)}
        for i in range(k):
            for kind in ("quiet", "sighup"):
                if kind == "sighup":
                    name, change = variants[i % len(variants)]
                    open(cfg, "w").write(config(d, **dict(base, **change)))
                before = scrape(port)
                if trace:
                    trace.write(f"{kind} {time.monotonic():.6f}\n")
                if kind == "sighup":
                    p.send_signal(signal.SIGHUP)
                time.sleep(1.0)  # the window: what the probe saw in the second after the signal (or without one)
                after = scrape(port)
                for key in sums[kind]:
                    sums[kind][key] += after[key] - before[key]
        reloads = re.findall(r"control thread: parse (\d+) us, heap trim (\d+) us, apply (\d+) us",
                             open(f"{d}/rtcgate.log").read())
        def describe(s):
            total = s["+Inf"]
            over = lambda le: total - s[le]
            return (f"{total:.0f} probes, late >5 ms {over('0.005'):.0f}, >10 ms {over('0.01'):.0f}, "
                    f">20 ms {over('0.02'):.0f}, >50 ms {over('0.05'):.0f}, >100 ms {over('0.1'):.0f}; "
                    f"tasks posted to the worker {s['tasks']:.0f}")
        worst = max((int(a) + int(b) + int(c) for a, b, c in reloads), default=0)
        print(f"{label}: idle daemon, media worker lag probe every 5 ms, {k} one-second windows each: "
              f"after a SIGHUP: {describe(sums['sighup'])} | quiet: {describe(sums['quiet'])} | "
              f"{len(reloads)} reloads applied, control thread per reload {worst} us at most")
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


if __name__ == "__main__":
    main()

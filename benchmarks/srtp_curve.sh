#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SRTP before/after (issue 14, docs/adr/0008-libsrtp2-with-openssl.md): the cost of protecting one call-second
# (50 PCMU packets, AES_CM_128_HMAC_SHA1_80) on one of N live sessions, N = 1, 10, 100, 1000, 2000, with
# libsrtp2 on OpenSSL (the default build) and Debian's libsrtp2 on NSS (a -DRTCGATE_SRTP_SYSTEM=ON build), plus
# the whole passthrough call-second with each. Runs rtcgate_media_bench's BM_SrtpProtectCallSecondWithLiveSessions
# and BM_PassthroughCallSecond from both builds, one after the other, CPU time medians of REPS repetitions.
# Results: OUT/srtp_curve.json and OUT/srtp_curve.txt (OUT default build/bench).
# Usage: [OPENSSL_BENCH=build/benchmarks/rtcgate_media_bench] [NSS_BENCH=build-srtpsys/benchmarks/rtcgate_media_bench]
#        [REPS=3] [MIN_TIME=0.5] benchmarks/srtp_curve.sh [OUT]
# Build them with: cmake -S . -B build -DRTCGATE_BUILD_BENCHMARKS=ON && cmake --build build --target rtcgate_media_bench
#   and the same with -B build-srtpsys -DRTCGATE_SRTP_SYSTEM=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
openssl_bench=${OPENSSL_BENCH:-$root/build/benchmarks/rtcgate_media_bench}
nss_bench=${NSS_BENCH:-$root/build-srtpsys/benchmarks/rtcgate_media_bench}
out=${1:-$root/build/bench}
for b in "$openssl_bench" "$nss_bench"; do
  [ -x "$b" ] || { echo "srtp_curve.sh: $b not built (see the usage in $0)" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "srtp_curve.sh: python3 is needed" >&2; exit 2; }
# The NSS build must really use NSS, the default one must not: a mix-up would make the curve meaningless.
ldd "$nss_bench" | grep -q libnss3 || { echo "srtp_curve.sh: $nss_bench does not link NSS" >&2; exit 2; }
if ldd "$openssl_bench" | grep -q 'libsrtp2\|libnss3'; then
  echo "srtp_curve.sh: $openssl_bench links a shared libsrtp2/NSS, not the OpenSSL build" >&2; exit 2
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for v in openssl nss; do
  b=$openssl_bench; [ $v = nss ] && b=$nss_bench
  "$b" --benchmark_filter='BM_SrtpProtectCallSecondWithLiveSessions|BM_PassthroughCallSecond' \
    --benchmark_min_time="${MIN_TIME:-0.5}" --benchmark_repetitions="${REPS:-3}" \
    --benchmark_report_aggregates_only=true --benchmark_format=json > "$work/$v.json" 2>"$work/$v.err"
done
python3 - "$work" "$out" <<'PY'
import json, os, platform, sys, time
work, out = sys.argv[1:3]
res = {}
for v in ("openssl", "nss"):
    d = json.load(open(os.path.join(work, v + ".json")))
    for b in d["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        us = b["cpu_time"] * {"us": 1, "ms": 1000, "ns": 0.001}[b["time_unit"]]
        res.setdefault(name, {})[v] = us
doc = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "kernel": platform.release(),
       "nproc": os.cpu_count(), "unit": "us CPU per call-second (median)", "results": res,
       "context": json.load(open(os.path.join(work, "openssl.json")))["context"]}
json.dump(doc, open(os.path.join(out, "srtp_curve.json"), "w"), indent=1)
lines = [f"# SRTP per call-second, OpenSSL vs NSS libsrtp2 ({doc['date_utc']}, {doc['nproc']} cores, {doc['kernel']})",
         f"{'benchmark':<52} {'OpenSSL us':>11} {'NSS us':>9} {'NSS/OpenSSL':>11}"]
def key(n):
    parts = n.split("/")
    return (parts[0], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0)
for name in sorted(res, key=key):
    o, n = res[name].get("openssl"), res[name].get("nss")
    ratio = f"{n / o:.1f}x" if o and n else "-"
    lines.append(f"{name:<52} {o if o is None else round(o, 1):>11} {n if n is None else round(n, 1):>9} {ratio:>11}")
open(os.path.join(out, "srtp_curve.txt"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY

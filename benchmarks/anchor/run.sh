#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The side-by-side anchor (issue 14): Kamailio (WSS, registrar, proxy) + rtpengine (userspace: ICE, DTLS-SRTP,
# Opus<->PCMU) from Debian's packages, configured as in benchmarks/anchor/kamailio-rtpengine/, started here on
# loopback and driven by the same rtcgate-load as benchmarks/capacity.sh: browser agents register over Kamailio's
# WSS and call out; the generator's Genesys side is the UAS Kamailio routes to (one inbound call, Genesys side ->
# Kamailio -> agent, is checked too, not swept). Kamailio's route strips the
# browser's G.711, so every call is transcoded (there is no passthrough series here).
# rtpengine 10.5 encodes Opus through FFmpeg's libopus at its default complexity 10 and has no option for it: the
# anchor is always at complexity 10, compared with rtcgate at its default (5) and at 10 (equal complexity).
# First one call (rtcgate-load 1 call) must pass, then the sweep runs with the same steps and limits.
# CPU counted: rtpengine plus every Kamailio process (from /proc, whole step), and rtpengine's steady part through
# the generator's --cpu-of. Results: OUT/anchor.json, OUT/anchor.txt, and, when OUT/capacity.json from
# capacity.sh is there, the ratios in OUT/anchor-vs-rtcgate.txt.
# Install the packages first (once, only when wanted): scripts/setup-anchor.sh
# Usage: benchmarks/anchor/run.sh [--quick] [--steps "1 10 100"] [--hold S] [--rate R] [--loss-limit PCT]
#          [--latency-limit-ms MS] [--stop-latency-ms MS] [--nice N] [--out DIR]   (options as capacity.sh's)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${RTCGATE_BUILD_DIR:-$root/build}
load=${RTCGATE_LOAD:-$build/tools/load/rtcgate-load}
ref=$root/benchmarks/anchor/kamailio-rtpengine
out=$build/bench
steps="1 10 100 500 1000"
hold=30
rate=20
loss_limit=0.1
latency_limit_ms=1
stop_latency_ms=20
nice_level=0
. "$root/benchmarks/lib/load_steps.sh"
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --quick) steps="1 10 50 100"; hold=10; rate=25 ;;
    -h|--help) usage ;;
    *) common_option "$1" "${2:-}" && shift || { echo "anchor/run.sh: unknown option $1" >&2; usage; } ;;
  esac
  shift
done
for tool in kamailio rtpengine openssl python3; do
  command -v "$tool" >/dev/null || { echo "anchor/run.sh: $tool not found: run scripts/setup-anchor.sh" >&2; exit 2; }
done
for m in websocket tls rtpengine; do
  [ -f "/usr/lib/x86_64-linux-gnu/kamailio/modules/$m.so" ] || {
    echo "anchor/run.sh: Kamailio module $m.so missing: run scripts/setup-anchor.sh" >&2; exit 2; }
done
[ -x "$load" ] || { echo "anchor/run.sh: rtcgate-load not found at $load (cmake --build build --target" \
  "rtcgate-load, or set RTCGATE_LOAD)" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d)
kam=""
rtpe=""
gen=""
cleanup() {
  [ -n "$gen" ] && kill "$gen" 2>/dev/null && wait "$gen" 2>/dev/null
  # Kamailio's main process stops its children on SIGTERM.
  [ -n "$kam" ] && kill "$kam" 2>/dev/null && wait "$kam" 2>/dev/null
  [ -n "$rtpe" ] && kill "$rtpe" 2>/dev/null && wait "$rtpe" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

wss_port=$(free_port); sip_port=$(free_port); uas_port=$(free_port); ng_port=$(free_port)
mkdir -p "$work/run" "$work/certs" "$work/steps"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout "$work/certs/server.key" \
  -out "$work/certs/server.crt" 2>/dev/null
render() {
  sed -e "s|@WSS_PORT@|$wss_port|g" -e "s|@SIP_PORT@|$sip_port|g" -e "s|@UAS_PORT@|$uas_port|g" \
    -e "s|@NG_PORT@|$ng_port|g" -e "s|@AUTH_PASSWORD@|load-secret|g" -e "s|@RUN@|$work/run|g" \
    -e "s|@CERTS@|$work/certs|g" "$1"
}
render "$ref/kamailio.cfg.in" > "$work/kamailio.cfg"
render "$ref/tls.cfg.in" > "$work/run/tls.cfg"
# rtpengine's media ports 40000-44999, apart from rtcgate's (capacity.sh: 10000-19999; tests: 20000-39999); its
# logs at warning level (the reference's debug control logs would cost CPU of their own per call).
sed -e "s|^listen-ng = .*|listen-ng = 127.0.0.1:$ng_port|" -e 's|^port-min = .*|port-min = 40000|' \
  -e 's|^port-max = .*|port-max = 44999|' -e 's|^\(log-level[a-z-]*\) = .*|\1 = 4|' "$ref/rtpengine.conf" \
  > "$work/rtpengine.conf"
kamailio -c -f "$work/kamailio.cfg" > "$work/kamailio-check.log" 2>&1 || {
  echo "anchor/run.sh: kamailio -c refused the rendered configuration:" >&2; tail -n 20 "$work/kamailio-check.log" >&2
  exit 1; }

nice -n "$nice_level" rtpengine --config-file="$work/rtpengine.conf" --foreground --pidfile="$work/run/rtpengine.pid" \
  > "$work/rtpengine.log" 2>&1 &
rtpe=$!
# -DD: no daemon, the main process stays this shell's child; -E: log to stderr.
nice -n "$nice_level" kamailio -f "$work/kamailio.cfg" -DD -E -m 512 -M 32 -Y "$work/run" -P "$work/run/kamailio.pid" \
  > "$work/kamailio.log" 2>&1 &
kam=$!
ready=no
for _ in $(seq 100); do  # bounded: 10 s for both to listen
  if python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$wss_port),0.2)" 2>/dev/null &&
    python3 - "$ng_port" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.3)
s.sendto(b"c1 d7:command4:pinge", ("127.0.0.1", int(sys.argv[1])))
sys.exit(0 if b"pong" in s.recv(200) else 1)
PY
  then ready=yes; break; fi
  kill -0 "$kam" 2>/dev/null && kill -0 "$rtpe" 2>/dev/null || break
  sleep 0.1
done
if [ "$ready" != yes ]; then
  echo "anchor/run.sh: Kamailio or rtpengine did not come up; logs:" >&2
  tail -n 20 "$work/kamailio.log" "$work/rtpengine.log" >&2
  exit 1
fi
# Only outbound calls are measured against the anchor; rtcgate-load does not wait for DN registrations on them
# (--wait-dns auto), which Kamailio never sends.
kam_pids() { echo "$kam" $(pgrep -P "$kam" | tr '\n' ' '); }
echo "anchor/run.sh: Kamailio $(kamailio -v | head -1 | awk '{print $3}') pid $kam, rtpengine pid $rtpe;" \
  "WSS 127.0.0.1:$wss_port, UAS 127.0.0.1:$uas_port"

# One call first: the setup must work before a sweep means anything.
run_load verify 1 opus 10 1 5 "wss://127.0.0.1:$wss_port/" "127.0.0.1:$uas_port" "$rtpe" $(kam_pids) "$rtpe"
# The check: the call established and audio arrived both ways (rtpengine drops a call's first packet or so while
# it learns the endpoints, so the loss limits are for the sweep, not for this).
call_works() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])).get("report") or {}
ok = r.get("calls", {}).get("established", 0) >= 1 and all(
    r.get("directions", {}).get(d, {}).get("packets_received", 0) > 0 for d in ("to_genesys", "to_browser"))
sys.exit(0 if ok else 1)
PY
}
if ! call_works "$work/steps/verify-1.json"; then
  echo "anchor/run.sh: the one-call check failed; generator output and logs:" >&2
  cat "$work/steps/verify-1.stdout" >&2
  tail -n 30 "$work/kamailio.log" "$work/rtpengine.log" >&2
  cp "$work/steps/verify-1.json" "$out/anchor-verify.json" 2>/dev/null || true
  exit 1
fi
echo "anchor/run.sh: one call through Kamailio + rtpengine works"
# The inbound direction, one call: the generator's Genesys side sends its INVITE for agent0001 to Kamailio's SIP
# port (Kamailio finds the agent by its registration and has rtpengine offer DTLS-SRTP/Opus to it over WSS); ACK and
# BYE follow the route set Kamailio record-routes. Checked like the outbound call; not part of the sweep.
"$load" --wss "wss://127.0.0.1:$wss_port/" --sip-domain 127.0.0.1 --agents 1 --password load-secret \
  --genesys-listen "127.0.0.1:$uas_port" --direction inbound --inbound-via "127.0.0.1:$sip_port" --codec opus \
  --calls 1 --concurrency 1 --rate 1 --hold 5 --duration 30 --report "$work/steps/inbound-1.report.json" \
  > "$work/steps/inbound-1.stdout" 2>&1 || true
if python3 - "$work/steps/inbound-1.report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["calls"]["established"] == 1 and not r["calls"]["failed"] and all(
    r["directions"][d]["packets_received"] > 0 for d in ("to_genesys", "to_browser"))
print("anchor/run.sh: inbound call:", json.dumps({k: r[k] for k in ("calls", "directions", "rtcp", "genesys")}))
sys.exit(0 if ok else 1)
PY
then echo "anchor/run.sh: one inbound call (Genesys side -> Kamailio -> agent over WSS) works"
else
  echo "anchor/run.sh: the inbound call failed; generator output:" >&2
  cat "$work/steps/inbound-1.stdout" >&2
  tail -n 30 "$work/kamailio.log" >&2
fi
echo "anchor/run.sh: sweeping"
for n in $steps; do
  run_load anchor "$n" opus 10 "$rate" "$hold" "wss://127.0.0.1:$wss_port/" "127.0.0.1:$uas_port" "$rtpe" \
    $(kam_pids) "$rtpe"
  if over_limits "$work/steps/anchor-$n.json"; then
    echo "  anchor: over the limits at $n calls; series stopped"
    break
  fi
done
rm -rf "$out/anchor-steps"; cp -r "$work/steps" "$out/anchor-steps"
python3 "$root/benchmarks/lib/capacity_report.py" "$work/steps" "$out/anchor.json" "$out/anchor.txt" \
  "Kamailio 5.6 + rtpengine 10.5 (Opus complexity 10, fixed)" "$loss_limit" "$latency_limit_ms"
if [ -f "$out/capacity.json" ]; then
  python3 - "$out/capacity.json" "$out/anchor.json" "$out/anchor-vs-rtcgate.txt" <<'PY'
import json, sys
cap, anc = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
def by_calls(doc, series):
    return {r["calls"]: r for r in doc["rows"] if r["series"] == series}
a = by_calls(anc, "anchor")
lines = ["# anchor (Kamailio + rtpengine, complexity 10) vs rtcgate, same generator, same machine",
         "# ratio = anchor / rtcgate (gateway CPU per call-second, steady part; max calls per core within limits)"]
for series, what in (("opus5", "each side's default (rtcgate 5, rtpengine 10)"), ("opus10", "equal complexity 10")):
    r = by_calls(cap, series)
    for n in sorted(set(a) & set(r)):
        # Steady part: rtpengine alone vs rtcgate; whole step: rtpengine + Kamailio vs rtcgate, setups included.
        for key, part in (("cpu_ms_per_call_s", "steady"), ("cpu_ms_per_call_s_whole", "whole step")):
            ca, cr = a[n][key], r[n][key]
            if ca and cr:
                lines.append(f"{what}: {n} calls, {part}: anchor {ca:.3f} ms/call-s, rtcgate {cr:.3f} -> ratio "
                             f"{ca / cr:.2f} (loss {a[n]['loss_pct']} % vs {r[n]['loss_pct']} %)")
    sa, sr = anc["summary"].get("anchor", {}), cap["summary"].get(series, {})
    for key in ("calls_per_core_at_that_cost", "calls_per_core_at_loss_limit"):
        if sa.get(key) and sr.get(key):
            lines.append(f"{what}: {key}: anchor {sa[key]}, rtcgate {sr[key]} -> rtcgate/anchor {sr[key] / sa[key]:.2f}"
                         f" (limits: anchor {anc['limits']}, rtcgate {cap['limits']})")
open(sys.argv[3], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
fi
echo "anchor/run.sh: wrote $out/anchor.json and $out/anchor.txt"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak (issue 11; nightly or local, not CI): the real daemon under calls, registrations, reloads, WebSocket drops
# and hostile noise for <minutes>, sampled every 10 s; fails when the daemon died, when FDs or bound ports did not
# return to their baseline once everything ended, or when RSS grew by more than SOAK_RSS_BOUND_KB after warm-up.
# Usage: scripts/soak.sh <minutes>      (docs/soak.md; output in build/soak/: soak.csv, soak-report.txt, logs)
# Network faults: agents' WebSockets destroyed (mid-call and idle, every 30 s), and every SOAK_FREEZE_S (150) s
# Genesys (the answering SIPp: signalling and echoed media) frozen for 4 s by SIGSTOP, a PBX/network stall; its
# media passes a relay dropping SOAK_LOSS (0.02) of the packets each way and delaying each by 0..SOAK_JITTER_MS
# (30) ms (user space: this kernel has no sch_netem for tc netem, docs/soak.md).
# Environment: RTCGATE_BIN (default build/src/rtcgate), SOAK_OUT (build/soak), SOAK_RELOAD_S (20),
#   SOAK_WARMUP_S (120), SOAK_RSS_BOUND_KB (10240), SOAK_CALL_RATE (inbound calls per second, 1), SOAK_MEDIA (1:
#   one Chromium page making real-media calls; 0: none).
set -euo pipefail
minutes=${1:?usage: scripts/soak.sh <minutes>}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RTCGATE_BIN:-$root/build/src/rtcgate}
out=${SOAK_OUT:-$root/build/soak}
reload_s=${SOAK_RELOAD_S:-20}
warmup_s=${SOAK_WARMUP_S:-120}
rss_bound_kb=${SOAK_RSS_BOUND_KB:-10240}
call_rate=${SOAK_CALL_RATE:-1}
freeze_s=${SOAK_FREEZE_S:-150}
loss=${SOAK_LOSS:-0.02}
jitter_ms=${SOAK_JITTER_MS:-30}
media=${SOAK_MEDIA:-1}
run_s=$((minutes * 60))
[[ -x $bin ]] || { echo "soak: no daemon binary at $bin (scripts/build.sh)" >&2; exit 2; }
mkdir -p "$out"
rm -f "$out"/soak.csv "$out"/soak-report.txt "$out"/*.log
tmp=$(mktemp -d /tmp/rtcgate-soak.XXXXXX)
declare -a pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# A free UDP+TCP port in [lo, hi) (step: alignment), outside the regions the tests use (tests/support).
free_port() {
  local lo=$1 hi=$2 step=${3:-1} p
  for _ in $(seq 100); do
    p=$((lo + (RANDOM * 32768 + RANDOM) % ((hi - lo) / step) * step))
    if [[ -z $(ss -Htuan "( sport >= :$p and sport <= :$((p + step - 1)) )") ]]; then echo "$p"; return; fi
  done
  echo "soak: no free port in $lo-$hi" >&2; return 1
}
uas_port=$(free_port 63000 63500); uac_port=$(free_port 63500 64000); http_port=$(free_port 64000 64200)
uas_mp=$(free_port 64200 64600 4); uac_mp=$(free_port 64600 65000 4); relay_port=$(free_port 65000 65400 2)
origin=https://soak.invalid
users=(3001 3002 3003 3004 3005 3006 3007 3008 3009 3010 3011 3012 4001)

# Two valid configurations differing in reloadable values, and two invalid ones that a reload must refuse.
config() {  # config <bitrate> <level> [extra line]
  cat <<EOF
listeners:
  admin: {address: 127.0.0.1, port: 0}
  wss: [{address: 127.0.0.1, port: 0}]
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: $uas_port}]
agents:
$(for u in "${users[@]}"; do echo "  - {user: \"$u\", password: soak-$u, dn: \"$u\"}"; done)
media: {workers: 1, rtp_address: 127.0.0.1, rtp_port_min: 62000, rtp_port_max: 62399, ice_port_min: 62400, ice_port_max: 62999}
ice: {candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}
codecs: {opus: {bitrate_bps: $1}}
security: {allowed_origins: ["$origin", "http://127.0.0.1:$http_port"], max_connections_per_ip: 60}
calls: {browser_reconnect_grace_ms: 8000}
logging: {level: $2}
${3:-}
EOF
}
config 32000 info > "$tmp/a.yaml"; config 24000 info > "$tmp/b.yaml"
config 32000 info "unknown_key: 1" > "$tmp/bad1.yaml"
config 32000 info "" | sed 's/max_connections_per_ip: 60/max_connections_per_ip: 60, max_calls_per_agent: 0/' > "$tmp/bad2.yaml"
cp "$tmp/a.yaml" "$tmp/rtcgate.yaml"
"$bin" --check-config "$tmp/rtcgate.yaml" > /dev/null

# A 1 kHz µ-law tone for SIPp's rtp_stream (raw G.711, 1 s).
node -e 'const {linearToUlaw}=require(process.argv[1]); const b=Buffer.alloc(8000);
  for (let i=0;i<8000;i++) b[i]=linearToUlaw(Math.round(8000*Math.sin(2*Math.PI*1000*i/8000)));
  require("fs").writeFileSync(process.argv[2], b);' "$root/tests/js/lib/wav.js" "$tmp/tone.ulaw"

# Genesys answering the agents' calls: its media behind the lossy relay.
helper=$root/tests/js/soak/soak_agents.mjs
node "$helper" impair 0 "$origin" "$((run_s + 120))" listen="$relay_port" target="$uas_mp" loss="$loss" \
  jitter_ms="$jitter_ms" > "$out/impair.log" 2>&1 &
impair_pid=$!; pids+=($impair_pid)
# Genesys answering the agents' calls (and the DN REGISTERs), media echoed. -deadcall_wait: SIPp otherwise
# swallows a DN's un-REGISTER that reuses the Call-ID of a REGISTER answered shortly before ("Dead call").
(cd "$tmp" && exec sipp -sf "$root/tests/soak/soak-uas-answer-echo.xml" -i 127.0.0.1 -p "$uas_port" \
  -mi 127.0.0.1 -mp "$uas_mp" -rtp_echo -bind_local -nostdin -deadcall_wait 500 -key mediaport "$relay_port" \
  -trace_stat -stf uas-stat.csv -fd 10 \
  > "$out/sipp-uas.log" 2>&1) &
uas_pid=$!; pids+=($uas_pid)
nice "$bin" --config "$tmp/rtcgate.yaml" > "$out/rtcgate.log" 2>&1 &
gw=$!; pids+=($gw)
for _ in $(seq 150); do grep -q 'ready: SIP toward Genesys' "$out/rtcgate.log" && break; sleep 0.1; done
wss_port=$(grep -oP 'WSS listening on wss://127\.0\.0\.1:\K\d+' "$out/rtcgate.log" | head -1)
sip_port=$(grep -oP 'ready: SIP toward Genesys on 127\.0\.0\.1:\K\d+' "$out/rtcgate.log" | head -1)
admin=$(grep -oP 'admin: \Khttp://127\.0\.0\.1:\d+/' "$out/rtcgate.log" | head -1)
[[ -n $wss_port && -n $sip_port && -n $admin ]] || { echo "soak: rtcgate did not start" >&2; cat "$out/rtcgate.log" >&2; exit 1; }

metric() { grep -oP "^$1 \K[0-9.e+]+" "$tmp/metrics" | head -1 || echo 0; }
sockets() { ss -Hanp "$1" 2>/dev/null | grep -c "pid=$gw," || true; }
echo "t_s,rss_kb,fds,udp_sockets,tcp_sockets,threads,calls_active,calls_total,reloads,reload_failures,wss_sip_malformed,sip_refused_source" > "$out/soak.csv"
t0=$(date +%s)
sample() {
  kill -0 "$gw" 2>/dev/null || return 1
  curl -sf --max-time 3 "${admin}metrics" > "$tmp/metrics" || : > "$tmp/metrics"
  local rss fds thr
  rss=$(grep -oP '^VmRSS:\s+\K\d+' "/proc/$gw/status"); thr=$(grep -oP '^Threads:\s+\K\d+' "/proc/$gw/status")
  fds=$(find "/proc/$gw/fd" -mindepth 1 -maxdepth 1 | wc -l)
  echo "$(($(date +%s) - t0)),$rss,$fds,$(sockets -u),$(sockets -t),$thr,$(metric rtcgate_calls_active),$(metric rtcgate_calls_total),$(metric rtcgate_config_reloads_total),$(metric rtcgate_config_reload_failures_total),$(metric rtcgate_wss_sip_malformed_total),$(metric rtcgate_sip_refused_source_total)" >> "$out/soak.csv"
}
sample
baseline=$(tail -1 "$out/soak.csv")

# Traffic: agents (JsSIP in Node), one Chromium page with media, hostile noise, Genesys calling the DNs.
node "$helper" agents "$wss_port" "$origin" "$run_s" answerers=6 callers=6 drop_s=30 > "$out/agents.log" 2>&1 &
agents_pid=$!; pids+=($agents_pid)
node "$helper" noise "$wss_port" "$origin" "$run_s" sip_port="$sip_port" rtp_min=62000 rtp_max=62399 \
  ice_min=62400 ice_max=62999 > "$out/noise.log" 2>&1 &
noise_pid=$!; pids+=($noise_pid)
media_pid=
if [[ $media == 1 ]]; then
  node "$helper" browser "$wss_port" "http://127.0.0.1:$http_port" "$run_s" http_port="$http_port" every_s=30 \
    > "$out/browser.log" 2>&1 &
  media_pid=$!; pids+=($media_pid)
fi
sleep 5  # the answering agents register first
printf '%s\n' 3001 3002 3003 3004 3005 3006 | sed '1i SEQUENTIAL' > "$tmp/dns.csv"
(cd "$tmp" && exec sipp "127.0.0.1:$sip_port" -sf "$root/tests/soak/soak-uac-call-dn.xml" -inf dns.csv \
  -i 127.0.0.1 -p "$uac_port" -mi 127.0.0.1 -mp "$uac_mp" -r "$call_rate" -l 20 -bind_local -nostdin \
  -trace_stat -stf uac-stat.csv -fd 10 > "$out/sipp-uac.log" 2>&1) &
uac_pid=$!; pids+=($uac_pid)

# Reloads every reload_s seconds: valid a/b alternating, every fifth one invalid (must be refused).
reloads_sent=0; invalid_sent=0; died=0; freezes=0; frozen_until=0
next_reload=$((t0 + reload_s)); next_sample=$((t0 + 10)); next_freeze=$((t0 + freeze_s)); end=$((t0 + run_s))
while (( $(date +%s) < end )); do
  now=$(date +%s)
  if (( now >= next_reload )); then
    reloads_sent=$((reloads_sent + 1))
    if (( reloads_sent % 5 == 0 )); then
      invalid_sent=$((invalid_sent + 1)); cp "$tmp/bad$((invalid_sent % 2 + 1)).yaml" "$tmp/rtcgate.yaml"
    else
      cp "$tmp/$( ((reloads_sent % 2)) && echo b || echo a).yaml" "$tmp/rtcgate.yaml"
    fi
    kill -HUP "$gw"; next_reload=$((now + reload_s))
  fi
  if (( frozen_until && now >= frozen_until )); then kill -CONT "$uas_pid"; frozen_until=0; fi
  if (( now >= next_freeze && now + 30 < end )); then
    kill -STOP "$uas_pid"; frozen_until=$((now + 4)); freezes=$((freezes + 1)); next_freeze=$((now + freeze_s))
  fi
  if (( now >= next_sample )); then sample || { died=1; break; }; next_sample=$((now + 10)); fi
  sleep 1
done

(( frozen_until )) && kill -CONT "$uas_pid"
# Wind down: Genesys stops placing calls (SIGUSR1: no new calls, the current ones finish), the agents hang up and
# unregister, then wait for every call to end and every connection to close before the final sample.
kill -USR1 "$uac_pid" 2>/dev/null || true
for p in "$agents_pid" "$noise_pid" $media_pid; do kill -USR2 "$p" 2>/dev/null || true; done
for _ in $(seq 60); do kill -0 "$uac_pid" 2>/dev/null || break; sleep 1; done
for p in "$agents_pid" "$noise_pid" $media_pid; do for _ in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 1; done; done
kill -USR2 "$impair_pid" 2>/dev/null || true
for _ in $(seq 10); do kill -0 "$impair_pid" 2>/dev/null || break; sleep 1; done
settled=0
for _ in $(seq 60); do
  (( died )) && break
  sample || { died=1; break; }
  IFS=, read -r _ _ fds udp tcp _ active _ <<< "$(tail -1 "$out/soak.csv")"
  IFS=, read -r _ _ bfds budp btcp _ <<< "$baseline"
  if [[ $active == 0 && $fds == "$bfds" && $udp == "$budp" && $tcp == "$btcp" ]]; then settled=1; break; fi
  sleep 2
done
final=$(tail -1 "$out/soak.csv")
kill -TERM "$gw" 2>/dev/null || true
gw_exit=0; wait "$gw" || gw_exit=$?

# Report.
summary() { grep -oP '^SUMMARY \K.*' "$1" 2>/dev/null | tail -1 || echo '{}'; }
sipp_stat() {  # sipp_stat <file> <column>: the last value of a cumulative column of SIPp's -trace_stat CSV
  [[ -f $1 ]] || { echo 0; return; }
  awk -F';' -v col="$2" 'NR==1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next } { v = $c } END { print v + 0 }' "$1"
}
refused_by_reconnect=0; [[ -f $tmp/refused.log ]] && refused_by_reconnect=$(wc -l < "$tmp/refused.log")
status=0
node - "$out/soak.csv" "$warmup_s" "$rss_bound_kb" "$baseline" "$final" "$settled" "$died" "$gw_exit" \
  "$reloads_sent" "$invalid_sent" "$(summary "$out/agents.log")" "$(summary "$out/browser.log")" \
  "$(summary "$out/noise.log")|$(summary "$out/impair.log")" "$(sipp_stat "$tmp/uac-stat.csv" 'TotalCallCreated')" \
  "$(sipp_stat "$tmp/uac-stat.csv" 'SuccessfulCall(C)')" "$(sipp_stat "$tmp/uac-stat.csv" 'FailedCall(C)')" \
  "$refused_by_reconnect" "$minutes" "$(grep -c 'SIP stack did not finish shutting down' "$out/rtcgate.log" || true)" "$freezes" > "$out/soak-report.txt" <<'EOF' || status=$?
const [csv, warmup, bound, baseline, final, settled, died, gwExit, reloadsSent, invalidSent, agentsJ, browserJ,
  noiseJ, uacCreated, uacOk, uacFailed, uacRefused, minutes, sipLeak, freezes] = process.argv.slice(2);
const rows = require('fs').readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const col = { t: 0, rss: 1, fds: 2, udp: 3, tcp: 4, thr: 5, active: 6, calls: 7, reloads: 8, refused: 9 };
const b = baseline.split(',').map(Number), f = final.split(',').map(Number);
const warm = rows.filter((r) => r[col.t] >= Number(warmup) && r[col.active] !== undefined);
const during = warm.length ? warm : rows;
// Least-squares slope of RSS over time after warm-up, in KiB per hour.
const n = during.length, mt = during.reduce((s, r) => s + r[0], 0) / n, mr = during.reduce((s, r) => s + r[1], 0) / n;
const slope = during.reduce((s, r) => s + (r[0] - mt) * (r[1] - mr), 0) / (during.reduce((s, r) => s + (r[0] - mt) ** 2, 0) || 1) * 3600;
const rssGrowth = during[n - 1][col.rss] - during[0][col.rss];
const fdsAll = rows.map((r) => r[col.fds]);
const a = JSON.parse(agentsJ), br = JSON.parse(browserJ), [no, im] = noiseJ.split('|').map((j) => JSON.parse(j));
const z = (v) => v || 0;
const fails = [];
if (died === '1') fails.push('the daemon died');
if (gwExit !== '0') fails.push(`the daemon exited ${gwExit} on SIGTERM`);
if (settled !== '1') fails.push('FDs, sockets or active calls did not return to the baseline');
if (rssGrowth > Number(bound)) fails.push(`RSS grew ${rssGrowth} KiB after warm-up (bound ${bound})`);
if (z(f[col.reloads]) !== Number(reloadsSent) - Number(invalidSent)) fails.push('reloads applied != valid reloads sent');
if (z(f[col.refused]) !== Number(invalidSent)) fails.push('reloads refused != invalid reloads sent');
if (z(br.media_failed) || (br.error)) fails.push('a real-media call failed');
const out = [
  `rtcgate soak: ${minutes} min, ${rows.length} samples every 10 s, warm-up ${warmup} s`,
  `calls (Genesys -> agent, SIPp UAC): created ${uacCreated}, successful ${uacOk} (of which refused 480/486/503 while the agent's WebSocket reconnected: ${uacRefused}), failed ${uacFailed}`,
  `calls (agent -> Genesys, JsSIP): attempted ${z(a.outbound_attempted)}, completed ${z(a.outbound_completed)}, failed ${z(a.outbound_failed)}, ended abnormally ${z(a.outbound_ended_abnormally)}`,
  `calls answered by agents: ${z(a.inbound_attempted)}, completed ${z(a.inbound_completed)}, failed ${z(a.inbound_failed)}, ended abnormally ${z(a.inbound_ended_abnormally)}`,
  `real-media calls (Chromium): attempted ${z(br.media_attempted)}, completed ${z(br.media_completed)}, failed ${z(br.media_failed)}, RTP packets in/out ${z(br.media_packets_in)}/${z(br.media_packets_out)}${br.error ? ', error ' + br.error : ''}`,
  `calls admitted by rtcgate (rtcgate_calls_total): ${f[col.calls]}`,
  `registrations: REGISTER 200s ${z(a.register_200) + 0}, failed ${z(a.registration_failed)}`,
  `WebSocket drops: ${z(a.drops_mid_call)} mid-call, ${z(a.drops_idle)} idle; calls that survived a drop ${z(a.drops_survived)}, lost ${z(a.drops_lost)}; Genesys frozen 4 s: ${freezes} times`,
  `Genesys media relay: ${z(im.impair_forwarded)} packets forwarded, ${z(im.impair_dropped)} dropped`,
  `reloads: sent ${reloadsSent} (${invalidSent} invalid); applied ${f[col.reloads]}, refused ${f[col.refused]}`,
  `hostile noise: ${z(no.sip_foreign_sent)} foreign SIP datagrams, ${z(no.junk_datagrams_sent)} junk RTP/ICE datagrams, ${z(no.ws_garbage_sent)} non-SIP WebSockets`,
  `RSS: baseline ${b[col.rss]} KiB, after warm-up ${during[0][col.rss]} KiB, last under load ${during[n - 1][col.rss]} KiB, growth ${rssGrowth} KiB (bound ${bound}), slope ${Math.round(slope)} KiB/h, max ${Math.max(...rows.map((r) => r[col.rss]))} KiB, final ${f[col.rss]} KiB`,
  `FDs: baseline ${b[col.fds]}, min ${Math.min(...fdsAll)}, max ${Math.max(...fdsAll)}, final ${f[col.fds]}`,
  `bound sockets UDP/TCP: baseline ${b[col.udp]}/${b[col.tcp]}, max ${Math.max(...rows.map((r) => r[col.udp]))}/${Math.max(...rows.map((r) => r[col.tcp]))}, final ${f[col.udp]}/${f[col.tcp]}`,
  `threads: baseline ${b[col.thr]}, final ${f[col.thr]}; active calls at the end ${f[col.active]}`,
  `daemon restarts: ${died === '1' ? 'the daemon died' : 0}; exit on SIGTERM: ${gwExit}`,
  ...(sipLeak !== '0' ? ['WARNING: at SIGTERM the SIP stack did not shut down in time (rtcgate.log)'] : []),
  fails.length ? `RESULT: FAIL (${fails.join('; ')})` : 'RESULT: PASS',
];
console.log(out.join('\n'));
process.exitCode = fails.length ? 1 : 0;
EOF
cat "$out/soak-report.txt"
exit "$status"

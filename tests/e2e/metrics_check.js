// SPDX-License-Identifier: Apache-2.0
// After one answered call: what the daemon's /metrics must say about it (issue 13), and `promtool check metrics`
// on the whole text when promtool is installed (scripts/setup.sh takes it out of Debian's prometheus package).
const { spawnSync } = require('child_process');

// Prometheus text -> { series: Map('name{labels}' -> number), problems: [duplicated series / HELP / TYPE] }.
function parseMetrics(text) {
  const series = new Map();
  const problems = [];
  const seenMeta = new Set();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const meta = line.match(/^# (HELP|TYPE) (\S+)/);
    if (meta) {
      const key = `${meta[1]} ${meta[2]}`;
      if (seenMeta.has(key)) problems.push(`${key} twice`);
      seenMeta.add(key);
      continue;
    }
    const m = line.match(/^(\S+?(?:\{.*\})?) (\S+)$/);
    if (!m) { problems.push(`unparsable: ${line}`); continue; }
    if (series.has(m[1])) problems.push(`series twice: ${m[1]}`);
    series.set(m[1], Number(m[2]));
  }
  return { series, problems };
}

async function scrape(adminUrl) {
  return (await fetch(`${adminUrl}metrics`)).text();
}

// `check(name, ok, detail)` records a result. The call has ended at the SIP level; its metrics land once the
// session closed and its media worker summarised it, so the scrape is repeated until they are there (bounded).
async function checkCallMetrics(adminUrl, { direction, transcoded }, check) {
  const other = direction === 'inbound' ? 'outbound' : 'inbound';
  let text = '';
  let m = new Map();
  const until = Date.now() + 10000;
  for (;;) {
    text = await scrape(adminUrl);
    ({ series: m } = parseMetrics(text));
    const done = m.get('rtcgate_calls_active') === 0 && m.get('rtcgate_call_mos_count{leg="genesys"}') >= 1 &&
      m.get('rtcgate_call_mos_count{leg="browser"}') >= 1;
    if (done || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const { problems } = parseMetrics(text);
  check('/metrics: no duplicated series, HELP or TYPE', problems.length === 0, problems.join('; '));
  check(`/metrics: call setup histogram counted 1 ${direction} call`,
    m.get(`rtcgate_call_setup_seconds_count{direction="${direction}"}`) === 1,
    m.get(`rtcgate_call_setup_seconds_count{direction="${direction}"}`));
  check(`/metrics: and 0 ${other} calls (the series is there at 0)`,
    m.get(`rtcgate_call_setup_seconds_count{direction="${other}"}`) === 0,
    m.get(`rtcgate_call_setup_seconds_count{direction="${other}"}`));
  check('/metrics: setup histogram +Inf bucket equals its count',
    m.get(`rtcgate_call_setup_seconds_bucket{direction="${direction}",le="+Inf"}`) === 1);
  check('/metrics: one call ended completed with cause 200',
    m.get('rtcgate_calls_ended_total{outcome="completed",cause="200"}') === 1,
    [...m].filter(([k]) => k.startsWith('rtcgate_calls_ended_total')).map(([k, v]) => `${k}=${v}`).join(' '));
  check('/metrics: one ICE connect and one DTLS handshake timed',
    m.get('rtcgate_ice_connect_seconds_count') === 1 && m.get('rtcgate_dtls_handshake_seconds_count') === 1,
    `${m.get('rtcgate_ice_connect_seconds_count')} / ${m.get('rtcgate_dtls_handshake_seconds_count')}`);
  const failures = [...m].filter(([k, v]) => /^rtcgate_(ice|dtls)_failures_total\{/.test(k) && v !== 0);
  check('/metrics: ICE/DTLS failure series present, all 0',
    m.has('rtcgate_ice_failures_total{reason="connect_timeout"}') && m.has('rtcgate_dtls_failures_total{reason="timeout"}') &&
    failures.length === 0, failures.map(([k, v]) => `${k}=${v}`).join(' '));
  for (const leg of ['browser', 'genesys']) {
    const mos = m.get(`rtcgate_call_mos_sum{leg="${leg}"}`);
    check(`/metrics: per-call quality of the ${leg} leg observed once (loss, jitter, MOS ${mos})`,
      m.get(`rtcgate_call_loss_ratio_count{leg="${leg}"}`) === 1 && m.get(`rtcgate_call_jitter_seconds_count{leg="${leg}"}`) === 1 &&
      m.get(`rtcgate_call_mos_count{leg="${leg}"}`) === 1 && mos >= 1 && mos <= 4.5);
  }
  const encodes = m.get('rtcgate_transcode_frame_seconds_count{op="encode",codec="opus"}');
  const decodes = m.get('rtcgate_transcode_frame_seconds_count{op="decode",codec="opus"}');
  if (transcoded) {
    // 20 ms frames: at least the >= 50 packets each way the call checks saw.
    check('/metrics: transcoding timed per frame (Opus encode and decode >= 50)', encodes >= 50 && decodes >= 50,
      `${encodes} / ${decodes}`);
  } else {
    check('/metrics: no transcoding timed on a passthrough call', encodes === undefined && decodes === undefined,
      `${encodes} / ${decodes}`);
  }
  check('/metrics: rtcgate_build_info names version and commit',
    [...m].some(([k, v]) => /^rtcgate_build_info\{version="[^"]+",commit="[^"]+",build_type="[^"]*"\}$/.test(k) && v === 1));

  const mean = (name, labels = '') => {
    const n = m.get(`${name}_count${labels}`);
    return n ? m.get(`${name}_sum${labels}`) / n : NaN;
  };
  const ms = (v) => (v * 1000).toFixed(3);
  console.log(`FIGURES metrics: setup ${ms(mean('rtcgate_call_setup_seconds', `{direction="${direction}"}`))} ms, ` +
    `ICE connect ${ms(mean('rtcgate_ice_connect_seconds'))} ms, DTLS handshake ${ms(mean('rtcgate_dtls_handshake_seconds'))} ms` +
    (transcoded ? `, Opus encode ${(mean('rtcgate_transcode_frame_seconds', '{op="encode",codec="opus"}') * 1e6).toFixed(1)} us/frame, ` +
      `Opus decode ${(mean('rtcgate_transcode_frame_seconds', '{op="decode",codec="opus"}') * 1e6).toFixed(1)} us/packet, ` +
      `PCMU encode ${(mean('rtcgate_transcode_frame_seconds', '{op="encode",codec="pcmu"}') * 1e6).toFixed(2)} us/frame` : ''));

  const promtool = spawnSync(process.env.PROMTOOL || 'promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (promtool.error && promtool.error.code === 'ENOENT') {
    console.log('SKIP promtool check metrics: promtool is not installed (scripts/setup.sh installs it)');
  } else {
    check('promtool check metrics accepts /metrics', promtool.status === 0,
      `exit ${promtool.status} ${(promtool.stdout + promtool.stderr).trim().slice(0, 2000)}`);
  }
}

module.exports = { checkCallMetrics, parseMetrics };

// SPDX-License-Identifier: Apache-2.0
// Issue 12, the browser half of call setup: headless Chromium with rtcgate-client.js (client/, bundled with stock
// JsSIP by esbuild) gets its ICE servers from rtcgate's GET /rtcgate/ice-servers, which lists a STUN server that never
// answers (a UDP socket of this script's that reads and drops). Without a cap Chromium gathers for ~40 s and JsSIP
// waits for it (issue 12: 40.3-40.7 s from call()). Asserted: the page fetched exactly the configured ICE servers,
// the module's gathering cap fired (its "gathering" event, reason "timeout"), the call to Genesys (SIPp) was
// confirmed and ICE connected. The setup time (call() to confirmed) is measured, not asserted: it goes to
// <bench dir>/browser_setup.txt.
// relay mode: the page is relay-only (iceTransportPolicy 'relay') and the ICE servers are a real coturn
// (use-auth-secret) with the TURN REST credentials rtcgate hands out: Chromium must allocate with them, the cap must
// fire at the first relay candidate (reason "relay"), and the call's selected pair must be the browser's relay.
// relay-unreachable mode: relay-only, and the TURN server never answers: no candidate at all, hence no ready() from
// JsSIP; the cap must still fire (reason "timeout", no candidates) and the INVITE go out (the call is confirmed; its
// media cannot work, which is not asserted).
// Usage: node client_gathering_e2e.js <rtcgate binary> <bench dir> [unreachable-stun|relay|relay-unreachable]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const dgram = require('dgram');
const { launchBrowser, serveFiles, CALL_CONFIRMED } = require(path.join(__dirname, '../js/lib/browser'));
const { startProcess, waitFor } = require(path.join(__dirname, '../js/lib/process'));
const { freeUdpPort } = require(path.join(__dirname, '../js/lib/ports'));
const { loopbackGatewayConfig } = require(path.join(__dirname, '../js/lib/gateway_config'));

const ROOT = path.join(__dirname, '../..');
const [binary, benchDir, mode = 'unreachable-stun'] = process.argv.slice(2);
const MODES = ['unreachable-stun', 'relay', 'relay-unreachable'];
if (!binary || !benchDir || !MODES.includes(mode)) {
  console.error(`usage: node client_gathering_e2e.js <rtcgate binary> <bench dir> [${MODES.join('|')}]`);
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-client-e2e-'));
const children = [];
const sockets = [];
const checks = [];
const check = (name, ok, detail) => {
  checks.push(ok);
  console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${detail !== undefined ? ` (${detail})` : ''}`);
};
// relay: long enough that only the relay candidate, not the timeout, can end the gathering.
const GATHERING_TIMEOUT_MS = mode === 'relay' ? 10000 : 1000;
const TURN_SECRET = 'rtcgate-e2e-turn-secret';

// STUN Binding request (RFC 5389) until coturn answers; bounded.
async function stunAnswers(port, ms) {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  let answered = false;
  s.on('message', (m) => { if (m.length >= 20 && m[0] === 0x01 && m[1] === 0x01) answered = true; });
  const req = Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const until = Date.now() + ms;
  while (!answered && Date.now() < until) {
    s.send(req, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  s.close();
  return answered;
}

function udpSocket() {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    sockets.push(s);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

const PAGE = `<!doctype html><title>rtcgate-client e2e</title>
<script type="module">
import { RtcgateClient } from './rtcgate-client.js';
window.RtcgateClient = RtcgateClient;
window.moduleLoaded = true;
</script>`;

async function main() {
  require(path.join(ROOT, 'tests/js/node_modules/esbuild')).buildSync({
    entryPoints: [path.join(ROOT, 'client/rtcgate-client.js')], nodePaths: [path.join(ROOT, 'tests/js/node_modules')],
    bundle: true, outfile: path.join(tmp, 'rtcgate-client.js'), format: 'esm', logLevel: 'error',
  });
  const site = await serveFiles({ 'index.html': PAGE,
    'rtcgate-client.js': fs.readFileSync(path.join(tmp, 'rtcgate-client.js'), 'utf8') });
  const origin = site.url.replace(/\/$/, '');
  // The STUN server that never answers: a bound socket that drops what it reads (a closed port would draw ICMP).
  const silentStun = await udpSocket();
  let stunRequests = 0;
  silentStun.on('message', () => { stunRequests++; });
  const genesysRtp = await udpSocket();
  const rtpPortMin = 30000 + 2 * Math.floor(Math.random() * 1200);  // RTP +0..99, ICE +100..199, coturn +200..299
  const sippPort = await freeUdpPort();
  let iceUrl = `stun:127.0.0.1:${silentStun.address().port}`;
  let turnSecretLine = '';
  if (mode === 'relay') {
    const turnPort = await freeUdpPort();
    children.push(startProcess('turnserver', 'turnserver', ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1',
      `--listening-port=${turnPort}`, '--use-auth-secret', `--static-auth-secret=${TURN_SECRET}`, '--realm=rtcgate.test',
      '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers', `--min-port=${rtpPortMin + 200}`,
      `--max-port=${rtpPortMin + 299}`, '--log-file=stdout', '--simple-log']));
    if (!(await stunAnswers(turnPort, 5000))) throw new Error('coturn did not answer STUN');
    iceUrl = `turn:127.0.0.1:${turnPort}?transport=udp`;
    turnSecretLine = `, turn_shared_secret: ${TURN_SECRET}`;
  } else if (mode === 'relay-unreachable') {
    iceUrl = `turn:127.0.0.1:${silentStun.address().port}?transport=udp`;
    turnSecretLine = `, turn_shared_secret: ${TURN_SECRET}`;
  }
  const cfg = path.join(tmp, 'rtcgate.yaml');
  fs.writeFileSync(cfg, loopbackGatewayConfig({ sippPort, rtpPortMin, security: `, allowed_origins: ["${origin}"]`,
    extra: `browser: {ice_servers: ["${iceUrl}"], gathering_timeout_ms: ${GATHERING_TIMEOUT_MS}${turnSecretLine}}
` }));
  const sipp = startProcess('sipp', 'sipp', ['-sf', path.join(__dirname, 'scenarios/uas-answer-external-media.xml'),
    '-i', '127.0.0.1', '-p', String(sippPort), '-key', 'rtpport', String(genesysRtp.address().port),
    '-timeout', '30s', '-timeout_error', '-nostdin', '-bind_local'], { cwd: tmp });
  children.push(sipp);
  const gw = startProcess('rtcgate', binary, ['--config', cfg]);
  children.push(gw);
  const wssPort = await waitFor(() => (gw.out.match(/WSS listening on wss:\/\/127\.0\.0\.1:(\d+)/) || [])[1], 15000, 'rtcgate WSS');
  await waitFor(() => /ready: SIP toward Genesys/.test(gw.out), 15000, 'rtcgate ready');

  const browser = await launchBrowser({ toneHz: 440 });
  try {
    const page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.log('page:', m.text()); });
    await page.goto(site.url);
    await page.waitForFunction(() => window.moduleLoaded === true, null, { timeout: 10000 });
    await page.addScriptTag({ content: CALL_CONFIRMED });
    const r = await page.evaluate(async ([gateway, iceTransportPolicy, waitIce]) => {
      const client = new window.RtcgateClient({ gateway, user: '1001', password: 'demo-1001', iceTransportPolicy });
      window.client = client;
      const out = { gathering: [], logs: [] };
      client.addEventListener('gathering', (e) => out.gathering.push(e.detail));
      client.addEventListener('log', (e) => out.logs.push(e.detail.message));
      const registered = new Promise((resolve, reject) => {
        client.addEventListener('registered', resolve);
        client.addEventListener('registrationFailed', (e) => reject(new Error('registration failed: ' + e.detail.cause)));
      });
      await client.start();
      out.iceServers = client.ice.iceServers;
      out.ttl = client.ice.ttl;
      out.gatheringTimeoutMs = client.ice.gatheringTimeoutMs;
      await registered;
      const { session, setupMs } = await window.__rtcgateCall(client, '5000');
      out.setupMs = setupMs;
      const pc = session.connection;
      const until = performance.now() + (waitIce ? 8000 : 0);
      while (!['connected', 'completed'].includes(pc.iceConnectionState) && performance.now() < until) {
        await new Promise((res) => setTimeout(res, 50));
      }
      out.ice = pc.iceConnectionState;
      const stats = await pc.getStats();
      stats.forEach((v) => {
        if (v.type === 'candidate-pair' && v.nominated && v.state === 'succeeded') {
          const local = stats.get(v.localCandidateId);
          out.localType = local ? local.candidateType : '';
        }
      });
      session.terminate();
      return out;
    }, [`wss://127.0.0.1:${wssPort}`, mode.startsWith('relay') ? 'relay' : 'all', mode !== 'relay-unreachable']);
    console.log(r.logs.join('\n'));
    if (mode === 'relay') {
      const turn = r.iceServers[0] || {};
      check('the page got the TURN server from rtcgate with REST credentials for agent 1001',
        r.iceServers.length === 1 && JSON.stringify(turn.urls) === JSON.stringify([iceUrl]) &&
        /^\d+:1001$/.test(turn.username || '') && !!turn.credential, JSON.stringify(r.iceServers));
      check('the module capped the gathering at the first relay candidate (gathering event, reason relay)',
        r.gathering.length >= 1 && r.gathering[0].reason === 'relay' && r.gathering[0].candidates.join() === 'relay',
        JSON.stringify(r.gathering));
      check('the call\'s media goes through the browser\'s relay (coturn took the credentials)', r.localType === 'relay',
        r.localType);
    } else if (mode === 'relay-unreachable') {
      check('the module capped a gathering that found no candidate at all (reason timeout, no candidates)',
        r.gathering.length >= 1 && r.gathering[0].reason === 'timeout' && r.gathering[0].candidates.length === 0,
        JSON.stringify(r.gathering));
      check('the silent TURN server was asked (so the browser really waited on it)', stunRequests > 0, stunRequests);
    } else {
      check('the page got its ICE servers from rtcgate: exactly browser.ice_servers, no credentials for STUN',
        JSON.stringify(r.iceServers) === JSON.stringify([{ urls: [iceUrl] }]), JSON.stringify(r.iceServers));
      check('the module capped the gathering of the call\'s offer (gathering event, reason timeout)',
        r.gathering.length >= 1 && r.gathering[0].reason === 'timeout', JSON.stringify(r.gathering));
      check('the silent STUN server was asked (so the browser really waited on it)', stunRequests > 0, stunRequests);
    }
    check('and the gathering cap browser.gathering_timeout_ms', r.gatheringTimeoutMs === GATHERING_TIMEOUT_MS, r.gatheringTimeoutMs);
    if (mode !== 'relay-unreachable') {
      check('the call was confirmed and ICE connected', ['connected', 'completed'].includes(r.ice), r.ice);
    }
    const sippCode = await Promise.race([sipp.exited, new Promise((res) => setTimeout(() => res('timeout'), 10000))]);
    // 97: the scenario's stop_now after the BYE's 200 (SIPp's "exit on internal command"); a failure is 1 or -1.
    check('Genesys (SIPp) saw the call answered and ended by BYE', sippCode === 97, `sipp exit ${sippCode}`);
    await page.evaluate(() => window.client.stop());
    fs.mkdirSync(benchDir, { recursive: true });
    const what = {
      'unreachable-stun': 'unreachable STUN in the page\'s ICE servers',
      relay: 'relay-only page, coturn with rtcgate\'s TURN REST credentials',
      'relay-unreachable': 'relay-only page, unreachable TURN server (no candidates; media cannot work)',
    }[mode];
    const line = `${new Date().toISOString()} ${mode} browser_setup_ms=${r.setupMs} (call() to confirmed, Chromium + ` +
      `rtcgate-client.js, ${what}, gathering_timeout_ms=${GATHERING_TIMEOUT_MS}, cap: ` +
      `${r.gathering.map((g) => `${g.reason} after ${g.elapsedMs} ms`).join(', ')})\n`;
    fs.appendFileSync(path.join(benchDir, 'browser_setup.txt'), line);
    console.log(`measured: ${line.trim()}`);
  } finally {
    await browser.close();
  }
}

async function cleanup(code) {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => setTimeout(r, 5000))]);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const s of sockets) s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}

main().then(() => cleanup(checks.length > 0 && checks.every(Boolean) ? 0 : 1), (e) => {
  console.error(e);
  for (const c of children) console.error(`--- ${c.name}:\n${c.out.slice(-3000)}`);
  cleanup(1);
});

// SPDX-License-Identifier: Apache-2.0
// Issue 12, the browser half of call setup: headless Chromium with rtcgate-client.js (client/, bundled with stock
// JsSIP by esbuild) gets its ICE servers from rtcgate's GET /rtcgate/ice-servers, which lists a STUN server that never
// answers (a UDP socket of this script's that reads and drops). Without a cap Chromium gathers for ~40 s and JsSIP
// waits for it (issue 12: 40.3-40.7 s from call()). Asserted: the page fetched exactly the configured ICE servers,
// the module's gathering cap fired (its "gathering" event, reason "timeout"), the call to Genesys (SIPp) was
// confirmed and ICE connected. The setup time (call() to confirmed) is measured, not asserted: it goes to
// <bench dir>/browser_setup.txt.
// Usage: node client_gathering_e2e.js <rtcgate binary> <bench dir>
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const dgram = require('dgram');
const { launchBrowser, serveFiles } = require(path.join(__dirname, '../js/lib/browser'));
const { startProcess, waitFor } = require(path.join(__dirname, '../js/lib/process'));
const { freeUdpPort } = require(path.join(__dirname, '../js/lib/ports'));

const ROOT = path.join(__dirname, '../..');
const [binary, benchDir] = process.argv.slice(2);
if (!binary || !benchDir) {
  console.error('usage: node client_gathering_e2e.js <rtcgate binary> <bench dir>');
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
const GATHERING_TIMEOUT_MS = 1000;

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
  const sippPort = await freeUdpPort();
  const rtpPortMin = 30000 + 2 * Math.floor(Math.random() * 1300);
  const stunUrl = `stun:127.0.0.1:${silentStun.address().port}`;
  const cfg = path.join(tmp, 'rtcgate.yaml');
  fs.writeFileSync(cfg, `listeners:
  admin: {address: 127.0.0.1, port: 0}
  wss: [{address: 127.0.0.1, port: 0}]
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: ${sippPort}}]
agents: [{user: "1001", password: demo-1001, dn: "1001"}]
media: {workers: 1, rtp_address: 127.0.0.1, rtp_port_min: ${rtpPortMin}, rtp_port_max: ${rtpPortMin + 99}}
ice: {candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}
security: {allowed_origins: ["${origin}"]}
browser: {ice_servers: ["${stunUrl}"], gathering_timeout_ms: ${GATHERING_TIMEOUT_MS}}
`);
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
    const r = await page.evaluate(async (gateway) => {
      const client = new window.RtcgateClient({ gateway, user: '1001', password: 'demo-1001' });
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
      const t0 = performance.now();
      const session = await client.call('5000');
      await new Promise((resolve, reject) => {
        session.on('failed', (e) => reject(new Error('call failed: ' + e.cause)));
        session.on('confirmed', resolve);
      });
      out.setupMs = Math.round(performance.now() - t0);
      const pc = session.connection;
      const until = performance.now() + 8000;
      while (!['connected', 'completed'].includes(pc.iceConnectionState) && performance.now() < until) {
        await new Promise((res) => setTimeout(res, 50));
      }
      out.ice = pc.iceConnectionState;
      session.terminate();
      return out;
    }, `wss://127.0.0.1:${wssPort}`);
    console.log(r.logs.join('\n'));
    check('the page got its ICE servers from rtcgate: exactly browser.ice_servers, no credentials for STUN',
      JSON.stringify(r.iceServers) === JSON.stringify([{ urls: [stunUrl] }]), JSON.stringify(r.iceServers));
    check('and the gathering cap browser.gathering_timeout_ms', r.gatheringTimeoutMs === GATHERING_TIMEOUT_MS, r.gatheringTimeoutMs);
    const capped = r.gathering.filter((g) => g.reason === 'timeout');
    check('the module capped the gathering of the call\'s offer (gathering event, reason timeout)',
      r.gathering.length >= 1 && r.gathering[0].reason === 'timeout', JSON.stringify(r.gathering));
    check('the silent STUN server was asked (so the browser really waited on it)', stunRequests > 0, stunRequests);
    check('the call was confirmed and ICE connected', ['connected', 'completed'].includes(r.ice), r.ice);
    const sippCode = await Promise.race([sipp.exited, new Promise((res) => setTimeout(() => res('timeout'), 10000))]);
    // 97: the scenario's stop_now after the BYE's 200 (SIPp's "exit on internal command"); a failure is 1 or -1.
    check('Genesys (SIPp) saw the call answered and ended by BYE', sippCode === 97, `sipp exit ${sippCode}`);
    await page.evaluate(() => window.client.stop());
    fs.mkdirSync(benchDir, { recursive: true });
    const line = `${new Date().toISOString()} browser_setup_ms=${r.setupMs} (call() to confirmed, Chromium + rtcgate-client.js, ` +
      `unreachable STUN in the page's ICE servers, gathering_timeout_ms=${GATHERING_TIMEOUT_MS}, ` +
      `capped rounds=${capped.length}, cap fired after ${capped.map((g) => g.elapsedMs).join('/')} ms)\n`;
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

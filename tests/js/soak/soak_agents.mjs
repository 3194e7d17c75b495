// SPDX-License-Identifier: Apache-2.0
// The browser side of scripts/soak.sh: runs until SIGUSR2 (or `seconds`), then prints one "SUMMARY {json}" line.
// Usage: node soak_agents.mjs <agents|browser|noise|impair> <wss port> <origin> <seconds> [options as key=value]
// SIGUSR2 ends a run early and cleanly (SIGTERM is Playwright's: it closes the browser at once).
//   agents: stock JsSIP UAs (Node, media-less RTCPeerConnection stand-in as in ../signaling/sip_clients.mjs),
//     users 3001..: the first `answerers` answer every call Genesys places to their DN; the next `callers` call
//     5000 again and again (2-6 s calls, then a 1-3 s pause). Every `drop_s` seconds one agent's WebSocket is
//     destroyed (TCP gone, no close frame), preferably one with a call up: JsSIP reconnects and registers again,
//     and the call must survive (calls.browser_reconnect_grace_ms). register_expires 60: refreshes all the time.
//   browser: one headless Chromium page (tests/js/lib/browser.js) with JsSIP, user 4001: a real-media call to 5000
//     every `every_s` seconds; a call counts as completed when ICE+DTLS connected and >= 100 packets went each way.
//     call_ms (8000): how long each call stays up; calls: stop after that many.
//   impair: a UDP relay in front of Genesys's echoed media (the answering SIPp advertises `listen`; everything goes
//     on to `target` and back) that drops `loss` of the packets each way and delays each by 0..`jitter_ms` (so
//     reordering too): RTP loss and jitter where tc netem is not available. trace=FILE logs each RTP packet.
//   noise: a low rate of hostile input: malformed SIP datagrams to rtcgate's SIP port from a foreign loopback
//     address (127.0.0.66), junk datagrams to its RTP and ICE port ranges, and a WebSocket that sends non-SIP text.
import WS from 'ws';
import JsSIP from 'jssip';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { installFakePeerConnection } from '../lib/fake_peer_connection.mjs';

const [mode, portText, origin, secondsText, ...rest] = process.argv.slice(2);
const opts = Object.fromEntries(rest.map((kv) => kv.split('=')));
const url = `wss://127.0.0.1:${Number(portText)}`;
const until = Date.now() + Number(secondsText) * 1000;
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = (lo, hi) => lo + Math.random() * (hi - lo);
let stopping = false;
const stopSignal = new Promise((r) => process.once('SIGUSR2', r));
const stats = {};
const count = (key, n = 1) => { stats[key] = (stats[key] || 0) + n; };
const log = (...a) => console.log(new Date().toISOString(), ...a);

// Every WebSocket a JsSIP UA opens: the demo certificate is self-signed; count SIP answers to REGISTER.
globalThis.WebSocket = class extends WS {
  constructor(address, protocols) {
    super(address, protocols, { rejectUnauthorized: false, origin });
    this.on('message', (d) => {
      const m = /^SIP\/2\.0 (\d+)[^]*?\r\nCSeq: \d+ REGISTER/i.exec(String(d));
      if (m) count(m[1] === '200' ? 'register_200' : m[1] === '401' ? 'register_401' : `register_${m[1]}`);
    });
  }
};

const NO_MEDIA = { mediaConstraints: { audio: false, video: false } };

function agent(user) {
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(url)], uri: `sip:${user}@rtcgate.invalid`, password: `soak-${user}`,
    register: true, register_expires: 60, connection_recovery_min_interval: 1, connection_recovery_max_interval: 4,
  });
  ua.calls = new Set();
  ua.on('registrationFailed', (e) => { count('registration_failed'); log(user, 'registration failed', e.cause); });
  ua.start();
  return ua;
}

// Follows one call (either direction) to its end; `drop` marks calls whose WebSocket was destroyed mid-call.
function track(ua, session, kind) {
  count(`${kind}_attempted`);
  ua.calls.add(session);
  return new Promise((resolve) => {
    session.on('confirmed', () => { session.confirmedAt = Date.now(); count(`${kind}_confirmed`); });
    session.on('failed', (e) => {
      ua.calls.delete(session);
      count(`${kind}_failed`);
      count(`${kind}_failed_${String(e.cause).replace(/\W+/g, '_')}`);
      log(kind, 'failed', e.cause, e.message && e.message.status_code);
      resolve('failed');
    });
    session.on('ended', (e) => {
      ua.calls.delete(session);
      // A call must end by a hangup (ours or Genesys's BYE), never by rtcgate giving it up.
      const normal = e.cause === JsSIP.C.causes.BYE;
      count(normal ? `${kind}_completed` : `${kind}_ended_abnormally`);
      if (session.dropped) count(normal ? 'drops_survived' : 'drops_lost');
      if (!normal) log(kind, 'ended', e.originator, e.cause);
      resolve('ended');
    });
  });
}

async function agents() {
  installFakePeerConnection();
  const answerers = Number(opts.answerers || 6), callers = Number(opts.callers || 6);
  const uas = [];
  for (let i = 0; i < answerers + callers; ++i) uas.push(agent(String(3001 + i)));
  for (const ua of uas.slice(0, answerers)) {
    ua.on('newRTCSession', (e) => {
      if (e.originator !== 'remote') return;
      track(ua, e.session, 'inbound');
      if (stopping) e.session.terminate({ status_code: 480 }); else e.session.answer(NO_MEDIA);
    });
  }
  const callLoop = async (ua) => {
    await wait(rand(1000, 4000));
    while (!stopping && Date.now() < until) {
      if (!ua.isRegistered()) { await wait(500); continue; }
      const session = ua.call('sip:5000@rtcgate.invalid', NO_MEDIA);
      const done = track(ua, session, 'outbound');
      session.on('confirmed', () => setTimeout(() => { if (!session.isEnded()) session.terminate(); }, rand(2000, 6000)));
      await done;
      await wait(rand(1000, 3000));
    }
  };
  const loops = uas.slice(answerers).map(callLoop);
  const dropEvery = Number(opts.drop_s || 30) * 1000;
  const dropLoop = async () => {
    for (let k = 0; !stopping && Date.now() < until; ++k) {
      await wait(dropEvery);
      if (stopping) break;
      // Every other drop hits a call in progress (if there is one); the others hit an idle agent.
      const busy = uas.filter((ua) => [...ua.calls].some((s) => s.isEstablished()));
      const ua = k % 2 === 0 && busy.length ? busy[k % busy.length] : uas[k % uas.length];
      for (const s of ua.calls) if (s.isEstablished()) s.dropped = true;
      const ws = ua._transport && ua._transport.socket && ua._transport.socket._ws;
      if (ws) { ws.terminate(); count(busy.includes(ua) && k % 2 === 0 ? 'drops_mid_call' : 'drops_idle'); }
    }
  };
  const drops = dropLoop();
  await Promise.race([stopSignal, wait(Math.max(0, until - Date.now()))]);
  stopping = true;
  // Let every call end by itself (callers hang up within 6 s, Genesys within its hold time), then unregister.
  for (let i = 0; i < 300 && uas.some((ua) => ua.calls.size); ++i) await wait(100);
  for (const ua of uas) for (const s of ua.calls) { try { s.terminate(); } catch (e) { /* already ending */ } }
  await Promise.race([Promise.all([...loops, drops]), wait(8000)]);
  const unregistered = Promise.all(uas.map((ua) => new Promise((r) => {
    if (!ua.isRegistered()) return r();
    ua.once('unregistered', r); ua.once('registrationFailed', r); ua.unregister();
  })));
  await Promise.race([unregistered, wait(5000)]);
  for (const ua of uas) ua.stop();
  await wait(500);
}

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const PAGE = `<!doctype html><title>rtcgate soak agent</title><script src="jssip.js"></script><script>
window.register = (url) => new Promise((resolve, reject) => {
  window.ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(url)], uri: 'sip:4001@rtcgate.invalid',
    password: 'soak-4001', register_expires: 60 });
  window.ua.on('registered', () => resolve('registered'));
  window.ua.on('registrationFailed', (e) => reject(new Error('registration failed: ' + e.cause)));
  window.ua.start();
});
window.mediaCall = (target, holdMs) => new Promise((resolve) => {
  const session = window.ua.call(target, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  setTimeout(() => resolve({ outcome: 'timeout' }), holdMs + 20000);
  session.on('failed', (e) => resolve({ outcome: 'failed', cause: e.cause }));
  session.on('confirmed', async () => {
    await new Promise((r) => setTimeout(r, holdMs));
    const r = { outcome: 'confirmed', inbound: 0, outbound: 0, state: session.connection.connectionState };
    (await session.connection.getStats()).forEach((v) => {
      if (v.type === 'inbound-rtp' && v.kind === 'audio') Object.assign(r, { inbound: v.packetsReceived, lost: v.packetsLost, jitter_s: v.jitter });
      if (v.type === 'outbound-rtp' && v.kind === 'audio') r.outbound = v.packetsSent;
    });
    session.on('ended', (e) => resolve({ ...r, ended: e.cause }));
    session.terminate();
  });
});
</script>`;

async function browser() {
  const { launchBrowser, serveFiles } = require(path.join(here, '../lib/browser.js'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-soak-'));
  require(path.join(here, '../node_modules/esbuild')).buildSync({
    stdin: { contents: 'window.JsSIP = require("jssip");', resolveDir: path.join(here, '..') },
    bundle: true, outfile: path.join(tmp, 'jssip.js'), format: 'iife', logLevel: 'error',
  });
  const site = await serveFiles({ 'index.html': PAGE, 'jssip.js': fs.readFileSync(path.join(tmp, 'jssip.js'), 'utf8') }, Number(opts.http_port || 0));
  const b = await launchBrowser({ toneHz: 440 });
  let stop = false;
  stopSignal.then(() => { stop = true; });
  try {
    const page = await b.context.newPage();
    await page.goto(site.url);
    await page.evaluate((u) => window.register(u), url);
    while (!stop && Date.now() < until) {
      count('media_attempted');
      const r = await page.evaluate(([t, ms]) => window.mediaCall(t, ms), ['sip:5000@rtcgate.invalid', Number(opts.call_ms || 8000)]);
      const ok = r.outcome === 'confirmed' && r.state === 'connected' && r.inbound >= 100 && r.outbound >= 100;
      count(ok ? 'media_completed' : 'media_failed');
      count('media_packets_in', r.inbound || 0);
      count('media_packets_out', r.outbound || 0);
      log('media call', JSON.stringify(r));
      if (opts.calls && stats.media_attempted >= Number(opts.calls)) break;
      for (let i = 0; i < Number(opts.every_s || 30) && !stop && Date.now() < until; ++i) await wait(1000);
    }
    await page.evaluate(() => new Promise((r) => { window.ua.once('unregistered', r); window.ua.unregister(); setTimeout(r, 3000); }));
    await page.evaluate(() => window.ua.stop());
    await wait(500);
  } finally {
    await b.close();
    await site.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function noise() {
  const sipPort = Number(opts.sip_port);
  const ranges = [[Number(opts.rtp_min), Number(opts.rtp_max)], [Number(opts.ice_min), Number(opts.ice_max)]];
  const foreign = dgram.createSocket('udp4');
  await new Promise((r) => foreign.bind(0, '127.0.0.66', r));
  const junkRtp = dgram.createSocket('udp4');
  await new Promise((r) => junkRtp.bind(0, '127.0.0.1', r));
  const badSip = (n) => [
    `INVITE sip:3001@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.66;branch=z9hG4bKsoak${n}`,
    `From: <sip:x@evil.example>;tag=${n}`, 'To: <sip:3001@127.0.0.1>', `Call-ID: soak-noise-${n}`,
    n % 2 ? 'CSeq: banana INVITE' : 'CSeq: 1 INVITE', `Content-Length: ${n % 3 ? 9999 : 0}`, '', ''].join('\r\n');
  let stop = false;
  stopSignal.then(() => { stop = true; });
  for (let n = 0; !stop && Date.now() < until; ++n) {
    foreign.send(badSip(n), sipPort, '127.0.0.1'); count('sip_foreign_sent');
    for (const [lo, hi] of ranges) {
      const junk = Buffer.alloc(Math.floor(rand(1, 200)));
      for (let i = 0; i < junk.length; ++i) junk[i] = Math.floor(Math.random() * 256);
      if (n % 2) junk[0] = 0x80;  // looks like RTP at a first glance
      junkRtp.send(junk, Math.floor(rand(lo, hi + 1)), '127.0.0.1'); count('junk_datagrams_sent');
    }
    if (n % 10 === 0) {  // a WebSocket client that speaks no SIP
      const ws = new WS(url, 'sip', { rejectUnauthorized: false, origin });
      ws.on('open', () => { ws.send('HELLO \u0000\u0001 not sip\r\n\r\n'); setTimeout(() => ws.terminate(), 500); });
      ws.on('error', () => {});
      count('ws_garbage_sent');
    }
    await wait(1000);
  }
  foreign.close(); junkRtp.close();
}

async function impair() {
  const loss = Number(opts.loss || 0.02), jitter = Number(opts.jitter_ms || 30), target = Number(opts.target);
  const front = dgram.createSocket('udp4');
  await new Promise((r) => front.bind(Number(opts.listen), '127.0.0.1', r));
  const legs = new Map();  // rtcgate's address:port -> { sock, last }: one socket toward SIPp per media stream
  // trace=FILE: one line per RTP packet as it arrives, "<epoch ms> <to|back> <sequence number>" (to: from rtcgate
  // toward Genesys), for scripts/invite_flood_bench.sh to measure a live call's media.
  const trace = opts.trace ? fs.createWriteStream(opts.trace) : null;
  const traced = (dir, msg) => {
    if (trace && msg.length >= 12 && (msg[0] & 0xc0) === 0x80 && (msg[1] & 0x7f) < 64)
      trace.write(`${(performance.timeOrigin + performance.now()).toFixed(3)} ${dir} ${msg.readUInt16BE(2)}\n`);
  };
  const pass = (send) => {
    if (Math.random() < loss) { count('impair_dropped'); return; }
    count('impair_forwarded');
    setTimeout(send, Math.random() * jitter);
  };
  front.on('message', (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let leg = legs.get(key);
    if (!leg) {
      leg = { sock: dgram.createSocket('udp4'), last: 0 };
      leg.sock.bind(0, '127.0.0.1');
      leg.sock.on('message', (back) => { traced('back', back); pass(() => front.send(back, from.port, from.address)); });
      legs.set(key, leg);
    }
    leg.last = Date.now();
    traced('to', msg);
    pass(() => leg.sock.send(msg, target, '127.0.0.1'));
  });
  let stop = false;
  stopSignal.then(() => { stop = true; });
  while (!stop && Date.now() < until) {
    await wait(1000);
    for (const [key, leg] of legs) if (Date.now() - leg.last > 20000) { leg.sock.close(); legs.delete(key); }
  }
  for (const leg of legs.values()) leg.sock.close();
  front.close();
  if (trace) await new Promise((r) => trace.end(r));
}

const modes = { agents, browser, noise, impair };
if (!modes[mode]) { console.error('usage: node soak_agents.mjs <agents|browser|noise|impair> <wss port> <origin> <seconds> [k=v...]'); process.exit(2); }
modes[mode]().then(() => { console.log('SUMMARY ' + JSON.stringify(stats)); process.exit(0); },
  (e) => { console.log('SUMMARY ' + JSON.stringify({ ...stats, error: String(e) })); console.error(e); process.exit(1); });

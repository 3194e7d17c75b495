// SPDX-License-Identifier: Apache-2.0
// Launches Debian's headless Chromium through playwright-core with a fake microphone playing a tone, and gives
// pages a WebAudio tone detector. Every launch gets a fresh profile directory, removed on close.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { writeToneWav } = require('./wav');

const CHROMIUM = process.env.RTCGATE_CHROMIUM || '/usr/bin/chromium';

// reachable: IP literals the page must reach besides 127.0.0.1 (the network lab's hosts); everything else stays
// unresolvable. executable: a wrapper that starts Chromium elsewhere (the network lab: inside a namespace).
async function launchBrowser({ toneHz = 440, reachable = [], executable = CHROMIUM } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-chromium-'));
  const wav = path.join(dir, `tone-${toneHz}.wav`);
  writeToneWav(wav, { freqHz: toneHz });
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`, '--ignore-certificate-errors',
    '--autoplay-policy=no-user-gesture-required',
    `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1${reachable.map((a) => `, EXCLUDE ${a}`).join('')}`,
  ];
  // launchPersistentContext owns the profile directory we made, so nothing lands in $HOME.
  const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: executable, headless: true, args, ignoreHTTPSErrors: true,
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { context, close, wav };
}

// Injected into pages: window.__rtcgateTone.detect(stream, ms) resolves to the dominant frequency (Hz) and level
// of `stream` over `ms` milliseconds. Remote WebRTC tracks only feed WebAudio in Chrome once an element plays them,
// hence the muted <audio>.
const TONE_DETECTOR = `
window.__rtcgateTone = {
  async detect(stream, ms) {
    const el = new Audio(); el.muted = true; el.srcObject = stream; await el.play().catch(() => {});
    const ctx = new AudioContext();
    await ctx.resume();
    const src = ctx.createMediaStreamSource(stream);
    const an = ctx.createAnalyser(); an.fftSize = 8192; an.smoothingTimeConstant = 0;
    src.connect(an);
    const bins = new Float32Array(an.frequencyBinCount);
    const votes = new Map(); let maxDb = -Infinity;
    const until = performance.now() + ms;
    while (performance.now() < until) {
      await new Promise(r => setTimeout(r, 100));
      an.getFloatFrequencyData(bins);
      let best = 0;
      for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
      if (bins[best] > -70) {
        const hz = Math.round(best * ctx.sampleRate / an.fftSize / 10) * 10;
        votes.set(hz, (votes.get(hz) || 0) + 1);
      }
      maxDb = Math.max(maxDb, bins[best]);
    }
    src.disconnect(); await ctx.close(); el.srcObject = null;
    let hz = 0, n = 0;
    for (const [f, c] of votes) if (c > n) { hz = f; n = c; }
    return { hz, maxDb, frames: n };
  },
};`;

// getUserMedia needs a secure context: http://127.0.0.1 qualifies, about:blank does not. Serves `files`
// (name → content) on 127.0.0.1 at `port` (0: ephemeral); resolves to { url, close }.
function serveFiles(files, port = 0) {
  const http = require('http');
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\//, '') || 'index.html';
    if (!Object.prototype.hasOwnProperty.call(files, name)) { res.writeHead(404); res.end(); return; }
    const type = name.endsWith('.js') ? 'text/javascript' : 'text/html';
    res.writeHead(200, { 'content-type': type }); res.end(files[name]);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise(r => server.close(r)),
  })));
}

// Injected into pages with rtcgate-client.js: window.__rtcgateCall(client, target) places a call and resolves to
// { session, setupMs } once it is confirmed (setupMs: call() to confirmed), rejects when it fails.
const CALL_CONFIRMED = `
window.__rtcgateCall = async (client, target) => {
  const t0 = performance.now();
  const session = await client.call(target);
  await new Promise((resolve, reject) => {
    session.on('failed', (e) => reject(new Error('call failed: ' + e.cause)));
    session.on('confirmed', resolve);
  });
  return { session, setupMs: Math.round(performance.now() - t0) };
};`;

module.exports = { launchBrowser, serveFiles, TONE_DETECTOR, CALL_CONFIRMED };

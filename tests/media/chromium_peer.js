// SPDX-License-Identifier: Apache-2.0
// A real headless Chromium RTCPeerConnection for rtcgate's media interop tests. Talks lines (SDP in base64, so the
// C++ side needs no JSON parser):
// stdout: "ready", "offer <b64>", "answer <b64>", "stats state=<s> inbound=<n> outbound=<n> pair=<type>",
//         "error <text>"
// stdin:  "answer <b64>", "offer <b64>", "quit"
// Usage: node chromium_peer.js <mode: offer|answer> <tmpdir> [iceServersJson] [iceTransportPolicy]
'use strict';
const path = require('path');
const fs = require('fs');
const http = require('http');
const readline = require('readline');
const { chromium } = require(path.join(__dirname, '../js/node_modules/playwright-core'));

const [mode, tmpDir, iceServersJson, policy] = process.argv.slice(2);
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s) => Buffer.from(s, 'base64').toString('utf8');
const out = (o) => {
  let line = o.type;
  if (o.sdp !== undefined) line += ' ' + b64(o.sdp);
  if (o.message !== undefined) line += ' ' + String(o.message).replace(/\n/g, ' | ');
  if (o.type === 'stats')
    line += ` state=${o.connectionState} inbound=${o.inboundPackets} outbound=${o.outboundPackets} pair=${o.pairType || '-'}`;
  process.stdout.write(line + '\n');
};

function writeToneWav(file) {
  const rate = 48000, seconds = 2, n = rate * seconds;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8); buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22); buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34); buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate)), 44 + i * 2);
  fs.writeFileSync(file, buf);
}

const PAGE = `<!doctype html><html><body><script>
window.makePc = async (iceServers, policy) => {
  window.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: policy || 'all', bundlePolicy: 'max-bundle',
                                      rtcpMuxPolicy: 'require' });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  stream.getTracks().forEach((t) => window.pc.addTrack(t, stream));
  window.gathered = new Promise((r) => { window.pc.onicegatheringstatechange = () => {
    if (window.pc.iceGatheringState === 'complete') r(); }; });
};
window.offer = async () => {
  await window.pc.setLocalDescription(await window.pc.createOffer());
  await Promise.race([window.gathered, new Promise((r) => setTimeout(r, 3000))]);
  return window.pc.localDescription.sdp;
};
window.answer = async (sdp) => {
  await window.pc.setRemoteDescription({ type: 'offer', sdp });
  await window.pc.setLocalDescription(await window.pc.createAnswer());
  await Promise.race([window.gathered, new Promise((r) => setTimeout(r, 3000))]);
  return window.pc.localDescription.sdp;
};
window.applyAnswer = async (sdp) => { await window.pc.setRemoteDescription({ type: 'answer', sdp }); };
window.stats = async () => {
  const r = { connectionState: window.pc.connectionState, inboundPackets: 0, outboundPackets: 0, pairType: '' };
  const s = await window.pc.getStats();
  s.forEach((v) => {
    if (v.type === 'inbound-rtp' && v.kind === 'audio') r.inboundPackets = v.packetsReceived;
    if (v.type === 'outbound-rtp' && v.kind === 'audio') r.outboundPackets = v.packetsSent;
    if (v.type === 'candidate-pair' && v.nominated && v.state === 'succeeded') {
      const l = s.get(v.localCandidateId);
      r.pairType = l ? l.candidateType : '';
    }
  });
  return r;
};
</script></body></html>`;

async function main() {
  const wav = path.join(tmpDir, 'tone.wav');
  writeToneWav(wav);
  const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  // playwright wants the profile directory as launchPersistentContext's argument instead of --user-data-dir.
  const browser = await chromium.launchPersistentContext(path.join(tmpDir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`,
      '--ignore-certificate-errors', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'],
  });
  const quit = async (code) => { try { await browser.close(); } catch (e) {} server.close(); process.exit(code); };
  setTimeout(() => { out({ type: 'error', message: 'peer script timeout' }); quit(2); }, 60000).unref();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.evaluate(([s, p]) => window.makePc(s, p), [JSON.parse(iceServersJson || '[]'), policy || 'all']);
    const rl = readline.createInterface({ input: process.stdin });
    let statsTimer = null;
    const startStats = () => {
      statsTimer = setInterval(async () => {
        try { out(Object.assign({ type: 'stats' }, await page.evaluate(() => window.stats()))); } catch (e) {}
      }, 200);
    };
    rl.on('line', async (line) => {
      try {
        const [type, payload] = line.split(' ');
        const msg = { type, sdp: payload ? unb64(payload) : undefined };
        if (msg.type === 'answer') { await page.evaluate((s) => window.applyAnswer(s), msg.sdp); startStats(); }
        else if (msg.type === 'offer') {
          out({ type: 'answer', sdp: await page.evaluate((s) => window.answer(s), msg.sdp) });
          startStats();
        } else if (msg.type === 'quit') { if (statsTimer) clearInterval(statsTimer); await quit(0); }
      } catch (e) { out({ type: 'error', message: String(e) }); }
    });
    rl.on('close', () => quit(0));
    out({ type: 'ready' });
    if (mode === 'offer') out({ type: 'offer', sdp: await page.evaluate(() => window.offer()) });
  } catch (e) {
    out({ type: 'error', message: String(e && e.stack || e) });
    await quit(1);
  }
}
main();

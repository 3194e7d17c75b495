// SPDX-License-Identifier: Apache-2.0
// The local demo: rtcgate on its embedded default config, SIPp as a stand-in for Genesys (accepts DN
// registrations, answers every call with a 1 kHz tone) and a JsSIP softphone page on http://127.0.0.1:8080/.
// Usage: node demo/demo.js <rtcgate binary> [--self-test]
//   --self-test: instead of waiting for Ctrl-C, a headless Chromium logs in as agent 1001 on the page, calls 5000,
//   checks that it hears the 1 kHz tone, and everything stops (exit 0 on success).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const { serveFiles, launchBrowser, TONE_DETECTOR } = require(path.join(ROOT, 'tests/js/lib/browser'));
const { writeUlawToneWav } = require(path.join(ROOT, 'tests/js/lib/wav'));
const { startProcess, waitFor } = require(path.join(ROOT, 'tests/js/lib/process'));

const [binary, flag] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node demo/demo.js <rtcgate binary> [--self-test]');
  process.exit(2);
}
const selfTest = flag === '--self-test';
const PAGE_PORT = 8080;
const GENESYS_PORT = 5080;  // upstream.servers in config/rtcgate.default.yaml
const children = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-demo-'));

function start(name, cmd, args, opts = {}) {
  const child = startProcess(name, cmd, args, opts, (d) => {
    if (!selfTest && name === 'rtcgate') process.stderr.write(d);
  });
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`${name} exited (${code}):\n${child.out.slice(-3000)}`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => setTimeout(r, 5000))]);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function main() {
  require(path.join(ROOT, 'tests/js/node_modules/esbuild')).buildSync({
    stdin: { contents: 'window.JsSIP = require("jssip");', resolveDir: path.join(ROOT, 'tests/js') },
    bundle: true, outfile: path.join(tmp, 'jssip.js'), format: 'iife', logLevel: 'error',
  });
  const page = fs.readFileSync(path.join(__dirname, 'softphone.html'), 'utf8');
  const site = await serveFiles({ 'index.html': page, 'jssip.js': fs.readFileSync(path.join(tmp, 'jssip.js'), 'utf8') },
    PAGE_PORT);

  writeUlawToneWav(path.join(tmp, 'tone-1khz-pcmu.wav'), { freqHz: 1000 });
  start('genesys stand-in (SIPp)', 'sipp', ['-sf', path.join(__dirname, 'genesys-standin/uas-answer-tone.xml'),
    '-i', '127.0.0.1', '-p', String(GENESYS_PORT), '-mi', '127.0.0.1', '-nostdin'],
  { cwd: tmp });
  const gw = start('rtcgate', binary, []);
  await waitFor(() => /ready: SIP toward Genesys/.test(gw.out), 15000, 'rtcgate');
  console.log(`
rtcgate demo is running.
  1. Open https://127.0.0.1:8443/ once in your browser and accept the self-signed certificate (the WebSocket uses it).
  2. Open ${site.url} , sign in as 1001 / demo-1001, and call 5000: the Genesys stand-in answers with a 1 kHz tone.
  Admin: http://127.0.0.1:8089/metrics    Stop: Ctrl-C
`);
  if (!selfTest) return;

  const browser = await launchBrowser({ toneHz: 440 });
  let ok = false;
  try {
    const p = await browser.context.newPage();
    await p.goto(site.url);
    await p.evaluate(TONE_DETECTOR);
    await p.click('#login');
    await p.waitForFunction(() => document.querySelector('#status').textContent.includes('registered'), null, { timeout: 15000 });
    await p.fill('#target', '5000');
    await p.click('#call');
    await p.waitForFunction(() => document.querySelector('#status').textContent.includes('in call'), null, { timeout: 15000 });
    const tone = await p.evaluate(async () => {
      const track = window.currentSession.connection.getReceivers()[0].track;
      return window.__rtcgateTone.detect(new MediaStream([track]), 2500);
    });
    await p.click('#hangup');
    ok = Math.abs(tone.hz - 1000) <= 10;
    console.log(`${ok ? 'ok    ' : 'FAILED'} the demo softphone hears the stand-in's 1 kHz tone (${tone.hz} Hz)`);
  } catch (e) {
    console.log(`FAILED demo self-test: ${e.message}`);
  } finally {
    await browser.close();
    await site.close();
  }
  console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
  if (!ok) for (const c of children) console.log(`--- ${c.name} ---\n${c.out.slice(-4000)}`);
  stop(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(`demo failed to start: ${e.message}`);
  stop(1);
});

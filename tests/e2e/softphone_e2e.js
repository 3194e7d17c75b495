// SPDX-License-Identifier: Apache-2.0
// The softphone page as an agent meets it (issue 13): served by the real rtcgate over HTTPS on its WSS listener
// (listeners.wss[].web_root), driven in headless Chromium, with SIPp as Genesys.
//   1. Static files over real TLS, raw HTTP/1.1 requests (exact bytes, no client normalising the path): the page and
//      its headers (Content-Type, Cache-Control, CSP naming this listener's wss: origin, nosniff, Referrer-Policy),
//      HEAD, and each traversal attempt answered with its exact code and never with the secret outside the root.
//   2. The page: a wrong password shows the error text; sign in, registered; dial 5000 on the keypad, call: the page
//      hears Genesys's 1 kHz and Genesys hears the page's 440 Hz; the quality panel fills from getStats; keypad digits
//      reach Genesys as RFC 4733 events; Hold / Resume reach Genesys as re-INVITEs a=sendonly / a=sendrecv (SIPp checks);
//      Transfer sends REFER to 5001 on the Genesys dialog (SIPp checks Refer-To, answers 202 + NOTIFYs, BYEs); then
//      Genesys calls the agent with auto-answer off: the page rings, Answer answers, audio both ways, Hang up BYEs;
//      an unreachable gateway and a refused microphone each show their error text.
//   Screenshots of the idle, error, in-call and incoming states go to <screenshot dir> (build/screenshots).
// Usage: node softphone_e2e.js <rtcgate binary> <screenshot dir>
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const tls = require('tls');
const { execFileSync } = require('child_process');
const ROOT = path.join(__dirname, '../..');
const { launchBrowser, TONE_DETECTOR } = require(path.join(ROOT, 'tests/js/lib/browser'));
const { startProcess, waitFor } = require(path.join(ROOT, 'tests/js/lib/process'));
const { freeUdpPort } = require(path.join(ROOT, 'tests/js/lib/ports'));
const { ulawToLinear, dominantHz } = require(path.join(ROOT, 'tests/js/lib/wav'));
const { startToneRtp } = require(path.join(ROOT, 'demo/genesys-standin/tone-rtp'));
const { loopbackGatewayConfig } = require(path.join(ROOT, 'tests/js/lib/gateway_config'));

const [binaryArg, shotsArg] = process.argv.slice(2);
const binary = binaryArg && path.resolve(binaryArg);
const shots = shotsArg && path.resolve(shotsArg);
if (!binary || !shots) {
  console.error('usage: node softphone_e2e.js <rtcgate binary> <screenshot dir>');
  process.exit(2);
}
const SCENARIOS = path.join(__dirname, 'scenarios');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-softphone-'));
const children = [];
const checks = [];
const check = (name, ok, detail) => {
  checks.push(ok);
  console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${detail !== undefined ? ` (${detail})` : ''}`);
};
const start = (name, cmd, args, opts = {}) => {
  const c = startProcess(name, cmd, args, { cwd: tmp, ...opts });
  children.push(c);
  return c;
};
const exitOf = (c, ms = 15000) => Promise.race([c.exited, new Promise((r) => setTimeout(() => r('timeout'), ms))]);

// One raw HTTP/1.1 request over TLS: the request line goes out byte for byte. Resolves to { status, headers, body }
// or { status: 0 } when the server closes without answering.
function rawRequest(port, requestLine, extra = '') {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const chunks = [];
    const timer = setTimeout(() => sock.destroy(), 5000);
    sock.on('secureConnect', () => sock.write(Buffer.concat([Buffer.from(requestLine, 'latin1'),
      Buffer.from(`\r\nHost: 127.0.0.1:${port}\r\n${extra}Connection: close\r\n\r\n`)])));
    sock.on('data', (d) => chunks.push(d));
    const done = () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return resolve({ status: 0, headers: {}, body: Buffer.alloc(0) });
      const lines = all.subarray(0, split).toString('latin1').split('\r\n');
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(lines[0].split(' ')[1]), headers, body: all.subarray(split + 4) });
    };
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', () => {});
  });
}

async function staticFiles(wssPort, pageDir) {
  const index = fs.readFileSync(path.join(pageDir, 'index.html'));
  const page = await rawRequest(wssPort, 'GET / HTTP/1.1');
  check('GET / serves the softphone page: 200, text/html, the file byte for byte',
    page.status === 200 && page.headers['content-type'] === 'text/html; charset=utf-8' && page.body.equals(index),
    `${page.status} ${page.headers['content-type']} ${page.body.length} bytes`);
  const csp = page.headers['content-security-policy'] || '';
  check('CSP: self only, the WebSocket to this listener, no objects, no framing',
    /^default-src 'self'; script-src 'self'; style-src 'self';/.test(csp) &&
    csp.includes(`connect-src 'self' wss://127.0.0.1:${wssPort};`) && csp.includes("object-src 'none'") &&
    csp.includes("frame-ancestors 'none'"), csp);
  check('X-Content-Type-Options nosniff, Referrer-Policy no-referrer, Cache-Control no-cache',
    page.headers['x-content-type-options'] === 'nosniff' && page.headers['referrer-policy'] === 'no-referrer' &&
    page.headers['cache-control'] === 'no-cache', JSON.stringify(page.headers));
  const js = await rawRequest(wssPort, 'GET /rtcgate-client.js HTTP/1.1');
  const jsSize = fs.statSync(path.join(pageDir, 'rtcgate-client.js')).size;
  check('the bundled client module: 200, text/javascript, complete',
    js.status === 200 && js.headers['content-type'] === 'text/javascript; charset=utf-8' && js.body.length === jsSize,
    `${js.status} ${js.headers['content-type']} ${js.body.length}/${jsSize} bytes`);
  const css = await rawRequest(wssPort, 'GET /softphone.css HTTP/1.1');
  check('the stylesheet: 200, text/css', css.status === 200 && css.headers['content-type'] === 'text/css; charset=utf-8',
    `${css.status} ${css.headers['content-type']}`);
  const head = await rawRequest(wssPort, 'HEAD /index.html HTTP/1.1');
  check('HEAD: 200 with the GET\'s Content-Length and no body', head.status === 200 &&
    Number(head.headers['content-length']) === index.length && head.body.length === 0,
    `${head.status} ${head.headers['content-length']} ${head.body.length}`);
  // Each attempt with its exact answer. lws decodes %XX and folds "/../" before rtcgate sees the path (so those are
  // plain misses), answers an absolute-form target itself (403), and drops a request with an encoded NUL unanswered.
  const attempts = [
    ['GET /../secret.txt HTTP/1.1', 404],
    ['GET /%2e%2e/secret.txt HTTP/1.1', 404],
    ['GET /..%2fsecret.txt HTTP/1.1', 404],
    ['GET /%2e%2e%2fsecret.txt HTTP/1.1', 404],
    ['GET /sub/..%2f..%2fsecret.txt HTTP/1.1', 404],
    ['GET /%252e%252e/secret.txt HTTP/1.1', 400],
    ['GET /..%5csecret.txt HTTP/1.1', 400],
    [`GET /%2f${tmp.slice(1)}/secret.txt HTTP/1.1`, 404],
    [`GET ${tmp}/secret.txt HTTP/1.1`, 404],
    [`GET https://127.0.0.1:${wssPort}${tmp}/secret.txt HTTP/1.1`, 403],
    ['GET /index.html%00.js HTTP/1.1', 0],
    ['GET /link-out.txt HTTP/1.1', 404],
    ['GET /.hidden HTTP/1.1', 404],
    ['GET /sub/ HTTP/1.1', 404],
    ['GET /sub HTTP/1.1', 404],
    ['GET /nothing-here.html HTTP/1.1', 404],
    ['POST / HTTP/1.1', 405, 'Content-Length: 0\r\n'],
  ];
  const got = [];
  let leaked = false;
  for (const [line, want, extra] of attempts) {
    const r = await rawRequest(wssPort, line, extra || '');
    got.push(`${line.split(' ')[1]} -> ${r.status}`);
    if (r.body.includes('TOP-SECRET') || r.body.includes('root:')) leaked = true;
    check(`${line.split(' ').slice(0, 2).join(' ')} is answered ${want || 'not at all (connection closed)'}`,
      r.status === want, r.status);
  }
  check('no answer carried the file outside the root', !leaked);
  // A symlink inside the root to a file inside it is served (only links leading out are refused).
  const inner = await rawRequest(wssPort, 'GET /link-in.css HTTP/1.1');
  check('a symlink inside the root to a file inside it is served', inner.status === 200, inner.status);
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  // The page as shipped, in a web root of this run; a secret beside it, and the traps a traversal would use.
  const pageDir = path.join(tmp, 'www');
  execFileSync(path.join(ROOT, 'scripts/build-softphone.sh'), [pageDir], { stdio: 'ignore' });
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'TOP-SECRET\n');
  fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(pageDir, 'link-out.txt'));
  fs.symlinkSync('softphone.css', path.join(pageDir, 'link-in.css'));
  fs.writeFileSync(path.join(pageDir, '.hidden'), 'TOP-SECRET\n');
  fs.mkdirSync(path.join(pageDir, 'sub'));
  fs.writeFileSync(path.join(pageDir, 'sub', 'x.txt'), 'x\n');

  const media = await startToneRtp({ freqHz: 1000 });
  const sippPort = await freeUdpPort();
  const cfg = path.join(tmp, 'rtcgate.yaml');
  // allowed_origins: empty (the page's origin has the kernel's port, known only once listening). The page is of
  // that origin anyway, so Origin checks have nothing to do here; they are the WebSocket tests' business.
  fs.writeFileSync(cfg, loopbackGatewayConfig({ sippPort, wss: `, web_root: "${pageDir}"`,
    extra: 'codecs: {browser: [opus, pcmu, pcma]}\n' }));
  // Genesys answers the agent's call (and the DN's REGISTERs), expects Hold / Resume and the transfer.
  const uas = start('sipp (Genesys, answers)', 'sipp', ['-sf', path.join(SCENARIOS, 'uas-answer-expect-hold-refer.xml'),
    '-i', '127.0.0.1', '-p', String(sippPort), '-key', 'rtpport', String(media.port), '-timeout', '60s',
    '-timeout_error', '-nostdin', '-bind_local']);
  const gw = start('rtcgate', binary, ['--config', cfg]);
  const wssPort = Number(await waitFor(() => (gw.out.match(/WSS listening on wss:\/\/127\.0\.0\.1:(\d+)/) || [])[1], 15000, 'rtcgate WSS'));
  const sipPort = await waitFor(() => (gw.out.match(/ready: SIP toward Genesys on 127\.0\.0\.1:(\d+)/) || [])[1], 15000, 'rtcgate ready');

  let t = Date.now();
  await staticFiles(wssPort, pageDir);
  console.log(`static files: ${Date.now() - t} ms`);

  const browser = await launchBrowser({ toneHz: 440 });
  try {
    const p = await browser.context.newPage();
    p.on('pageerror', (e) => console.log('page error:', e.message));
    p.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) console.log('page:', m.text()); });
    const url = `https://127.0.0.1:${wssPort}/`;
    const text = (id) => p.evaluate((i) => document.getElementById(i).textContent, id);
    const waitText = (id, want, ms = 10000) => p.waitForFunction(([i, w]) => document.getElementById(i).textContent.includes(w),
      [id, want], { timeout: ms });
    const hear = () => p.evaluate(async () => window.__rtcgateTone.detect(
      new MediaStream([window.currentSession.connection.getReceivers()[0].track]), 1500));
    const farEndHz = () => dominantHz(Array.from(Buffer.concat(media.recent), ulawToLinear));

    // Wrong password.
    t = Date.now();
    await p.goto(url);
    await p.evaluate(TONE_DETECTOR);
    check('the gateway field defaults to the page\'s own origin', (await p.inputValue('#server')) === `wss://127.0.0.1:${wssPort}`,
      await p.inputValue('#server'));
    await p.fill('#user', '1001');
    await p.fill('#password', 'not-the-password');
    await p.click('#login');
    await p.waitForSelector('#error:not([hidden])', { timeout: 10000 });
    const wrong = await text('error-text');
    check('a wrong password shows "Wrong user or password"', /^Wrong user or password/.test(wrong), wrong);
    check('... and the registration badge says refused', (await text('status')) === 'registration refused', await text('status'));
    await p.screenshot({ path: path.join(shots, 'softphone-error-wrong-password.png') });
    console.log(`wrong password: ${Date.now() - t} ms`);

    // A gateway the browser cannot reach (nothing listens there): the page cannot tell that from a certificate it
    // does not accept (both are a WebSocket closed before it opened), so it names both and links the gateway's page.
    t = Date.now();
    await p.fill('#password', 'demo-1001');
    await p.fill('#server', 'wss://127.0.0.1:9');
    await p.click('#login');
    await p.waitForFunction(() => /^Could not connect/.test(document.getElementById('error-text').textContent), null,
      { timeout: 10000 }).catch(() => {});
    const unreachable = await p.evaluate(() => ({ text: document.getElementById('error-text').textContent,
      link: !document.getElementById('error-link').hidden && document.getElementById('error-href').href }));
    check('an unreachable gateway: "Could not connect ... certificate", with a link to https://host/',
      /^Could not connect to the gateway wss:\/\/127\.0\.0\.1:9\. .*certificate/.test(unreachable.text) &&
      unreachable.link === 'https://127.0.0.1:9/', JSON.stringify(unreachable));
    await p.screenshot({ path: path.join(shots, 'softphone-error-unreachable.png') });
    await p.click('#logout');
    await p.fill('#server', `wss://127.0.0.1:${wssPort}`);
    console.log(`unreachable: ${Date.now() - t} ms`);

    // Sign in, dial on the keypad, call.
    t = Date.now();
    await p.click('#login');
    await waitText('status', 'registered as 1001');
    check('the error goes once registered', await p.isHidden('#error'));
    await p.screenshot({ path: path.join(shots, 'softphone-idle.png') });
    for (const k of '5000') await p.click(`.dtmf[data-tone="${k}"]`);
    check('the keypad dials when idle', (await p.inputValue('#target')) === '5000', await p.inputValue('#target'));
    await p.click('#call');
    await waitText('state', 'in call');
    const heard = await hear();
    check('the page hears Genesys\'s 1 kHz', Math.abs(heard.hz - 1000) <= 10, `${heard.hz} Hz`);
    await waitFor(() => media.recent.length >= 50, 5000, 'agent audio at Genesys').catch(() => {});
    const far = farEndHz();
    check('Genesys hears the page\'s 440 Hz', Math.abs(far - 440) <= 10, `${far} Hz, ${media.audio} packets`);
    await p.waitForFunction(() => /^\d+ packets, \d/.test(document.getElementById('q-rx').textContent) &&
      document.getElementById('q-pair').textContent !== '–', null, { timeout: 5000 }).catch(() => {});
    const q = await p.evaluate(() => ({ ...window.lastQuality,
      shown: ['q-codec', 'q-rx', 'q-tx', 'q-loss', 'q-jitter', 'q-rtt', 'q-pair'].map((i) => document.getElementById(i).textContent) }));
    console.log(`quality panel: ${JSON.stringify(q.shown)}`);
    check('quality: codec, packets both ways, bitrate, loss, jitter and the selected pair (host -> host) shown',
      /^(opus\/48000\/2|PCMU\/8000|PCMA\/8000)$/.test(q.shown[0]) && q.packetsReceived > 0 && q.packetsSent > 0 && q.rxKbps > 0 &&
      /^0 \(0\.0 %\) to us/.test(q.shown[3]) && / ms$/.test(q.shown[4]) && /^host udp → host$/.test(q.shown[6]),
      JSON.stringify(q.shown));
    check('the call timer runs', /^00:0\d$/.test(await text('timer')), await text('timer'));
    await p.screenshot({ path: path.join(shots, 'softphone-in-call.png') });
    console.log(`call up: ${Date.now() - t} ms`);

    // DTMF from the keypad: RFC 4733 in the media, to Genesys as events 1, 11 (#) and 13 (C).
    t = Date.now();
    for (const [k, code] of [['1', 1], ['#', 11], ['C', 14]]) {  // RFC 4733 3.2: * 10, # 11, A-D 12-15
      await p.click(`.dtmf[data-tone="${k}"]`);
      await waitFor(() => media.events.has(code), 5000, `DTMF ${k}`).catch(() => {});
    }
    check('keypad 1, # and C reach Genesys as RFC 4733 events 1, 11 and 14', media.events.has(1) && media.events.has(11) &&
      media.events.has(14), [...media.events].join(','));
    check('the keypad sent them in-band (RFC 4733, the default)', (await text('log')).includes('DTMF 1 sent (RFC 4733)'),
      (await text('log')).match(/DTMF 1 sent[^D]*/) || '');
    console.log(`dtmf: ${Date.now() - t} ms`);

    // Hold and resume: SIPp's scenario asserts the re-INVITEs (a=sendonly, then a=sendrecv).
    t = Date.now();
    await p.click('#hold');
    await waitText('state', 'on hold');
    check('Hold: the page says on hold, the button says Resume', (await text('hold')) === 'Resume');
    await p.click('#hold');
    await waitText('state', 'in call');
    const resumed = media.audio;
    await waitFor(() => media.audio >= resumed + 25, 5000, 'audio after resume').catch(() => {});
    check('Resume: Genesys receives the agent\'s audio again', media.audio >= resumed + 25, media.audio - resumed);
    await p.click('#mute');
    const muted = await p.evaluate(() => window.currentSession.connection.getSenders()[0].track.enabled === false &&
      document.getElementById('mute').getAttribute('aria-pressed') === 'true');
    await p.click('#mute');
    check('Mute disables the microphone (aria-pressed) and Unmute enables it', muted &&
      await p.evaluate(() => window.currentSession.connection.getSenders()[0].track.enabled));
    console.log(`hold/resume/mute: ${Date.now() - t} ms`);

    // Blind transfer: the REFER to 5001, Genesys's NOTIFYs and BYE (checked by SIPp's scenario).
    t = Date.now();
    await p.fill('#transfer-target', '5001');
    await p.click('#transfer');
    await waitText('state', 'call ended');
    const log = await text('log');
    check('the page saw the REFER accepted and the transfer succeed', /transfer: accepted/.test(log) &&
      /transfer: REFER accepted \(202\)/.test(log));
    const uasCode = await exitOf(uas);
    // 97: the scenario ran to its stop_now, every check_it passed (a failed one fails the call: exit 1 at the timeout).
    check('Genesys (SIPp) saw Hold, Resume and the REFER as expected and ended at the scenario\'s end (exit 97)',
      uasCode === 97 && /Failed call\s+\|\s+0\s+\|\s+0/.test(uas.out), `exit ${uasCode}`);
    console.log(`transfer: ${Date.now() - t} ms`);

    // Genesys calls the agent; auto-answer off: Answer is clicked.
    t = Date.now();
    await p.uncheck('#autoanswer');
    const inMedia = await startToneRtp({ freqHz: 1000 });
    const uac = start('sipp (Genesys, calls the agent)', 'sipp', [`127.0.0.1:${sipPort}`, '-sf',
      path.join(SCENARIOS, 'uac-call-agent-expect-bye.xml'), '-i', '127.0.0.1', '-p', String(await freeUdpPort()),
      '-s', '1001', '-key', 'rtpport', String(inMedia.port), '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin']);
    await waitText('state', 'incoming call');
    const ringing = await p.evaluate(() => ({ hidden: document.getElementById('incoming').hidden,
      focused: document.activeElement && document.activeElement.id }));
    check('the call rings with Answer / Reject, Answer focused', !ringing.hidden && ringing.focused === 'answer',
      JSON.stringify(ringing));
    await p.screenshot({ path: path.join(shots, 'softphone-incoming.png') });
    await p.click('#answer');
    await waitText('state', 'in call');
    const heardIn = await hear();
    check('answered: the page hears Genesys\'s 1 kHz', Math.abs(heardIn.hz - 1000) <= 10, `${heardIn.hz} Hz`);
    await waitFor(() => inMedia.audio >= 25, 5000, 'agent audio on the incoming call').catch(() => {});
    check('answered: Genesys receives the agent\'s audio', inMedia.audio >= 25, inMedia.audio);
    // Issue 13: the keypad's default, RFC 4733 in the media, also on a call Genesys offered.
    await p.click('.dtmf[data-tone="7"]');
    await waitFor(() => inMedia.events.has(7), 5000, 'DTMF 7 on the incoming call').catch(() => {});
    check('keypad 7 on the incoming call reaches Genesys as RFC 4733 event 7, sent in-band (the default)',
      inMedia.events.has(7) && (await text('log')).includes('DTMF 7 sent (RFC 4733)'), [...inMedia.events].join(','));
    await p.click('#hangup');
    const uacCode = await exitOf(uac);
    check('Hang up: Genesys got BYE and its call ended cleanly (exit 0)', uacCode === 0, `exit ${uacCode}`);
    inMedia.close();
    console.log(`incoming: ${Date.now() - t} ms`);

    // No microphone: the browser refuses getUserMedia (what a denied permission gives a page) and the call fails
    // before any INVITE; the page must say so.
    t = Date.now();
    const p2 = await browser.context.newPage();
    await p2.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    await p2.goto(url);
    await p2.fill('#password', 'demo-1001');
    await p2.click('#login');
    await p2.waitForFunction(() => /registered as 1001/.test(document.getElementById('status').textContent), null, { timeout: 10000 });
    await p2.fill('#target', '5000');
    await p2.click('#call');
    await p2.waitForSelector('#error:not([hidden])', { timeout: 10000 }).catch(() => {});
    const noMic = await p2.evaluate(() => document.getElementById('error-text').textContent);
    check('no microphone permission: "No microphone" shown', /^No microphone: the browser did not allow/.test(noMic), noMic);
    await p2.screenshot({ path: path.join(shots, 'softphone-error-no-microphone.png') });
    await p2.close();
    console.log(`no microphone: ${Date.now() - t} ms`);
  } catch (e) {
    check(`the softphone test ran to the end (${e.message})`, false);
  } finally {
    await browser.close();
    media.close();
  }
  const failed = checks.filter((ok) => !ok).length;
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  if (failed) for (const c of children) console.log(`--- ${c.name} ---\n${c.out.slice(-4000)}`);
  await stop(failed ? 1 : 0);
}

async function stop(code) {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => setTimeout(r, 5000))]);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}

main().catch((e) => {
  console.error(`softphone test failed to start: ${e.message}`);
  stop(1);
});

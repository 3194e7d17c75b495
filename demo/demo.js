// SPDX-License-Identifier: Apache-2.0
// The local demo: rtcgate on its embedded default config, SIPp as a stand-in for Genesys (accepts DN
// registrations, answers every call with a 1 kHz tone, and on Enter calls agent 1001 asking for auto-answer) and the
// softphone page (web/softphone, docs/softphone.md), which rtcgate itself serves at https://127.0.0.1:8443/.
// Usage: node demo/demo.js <rtcgate binary> [--self-test]
//   --self-test: instead of waiting for Ctrl-C, a headless Chromium logs in as agent 1001 on the page, calls 5000
//   and checks that it hears the 1 kHz tone; then the stand-in calls the agent (Call-Info answer-after=0): the page
//   must answer by itself, hear the stand-in's tone, the stand-in must receive the agent's audio (counted) and a
//   keypad digit (RFC 4733), hold/resume must work, and the agent's hangup must end the stand-in's call cleanly.
//   Everything stops (exit 0 on success).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const { launchBrowser, TONE_DETECTOR } = require(path.join(ROOT, 'tests/js/lib/browser'));
const { writeUlawToneWav } = require(path.join(ROOT, 'tests/js/lib/wav'));
const { startProcess, waitFor } = require(path.join(ROOT, 'tests/js/lib/process'));
const { startToneRtp } = require(path.join(__dirname, 'genesys-standin/tone-rtp'));

const [binary, flag] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node demo/demo.js <rtcgate binary> [--self-test]');
  process.exit(2);
}
const selfTest = flag === '--self-test';
const PAGE_URL = 'https://127.0.0.1:8443/';  // listeners.wss in config/rtcgate.default.yaml, web_root build/softphone
const GENESYS_PORT = 5080;  // upstream.servers in config/rtcgate.default.yaml
const GENESYS_CALLER_PORT = 5081;  // the stand-in's SIP port when it calls an agent (same address: accepted)
const GATEWAY_SIP = '127.0.0.1:5070';  // upstream.sip_bind in config/rtcgate.default.yaml
const AGENT_DN = '1001';
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
  // The page and rtcgate's client module bundled with stock JsSIP, where the embedded default's web_root points
  // (build/softphone, relative to rtcgate's working directory: the repository's root).
  require('child_process').execFileSync(path.join(ROOT, 'scripts/build-softphone.sh'), [path.join(ROOT, 'build/softphone')],
    { stdio: 'ignore' });
  writeUlawToneWav(path.join(tmp, 'tone-1khz-pcmu.wav'), { freqHz: 1000 });
  start('genesys stand-in (SIPp)', 'sipp', ['-sf', path.join(__dirname, 'genesys-standin/uas-answer-tone.xml'),
    '-i', '127.0.0.1', '-p', String(GENESYS_PORT), '-mi', '127.0.0.1', '-nostdin'],
  { cwd: tmp });
  const gw = start('rtcgate', binary, [], { cwd: ROOT });
  await waitFor(() => /ready: SIP toward Genesys/.test(gw.out), 15000, 'rtcgate');
  console.log(`
rtcgate demo is running.
  1. Open ${PAGE_URL} in your browser and accept the self-signed certificate (the softphone page and its WebSocket
     use it).
  2. On that page (${PAGE_URL}) sign in as 1001 / demo-1001, and call 5000: the Genesys stand-in answers with a 1 kHz tone.
  3. Press Enter here: the stand-in calls agent 1001 asking for auto-answer (Call-Info answer-after=0); the page
     answers by itself and you hear the tone. Type r and Enter: the stand-in calls without auto-answer, then its
     agent desktop answers for the agent (remote control talk), holds and resumes the call (hold, talk). Type m
     and Enter: the call just rings; answer or reject it on the page.
     Hold, mute, the keypad and hang up work on every call.
  Admin: http://127.0.0.1:8089/metrics    Stop: Ctrl-C
`);
  if (!selfTest) {
    let calling = null;
    process.stdin.on('data', (line) => {
      if (calling) return console.log('the stand-in is already calling the agent');
      const key = String(line).trim().toLowerCase();
      calling = callAgent(key === 'r' ? 'remote' : key === 'm' ? 'ring' : 'auto');
      calling.then(({ sipp }) => sipp.exited).then(() => { calling = null; console.log('the stand-in\'s call ended'); });
    });
    return;
  }

  const browser = await launchBrowser({ toneHz: 440 });
  const checks = [];
  const check = (name, ok, detail) => {
    checks.push(ok);
    console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${detail !== undefined ? ` (${detail})` : ''}`);
  };
  const textOf = (p, id) => p.evaluate((i) => document.getElementById(i).textContent, id);
  const waitText = (p, id, text, ms = 15000) => p.waitForFunction(([i, t]) => document.getElementById(i).textContent.includes(t),
    [id, text], { timeout: ms });
  const hear = (p) => p.evaluate(async () => {
    const track = window.currentSession.connection.getReceivers()[0].track;
    return window.__rtcgateTone.detect(new MediaStream([track]), 2500);
  });
  try {
    const p = await browser.context.newPage();
    await p.goto(PAGE_URL);
    await p.evaluate(TONE_DETECTOR);
    await p.fill('#user', AGENT_DN);
    await p.fill('#password', 'demo-1001');
    await p.click('#login');
    await waitText(p, 'status', 'registered');
    // The agent calls out.
    await p.fill('#target', '5000');
    await p.click('#call');
    await waitText(p, 'state', 'in call');
    const tone = await hear(p);
    check('the demo softphone hears the stand-in\'s 1 kHz tone on its call to 5000', Math.abs(tone.hz - 1000) <= 10, `${tone.hz} Hz`);
    await p.click('#hangup');
    await waitText(p, 'state', 'call ended');

    // The stand-in calls the agent and asks for auto-answer: nobody clicks Answer.
    const { media, sipp } = await callAgent();
    await waitText(p, 'state', 'in call');
    check('the page auto-answered the call (answer-after=0)', (await textOf(p, 'log')).includes('answering (auto-answer)'));
    const peer = await textOf(p, 'peer');
    check('the page shows the caller', peer.includes('Demo Customer') && peer.includes('customer'), peer);
    const heard = await hear(p);
    check('the page hears the stand-in\'s 1 kHz tone', Math.abs(heard.hz - 1000) <= 10, `${heard.hz} Hz`);
    await waitFor(() => media.audio >= 100, 10000, 'agent audio at the stand-in').catch(() => {});
    check('the stand-in receives the agent\'s audio (>= 100 RTP packets)', media.audio >= 100, media.audio);
    await p.click('#mute');
    await p.waitForFunction(() => document.getElementById('mute').textContent === 'Unmute', null, { timeout: 5000 });
    const muted = await p.evaluate(() => window.currentSession.connection.getSenders()[0].track.enabled === false);
    await p.click('#mute');
    await p.waitForFunction(() => document.getElementById('mute').textContent === 'Mute', null, { timeout: 5000 });
    const unmuted = await p.evaluate(() => window.currentSession.connection.getSenders()[0].track.enabled === true);
    check('Mute disables the microphone track and Unmute enables it again', muted && unmuted, `${muted} ${unmuted}`);
    await p.click('.dtmf[data-tone="5"]');
    await waitFor(() => media.events.has(5), 10000, 'DTMF at the stand-in').catch(() => {});
    check('keypad 5 reached the stand-in as RFC 4733 event 5', media.events.has(5),
      `${[...media.events].join(',')}; page: ${((await textOf(p, 'log')).match(/DTMF 5 sent[^\n]*/) || ['nothing sent'])[0]}`);
    await p.click('#hold');
    await waitText(p, 'state', 'on hold');
    check('Hold: the call is on hold', (await textOf(p, 'hold')) === 'Resume');
    // What the stand-in gets while the agent holds, after in-flight packets (300 ms): a 1 s window, at most 3.
    await new Promise((r) => setTimeout(r, 300));
    const heldFrom = media.audio;
    await new Promise((r) => setTimeout(r, 1000));
    check('no agent audio reaches the stand-in while on hold', media.audio - heldFrom <= 3, media.audio - heldFrom);
    await p.click('#hold');
    await waitText(p, 'state', 'in call');
    const before = media.audio;
    await waitFor(() => media.audio >= before + 50, 10000, 'agent audio after resume').catch(() => {});
    check('Resume: the stand-in receives the agent\'s audio again (>= 50 more packets)', media.audio >= before + 50,
      media.audio - before);
    await p.click('#hangup');
    const code = await Promise.race([sipp.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
    check('the agent\'s hangup ended the stand-in\'s call cleanly (SIPp exit 0)', code === 0, `exit ${code}`);
    await waitText(p, 'state', 'call ended');

    // The stand-in calls without auto-answer; its agent desktop answers for the agent, then holds and resumes.
    // SIP Server's NOTIFY talk comes right on rtcgate's 180, before the browser rings: it must still answer.
    const remote = await callAgent('remote');
    await waitText(p, 'state', 'in call');
    const log = () => textOf(p, 'log');
    check('the page answered on the remote control talk', /answering \(remote control talk\)[^]*call: incoming call/.test(await log()));
    // The page's log is newest first: talk (answered), in call, hold, on hold, talk (resumed), in call, read bottom-up.
    const remoteSequence = 'call: in call[^]*remote control: talk[^]*call: on hold[^]*remote control: hold[^]*call: in call[^]*remote control: talk';
    await p.waitForFunction((re) => new RegExp(re).test(document.getElementById('log').textContent), remoteSequence,
      { timeout: 15000 }).catch(() => {});
    const held = new RegExp(remoteSequence).test(await log());
    check('remote control hold held the call and talk resumed it', held);
    const remoteHeard = await hear(p);
    check('the page hears the stand-in\'s tone after the remote resume', Math.abs(remoteHeard.hz - 1000) <= 10, `${remoteHeard.hz} Hz`);
    const resumedFrom = remote.media.audio;
    await waitFor(() => remote.media.audio >= resumedFrom + 50, 10000, 'agent audio after the remote resume').catch(() => {});
    check('the stand-in receives the agent\'s audio after the remote resume (>= 50 more packets)',
      remote.media.audio >= resumedFrom + 50, remote.media.audio - resumedFrom);
    await p.click('#hangup');
    const remoteCode = await Promise.race([remote.sipp.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
    check('the remote-control call ended cleanly (SIPp exit 0)', remoteCode === 0, `exit ${remoteCode}`);
    await waitText(p, 'state', 'call ended');

    // A call without auto-answer rings with the caller, Answer and Reject shown; Reject sends 603 Decline.
    const ringing = await callAgent('ring');
    await waitText(p, 'state', 'incoming call');
    const shown = await p.evaluate(() => ({ hidden: document.getElementById('incoming').hidden,
      caller: document.getElementById('caller').textContent }));
    check('a ringing call shows the caller with Answer / Reject', !shown.hidden && shown.caller.includes('Demo Customer'),
      JSON.stringify(shown));
    await p.click('#reject');
    const ringCode = await Promise.race([ringing.sipp.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
    // SIPp's final screen counts each message of the scenario: one 603 received.
    check('Reject: the stand-in got 603 Decline and its call ended (SIPp exit 0)',
      ringCode === 0 && /603 <-+\s+1\s/.test(ringing.sipp.out), `exit ${ringCode}`);
    await waitText(p, 'state', 'call failed');
  } catch (e) {
    check(`demo self-test ran to the end (${e.message})`, false);
  } finally {
    await browser.close();
  }
  const failed = checks.filter((ok) => !ok).length;
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  if (failed) for (const c of children) console.log(`--- ${c.name} ---\n${c.out.slice(-4000)}`);
  stop(failed ? 1 : 0);
}

// The stand-in calls agent 1001's DN, with its media on a tone-playing RTP endpoint. `how`: 'auto' asks for
// auto-answer; 'remote': the agent desktop answers, holds and resumes for the agent (NOTIFY talk / hold / talk);
// 'ring': it rings until the agent answers or rejects it.
const CALL_SCENARIOS = { auto: 'uac-call-agent-auto-answer.xml', remote: 'uac-call-agent-remote-answer-hold.xml',
  ring: 'uac-call-agent-ring.xml' };
async function callAgent(how = 'auto') {
  const media = await startToneRtp({ freqHz: 1000 });
  const scenario = CALL_SCENARIOS[how];
  const sipp = startProcess('genesys stand-in calling the agent (SIPp)', 'sipp', [GATEWAY_SIP, '-sf',
    path.join(__dirname, 'genesys-standin', scenario), '-i', '127.0.0.1',
    '-p', String(GENESYS_CALLER_PORT), '-s', AGENT_DN, '-key', 'rtpport', String(media.port), '-m', '1',
    '-timeout', '90s', '-timeout_error', '-nostdin'], { cwd: tmp });
  children.push(sipp);
  sipp.exited.then(() => media.close());
  return { media, sipp };
}

main().catch((e) => {
  console.error(`demo failed to start: ${e.message}`);
  stop(1);
});

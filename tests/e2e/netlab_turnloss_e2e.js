// SPDX-License-Identifier: Apache-2.0
// Issue 12, network lab scenario turn-only: rtcgate reachable only through its own TURN allocation, which is lost
// mid-call and re-created by rtcgate itself.
//   router: the home NAT (browser 192.168.1.10 behind it, masqueraded toward rtcgate's public side 198.51.100.10 and
//     toward the TURN server's network 198.51.102.0/24); turn: coturn at 198.51.102.20:3478 in its own namespace;
//   gw: rtcgate, whose nftables input chain drops every UDP datagram to its ICE ports 30000-30099 that does not come
//     from coturn's 198.51.102.20. rtcgate runs relay-only (ice.relay_only) on that coturn; the page gets coturn as
//     its STUN server (browser.ice_servers) so that its server-reflexive address is what coturn will see.
// Asserted: rtcgate advertises exactly one candidate, a relay on 198.51.102.20; the browser's selected pair ends on
// it; audio both ways (440 Hz to Genesys, 1 kHz to the browser, packet counts). Then coturn is killed by PID and
// started again on the same address and port: rtcgate notices (consent and media gone through its relay), allocates
// again, re-INVITEs the browser with an ICE restart (new ufrag/pwd, new relay candidate, same fingerprint), and audio
// flows both ways again; Genesys (SIPp) sees no re-INVITE. The time from coturn's restart to audio resumed (the first
// second with >= 40 packets received by the browser) goes to <bench dir>/netlab.txt; no time is asserted.
// Skipped (exit 77) when not root or without `ip netns`/nft. RTCGATE_LAB_DUMP=FILE (with NICE_DEBUG=all) writes
// rtcgate's whole output, libnice debug included, to FILE.
// Usage: node netlab_turnloss_e2e.js <rtcgate binary> <bench dir>
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { waitFor } = require(path.join(__dirname, '../js/lib/process'));
const { LabRun } = require(path.join(__dirname, '../js/lib/netlab_run'));

const [binary, benchDir] = process.argv.slice(2);
if (!binary || !benchDir) {
  console.error('usage: node netlab_turnloss_e2e.js <rtcgate binary> <bench dir>');
  process.exit(2);
}
const run = LabRun.create({ nat: true });
const { launchBrowser, TONE_DETECTOR, CALL_CONFIRMED } = require(path.join(__dirname, '../js/lib/browser'));

const { tmp, lab } = run;
const check = (...a) => run.check(...a);
const start = (...a) => run.start(...a);
const GENESYS = '10.20.0.9';
const GW_LAN = '10.20.0.5';
const GW_PUBLIC = '198.51.100.10';
const NAT_PUBLIC = '198.51.100.2';
const TURN = '198.51.102.20';
const BROWSER = '192.168.1.10';
const TURN_SECRET = 'netlab-turn-secret';
const NFT = ['/usr/sbin/nft', '/sbin/nft'].find((p) => fs.existsSync(p));

function nft(ns, rules) {
  const [c, a] = lab.exec(ns, NFT, ['-f', '-']);
  execFileSync(c, a, { input: rules });
}

function build() {
  for (const n of ['gw', 'genesys', 'browser', 'router', 'turn']) lab.addNamespace(n);
  lab.link(['gw', 'lan0', `${GW_LAN}/24`], ['genesys', 'eth0', `${GENESYS}/24`]);
  lab.link(['gw', 'pub0', `${GW_PUBLIC}/24`], ['router', 'wan0', `${NAT_PUBLIC}/24`]);
  lab.link(['router', 'home0', '192.168.1.1/24'], ['browser', 'eth0', `${BROWSER}/24`]);
  lab.link(['router', 'dmz0', '198.51.102.1/24'], ['turn', 'eth0', `${TURN}/24`]);
  lab.route('browser', ['default', 'via', '192.168.1.1']);
  lab.route('turn', ['default', 'via', '198.51.102.1']);
  lab.route('gw', ['198.51.102.0/24', 'via', NAT_PUBLIC]);
  lab.natRouter('router', 'wan0');
  // The home network reaches coturn's network through the same NAT (endpoint-independent mapping): the browser's
  // server-reflexive address from coturn is the source coturn then sees on its checks to rtcgate's relay.
  nft('router', `table ip rtcg_nat_turn {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "dmz0" ip saddr 192.168.1.0/24 masquerade; }
}
`);
  // rtcgate's host: direct UDP to the ICE ports is blocked; only coturn (the relay) gets through.
  nft('gw', `table ip rtcg_turnonly {
  chain input { type filter hook input priority filter; policy accept; udp dport 30000-30099 ip saddr != ${TURN} counter drop; }
}
`);
}

function startTurn() {
  return start('turn', 'turnserver', 'turnserver', ['-n', `--listening-ip=${TURN}`, `--relay-ip=${TURN}`,
    '--listening-port=3478', '--use-auth-secret', `--static-auth-secret=${TURN_SECRET}`, '--realm=rtcgate.test',
    '--no-tls', '--no-dtls', '--no-cli', '--min-port=40000', '--max-port=40099', '--log-file=stdout', '--simple-log',
    '--pidfile', path.join(tmp, 'turnserver.pid')]);
}

// The page's current call: per-second media counts and the pair, read from getStats().
const PAGE_HELPERS = `
window.__lab = {
  async stats() {
    const pc = window.__call.connection;
    const out = await window.__rtcgateMediaStats(pc);
    out.answer = pc.remoteDescription ? pc.remoteDescription.sdp : '';
    out.offer = pc.localDescription ? pc.localDescription.sdp : '';
    out.ice = pc.iceConnectionState;
    return out;
  },
  // Waits (bounded) for a second in which >= 40 packets arrived; returns when (Date.now()) that second began.
  async resumed(limitMs) {
    const until = Date.now() + limitMs;
    let prev = (await this.stats()).inbound || 0, at = Date.now();
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = (await this.stats()).inbound || 0;
      if (now - prev >= 40) return at;
      prev = now; at = Date.now();
    }
    return 0;
  },
  async second() {
    const a = await this.stats();
    await new Promise((r) => setTimeout(r, 1000));
    const b = await this.stats();
    return { inbound: b.inbound - a.inbound, outbound: b.outbound - a.outbound };
  },
  tone() {
    return window.__rtcgateTone.detect(new MediaStream([window.__call.connection.getReceivers()[0].track]), 2000);
  },
};`;

const candidatesOf = (sdp) => [...sdp.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+) typ (\S+)/gm)].map((m) => `${m[1]} ${m[3]}`);
const ufragOf = (sdp) => (/^a=ice-ufrag:(\S+)/m.exec(sdp) || [])[1];
const fingerprintOf = (sdp) => (/^a=fingerprint:(.+)$/m.exec(sdp) || [])[1];

async function main() {
  const t0 = performance.now();
  build();
  const labMs = Math.round(performance.now() - t0);
  console.log(`lab built in ${labMs} ms: ${lab.names.join(' ')}`);

  const cfg = run.writeConfig({ wss: GW_PUBLIC, lan: GW_LAN, genesys: GENESYS,
    ice: `turn_servers: [{host: ${TURN}, port: 3478, transport: udp, shared_secret: ${TURN_SECRET}}], relay_only: true,
  candidates: {deny_interfaces: ["lan*"]}`,
    browser: `gathering_timeout_ms: 2000, ice_servers: ["stun:${TURN}:3478"]`,
    logging: `ice: debug${process.env.RTCGATE_LAB_DUMP ? ', nice: debug' : ''}` });
  const peer = start('genesys', 'rtp-peer', process.execPath, [path.join(__dirname, 'netlab_rtp_peer.js'), GENESYS, '4000', '1000']);
  const sipp = start('genesys', 'sipp', 'sipp', ['-sf', path.join(__dirname, 'scenarios/uas-answer-external-media.xml'),
    '-i', GENESYS, '-p', '5060', '-key', 'rtpport', '4000', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
  let turn = startTurn();
  await waitFor(() => /Total General servers/.test(turn.out), 10000, 'coturn');
  const gw = start('gw', 'rtcgate', path.resolve(binary), ['--config', cfg]);
  await waitFor(() => /rtp peer listening/.test(peer.out), 10000, 'the RTP peer');
  await waitFor(() => new RegExp(`WSS listening on wss://${GW_PUBLIC.replace(/\./g, '\\.')}:8443`).test(gw.out), 15000, 'rtcgate WSS');
  await waitFor(() => /ready: SIP toward Genesys/.test(gw.out), 15000, 'rtcgate ready');
  const snapshot = async () => {
    const before = (peer.out.match(/^snapshot /gm) || []).length;
    peer.kill('SIGUSR2');
    await waitFor(() => (peer.out.match(/^snapshot /gm) || []).length > before, 5000, 'the RTP peer snapshot');
    return JSON.parse([...peer.out.matchAll(/^snapshot (\{.*\})$/gm)].pop()[1]);
  };

  const browser = await launchBrowser({ toneHz: 440, reachable: [GW_PUBLIC, TURN],
    executable: lab.wrapper(tmp, 'browser', process.env.RTCGATE_CHROMIUM || '/usr/bin/chromium') });
  let before, after, second1, second2, tone1, tone2, resumedAt = 0, restartedAt = 0, g1, g2, setupMs;
  try {
    const page = await run.openPage(browser);
    await page.addScriptTag({ content: TONE_DETECTOR + CALL_CONFIRMED + PAGE_HELPERS });
    setupMs = await page.evaluate(async (gateway) => {
      const client = await window.__rtcgateRegistered({ gateway, user: '1001', password: 'demo-1001' });
      const { session, setupMs } = await window.__rtcgateCall(client, '5000');
      window.__client = client;
      window.__call = session;
      const pc = session.connection;
      const until = performance.now() + 8000;
      while (!['connected', 'completed'].includes(pc.iceConnectionState) && performance.now() < until) {
        await new Promise((res) => setTimeout(res, 50));
      }
      return setupMs;
    }, `wss://${GW_PUBLIC}:8443`);
    // inbound-rtp exists once the first packet arrived.
    await page.evaluate(async () => {
      for (let i = 0; i < 50 && !((await window.__lab.stats()).inbound > 0); ++i) await new Promise((r) => setTimeout(r, 100));
    });
    before = await page.evaluate(() => window.__lab.stats());
    second1 = await page.evaluate(() => window.__lab.second());
    tone1 = await page.evaluate(() => window.__lab.tone());
    g1 = await snapshot();

    // coturn dies and comes back on the same address and port, without any of its allocations.
    turn.kill('SIGTERM');
    await Promise.race([turn.exited, new Promise((res) => setTimeout(res, 5000))]);
    if (turn.exitCode === null) turn.kill('SIGKILL');
    await turn.exited;
    turn = startTurn();
    await waitFor(() => /Total General servers/.test(turn.out), 10000, 'coturn again');
    restartedAt = Date.now();
    resumedAt = await page.evaluate(() => window.__lab.resumed(30000));
    after = await page.evaluate(() => window.__lab.stats());
    second2 = await page.evaluate(() => window.__lab.second());
    tone2 = await page.evaluate(() => window.__lab.tone());
    await snapshot();  // from here on the peer listens for the tone afresh
    await new Promise((res) => setTimeout(res, 1500));
    g2 = await snapshot();
    await page.evaluate(async () => {
      window.__call.terminate();
      await new Promise((res) => setTimeout(res, 300));
      window.__client.stop();
    });
  } finally {
    await browser.close();
  }
  const admin = (gw.out.match(/admin: (http:\/\/127\.0\.0\.1:\d+\/)/) || [])[1];
  const [curlCmd, curlArgs] = lab.exec('gw', 'curl', ['-sS', '--max-time', '5', `${admin}metrics`]);
  const metrics = execFileSync(curlCmd, curlArgs).toString();
  const metric = (name) => Number((metrics.match(new RegExp(`^${name} (\\d+)$`, 'm')) || [0, 0])[1]);
  const sippCode = await Promise.race([sipp.exited, new Promise((res) => setTimeout(() => res('timeout'), 10000))]);
  // Direct UDP from the browser's host to rtcgate's ICE ports (what a host candidate pair would need).
  const [pc, pa] = lab.exec('browser', process.execPath, ['-e', `const s = require('dgram').createSocket('udp4');
s.send('probe', 30000, '${GW_PUBLIC}', () => s.send('probe', 30001, '${GW_PUBLIC}', () => s.close()));`]);
  execFileSync(pc, pa);
  const [nftCmd, nftArgs] = lab.exec('gw', NFT, ['list', 'ruleset']);
  const dropped = Number((/counter packets (\d+)/.exec(execFileSync(nftCmd, nftArgs).toString()) || [0, 0])[1]);

  const first = candidatesOf(before.answer);
  check(`rtcgate's SDP to the browser offers one candidate: a relay on coturn's ${TURN}`,
    first.length === 1 && first[0] === `${TURN} relay`, first.join(', '));
  const connectedOn = [...gw.out.matchAll(/ICE connected: (\S+) (\S+) <-> (\S+) (\S+)/g)].map((x) => `${x[1]} ${x[2]} <-> ${x[3]} ${x[4]}`);
  check(`rtcgate's selected pair is its relay on ${TURN}, first and after the restart`,
    connectedOn.length >= 2 && connectedOn.every((p) => p.startsWith(`relay ${TURN}:`)) &&
    connectedOn[0].split(' ')[1] !== connectedOn[connectedOn.length - 1].split(' ')[1], connectedOn.join('; '));
  check('the browser\'s selected pair before the loss', !!before.pair, before.pair);
  check('audio both ways before the loss: the browser received and sent >= 40 packets in one second',
    second1.inbound >= 40 && second1.outbound >= 40, `in ${second1.inbound}, out ${second1.outbound}`);
  check('the browser hears Genesys\'s 1 kHz before the loss', Math.abs(tone1.hz - 1000) <= 20, `${tone1.hz} Hz`);
  check('Genesys hears the browser\'s 440 Hz before the loss', Math.abs(g1.hz - 440) <= 20, `${g1.hz} Hz, ${g1.received} received`);
  check('direct UDP to rtcgate\'s ICE ports was really dropped (only the relay path works)', dropped >= 1, `${dropped} dropped`);

  const again = candidatesOf(after.answer);
  check('the browser got rtcgate\'s ICE restart: new ice-ufrag, one relay candidate on coturn, same fingerprint',
    ufragOf(after.answer) !== ufragOf(before.answer) && again.length === 1 && again[0] === `${TURN} relay` &&
    fingerprintOf(after.answer) === fingerprintOf(before.answer), `${ufragOf(before.answer)} -> ${ufragOf(after.answer)}, ${again.join(', ')}`);
  check('audio resumed by itself after coturn restarted', resumedAt > 0, resumedAt ? `${resumedAt - restartedAt} ms` : 'never');
  check('the browser\'s selected pair after the restart is a new one', !!after.pair && after.pair !== before.pair, after.pair);
  check('audio both ways after recovery: the browser received and sent >= 40 packets in one second',
    second2.inbound >= 40 && second2.outbound >= 40, `in ${second2.inbound}, out ${second2.outbound}`);
  check('the browser hears Genesys\'s 1 kHz after recovery', Math.abs(tone2.hz - 1000) <= 20, `${tone2.hz} Hz`);
  check('Genesys hears the browser\'s 440 Hz again after recovery (>= 40 packets more in 1.5 s)',
    Math.abs(g2.hz - 440) <= 20 && g2.received - g1.received >= 40, `${g2.hz} Hz, ${g2.received - g1.received} more`);
  const lost = gw.out.indexOf('TURN allocation lost');
  const offered = gw.out.indexOf('re-INVITE to the browser: ICE restart');
  const answered = gw.out.indexOf('the browser answered the ICE restart');
  const recreated = gw.out.indexOf('TURN allocation re-created');
  check('rtcgate logged the loss, the re-INVITE, the answer and the recovery, once each and in that order',
    lost >= 0 && lost < offered && offered < answered && answered < recreated &&
    (gw.out.match(/TURN allocation lost/g) || []).length === 1 && (gw.out.match(/TURN allocation re-created/g) || []).length === 1,
    `${lost} < ${offered} < ${answered} < ${recreated}`);
  const m = ['rtcgate_turn_allocations_lost_total', 'rtcgate_ice_restarts_turn_lost_total',
    'rtcgate_turn_allocations_recreated_total', 'rtcgate_turn_recovery_failed_total'].map(metric);
  check('/metrics: lost 1, ICE restarts 1, re-created 1, failed 0', m.join(' ') === '1 1 1 0', m.join(' '));
  // 97: the scenario's stop_now after the BYE's 200; a re-INVITE toward Genesys would be an unexpected message.
  check('Genesys (SIPp) saw the call answered and ended by BYE, nothing in between', sippCode === 97, `sipp exit ${sippCode}`);

  if (process.env.RTCGATE_LAB_DUMP) fs.writeFileSync(process.env.RTCGATE_LAB_DUMP, gw.out);
  if (!run.checks.every(Boolean)) {
    const ice = gw.out.split('\n').filter((l) => /\[(ice|session|dtls|wss)\]/.test(l) && !/new candidate|gathered/.test(l));
    console.log(`--- rtcgate (ice, session, dtls, wss):\n${ice.slice(-120).join('\n')}`);
    console.log(`--- the browser's last local description:\n${after ? after.offer : ''}`);
    console.log(`--- coturn after its restart:\n${turn.out.split('\n').filter((l) => /session|PERMISSION|ALLOCATE|peer/i.test(l)).slice(-40).join('\n')}`);
  }
  fs.mkdirSync(benchDir, { recursive: true });
  const line = `${new Date().toISOString()} turn-only lab_setup_ms=${labMs} (5 namespaces, nftables masquerade, ICE ports ` +
    `open to coturn only) call_setup_ms=${setupMs} (call() to confirmed) turn_restart_to_audio_ms=${
      resumedAt ? resumedAt - restartedAt : 'never'} (coturn up again to the first second with >= 40 packets at the browser)\n`;
  fs.appendFileSync(path.join(benchDir, 'netlab.txt'), line);
  console.log(`measured: ${line.trim()}`);
}

run.run(main);

// SPDX-License-Identifier: Apache-2.0
// Issue 12, the network lab: a whole call (Chromium + rtcgate-client.js ⇄ rtcgate ⇄ SIPp as Genesys) across
// network namespaces built by tests/js/lib/netlab.js, each program on its own host of a realistic topology.
//   dmz: rtcgate is a DMZ host: public side pub0 203.0.113.10/24 (the browser at 203.0.113.50), LAN side lan0
//     10.20.0.5/24 (SIPp as Genesys and its media at 10.20.0.9), and docker0 172.17.0.1/16 plus a compose bridge
//     br-1a2b3c4d5e6f 172.18.0.1/16 as on a real Docker host. Default candidate policy plus deny_interfaces [lan*]:
//     rtcgate's SDP to the browser must carry 203.0.113.10 and nothing else (no 172.17/172.18, no 10.20), ICE must
//     pair 203.0.113.50 with 203.0.113.10 and audio flow both ways (440 Hz heard by Genesys, 1 kHz by the browser).
//   home-nat: the browser is at 192.168.1.10 behind a home router (nftables masquerade to 198.51.100.2); rtcgate's
//     public side is 198.51.100.10/24. Audio both ways, and the browser's address as rtcgate sees it (its selected
//     pair, debug log of the ice component) must be the NAT's public 198.51.100.2, not 192.168.1.10.
//   nat1to1: rtcgate's host has only the private 10.30.0.10/24 on its public side, behind a cloud-style 1:1 NAT
//     router (nftables dnat/snat 203.0.113.20 <-> 10.30.0.10); ice.candidates.nat_1to1 advertises 203.0.113.20.
//     The browser at 203.0.113.50 dials wss://203.0.113.20: rtcgate's SDP must carry 203.0.113.20 only (never
//     10.30.x), ICE must pair 203.0.113.50 with 203.0.113.20 and audio flow both ways.
//   symmetric-nat-relay: home-nat's topology with a symmetric NAT (masquerade fully-random: a new port for every
//     destination) and coturn on rtcgate's host (198.51.100.10:3478, TURN REST credentials from rtcgate's
//     /rtcgate/ice-servers); the page is relay-only. The browser's selected pair must be its relay candidate
//     (coturn's 198.51.100.10), rtcgate must see the browser at that relay address, audio both ways.
//   unreachable-stun: dmz's topology, but rtcgate's ice.stun_servers and the page's ICE servers (browser.ice_servers)
//     name 203.0.113.99:3478, whose host silently drops UDP to it (nftables). The call must still set up with host
//     candidates; rtcgate's /metrics must count the gathering as ended by its deadline with STUN server 0
//     unanswered (and none answered), the page must offer no srflx. Call setup time to <bench dir>/netlab.txt.
//   unreachable-turn: the same with a TURN server instead (rtcgate's ice.turn_servers with TURN REST credentials and
//     the page's turn: URL name 203.0.113.98:3478, dropped): TURN server 0 counted unanswered, no relay anywhere.
// Skipped (exit 77) when not root, when `ip netns` does not work, or (home-nat) without nft.
// The lab's setup time and the call's setup time go to <bench dir>/netlab.txt.
// Usage: node netlab_e2e.js <rtcgate binary> <bench dir> <dmz|home-nat|nat1to1|symmetric-nat-relay|unreachable-stun|unreachable-turn>
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { waitFor } = require(path.join(__dirname, '../js/lib/process'));
const { LabRun } = require(path.join(__dirname, '../js/lib/netlab_run'));

const [binary, benchDir, mode] = process.argv.slice(2);
if (!binary || !benchDir || !['dmz', 'home-nat', 'nat1to1', 'symmetric-nat-relay', 'unreachable-stun', 'unreachable-turn'].includes(mode)) {
  console.error('usage: node netlab_e2e.js <rtcgate binary> <bench dir> <dmz|home-nat|nat1to1|symmetric-nat-relay|unreachable-stun|unreachable-turn>');
  process.exit(2);
}
const SKIP = 77;
const run = LabRun.create({ nat: mode !== 'dmz' });
const { launchBrowser } = require(path.join(__dirname, '../js/lib/browser'));

const { tmp, lab } = run;
const check = (...a) => run.check(...a);
const start = (...a) => run.start(...a);
const GENESYS = '10.20.0.9';
const GW_LAN = '10.20.0.5';
// GW_PUBLIC: where the browser reaches rtcgate; GW_LISTEN: rtcgate's own address there (they differ behind 1:1 NAT).
const RELAY = mode === 'symmetric-nat-relay';
const DEAD_STUN = mode === 'unreachable-stun' ? '203.0.113.99' : '';  // on the browser's host, behind a drop rule
const DEAD_TURN = mode === 'unreachable-turn' ? '203.0.113.98' : '';  // the same for a TURN server
const DEAD = DEAD_STUN || DEAD_TURN;
const DMZ = mode === 'dmz' || !!DEAD;
const HOME = mode === 'home-nat' || RELAY;  // the browser behind a home router
const GW_PUBLIC = { dmz: '203.0.113.10', 'unreachable-stun': '203.0.113.10', 'unreachable-turn': '203.0.113.10', 'home-nat': '198.51.100.10', nat1to1: '203.0.113.20',
  'symmetric-nat-relay': '198.51.100.10' }[mode];
const GW_LISTEN = mode === 'nat1to1' ? '10.30.0.10' : GW_PUBLIC;
const NAT_PUBLIC = '198.51.100.2';
const BROWSER = HOME ? '192.168.1.10' : '203.0.113.50';
const TURN_SECRET = 'netlab-turn-secret';
const TURN_PORTS = [40000, 40099];  // coturn's relay ports, apart from rtcgate's ICE ports

function build() {
  for (const n of ['gw', 'genesys', 'browser']) lab.addNamespace(n);
  lab.link(['gw', 'lan0', `${GW_LAN}/24`], ['genesys', 'eth0', `${GENESYS}/24`]);
  if (DMZ) {
    lab.link(['gw', 'pub0', `${GW_PUBLIC}/24`], ['browser', 'eth0', `${BROWSER}/24`]);
    lab.bridge('gw', 'docker0', '172.17.0.1/16');
    lab.bridge('gw', 'br-1a2b3c4d5e6f', '172.18.0.1/16');
    // On lo, not eth0: still answered by ARP (arp_ignore 0), but not a host candidate of the browser's.
    if (DEAD) lab.blackhole('browser', 'lo', DEAD, 3478);
  } else if (mode === 'nat1to1') {
    lab.addNamespace('router');
    lab.link(['gw', 'pub0', `${GW_LISTEN}/24`], ['router', 'int0', '10.30.0.1/24']);
    lab.link(['router', 'wan0', '203.0.113.1/24'], ['browser', 'eth0', `${BROWSER}/24`]);
    // 203.0.113.0/24 is not on rtcgate's host: only through the router, whose snat makes it 203.0.113.20.
    lab.route('gw', ['default', 'via', '10.30.0.1']);
    lab.nat1to1Router('router', { outIf: 'wan0', publicAddr: GW_PUBLIC, privateAddr: GW_LISTEN });
  } else {
    lab.addNamespace('router');
    lab.link(['gw', 'pub0', `${GW_PUBLIC}/24`], ['router', 'wan0', `${NAT_PUBLIC}/24`]);
    lab.link(['router', 'home0', '192.168.1.1/24'], ['browser', 'eth0', `${BROWSER}/24`]);
    // The home network's only way out is its router: 198.51.100.0/24 is reachable from 192.168.1.10 by NAT alone.
    lab.route('browser', ['default', 'via', '192.168.1.1']);
    lab.natRouter('router', 'wan0', { symmetric: RELAY });
  }
}

async function main() {
  const t0 = performance.now();
  build();
  const labMs = Math.round(performance.now() - t0);
  console.log(`lab built in ${labMs} ms: ${lab.names.join(' ')}`);
  const gwAddrs = lab.ip('gw', ['-4', '-o', 'addr', 'show']);
  console.log(gwAddrs.trim());

  const cfg = run.writeConfig({ wss: GW_LISTEN, lan: GW_LAN, genesys: GENESYS,
    ice: `${DEAD_STUN ? `stun_servers: ["${DEAD_STUN}:3478"], ` : ''}${DEAD_TURN ? `turn_servers: [{host: ${DEAD_TURN
    }, port: 3478, transport: udp, shared_secret: ${TURN_SECRET}}], ` : ''}candidates: {deny_interfaces: ["lan*"]${
    mode === 'nat1to1' ? `, nat_1to1: [{local: ${GW_LISTEN}, advertised: ${GW_PUBLIC}}]` : ''}}`,
    browser: `gathering_timeout_ms: ${RELAY ? `5000, ice_servers: ["turn:${GW_PUBLIC}:3478?transport=udp"], turn_shared_secret: ${
    TURN_SECRET}` : `1000${DEAD_STUN ? `, ice_servers: ["stun:${DEAD_STUN}:3478"]` : ''}${DEAD_TURN
    ? `, ice_servers: ["turn:${DEAD_TURN}:3478?transport=udp"], turn_shared_secret: ${TURN_SECRET}` : ''}`}` });
  const peer = start('genesys', 'rtp-peer', process.execPath, [path.join(__dirname, 'netlab_rtp_peer.js'), GENESYS, '4000', '1000']);
  const sipp = start('genesys', 'sipp', 'sipp', ['-sf', path.join(__dirname, 'scenarios/uas-answer-external-media.xml'),
    '-i', GENESYS, '-p', '5060', '-key', 'rtpport', '4000', '-timeout', '30s', '-timeout_error', '-nostdin'], { cwd: tmp });
  const gw = start('gw', 'rtcgate', path.resolve(binary), ['--config', cfg]);
  if (RELAY) {
    const turn = start('gw', 'turnserver', 'turnserver', ['-n', `--listening-ip=${GW_PUBLIC}`, `--relay-ip=${GW_PUBLIC}`,
      '--listening-port=3478', '--use-auth-secret', `--static-auth-secret=${TURN_SECRET}`, '--realm=rtcgate.test',
      '--no-tls', '--no-dtls', '--no-cli', `--min-port=${TURN_PORTS[0]}`, `--max-port=${TURN_PORTS[1]}`,
      '--log-file=stdout', '--simple-log', '--pidfile', path.join(tmp, 'turnserver.pid')]);
    await waitFor(() => /Total General servers/.test(turn.out), 10000, 'coturn');
  }
  await waitFor(() => /rtp peer listening/.test(peer.out), 10000, 'the RTP peer');
  await waitFor(() => new RegExp(`WSS listening on wss://${GW_LISTEN.replace(/\./g, '\\.')}:8443`).test(gw.out), 15000, 'rtcgate WSS');
  await waitFor(() => /ready: SIP toward Genesys/.test(gw.out), 15000, 'rtcgate ready');

  // The NAT's behaviour, measured rather than read from its rules: one socket of the browser's host sends to two
  // ports of rtcgate's host; a symmetric NAT shows them two different source ports (an ordinary masquerade, one).
  let natPorts = [];
  if (RELAY) {
    const probe = start('gw', 'nat-probe', process.execPath, ['-e', `const d = require('dgram'); const seen = [];
for (const p of [41000, 41001]) { const s = d.createSocket('udp4'); s.on('message', (m, r) => { seen.push(r.port);
  if (seen.length === 2) console.log('mapped ports ' + seen.join(' ')); }); s.bind(p, '${GW_PUBLIC}'); }
console.log('probe listening'); setTimeout(() => process.exit(0), 10000);`]);
    await waitFor(() => /probe listening/.test(probe.out), 5000, 'the NAT probe');
    const [c, a] = lab.exec('browser', process.execPath, ['-e', `const s = require('dgram').createSocket('udp4');
s.bind(45000, () => { s.send('a', 41000, '${GW_PUBLIC}', () => s.send('b', 41001, '${GW_PUBLIC}', () => s.close())); });`]);
    execFileSync(c, a);
    await waitFor(() => /mapped ports \d+ \d+/.test(probe.out), 5000, 'the NAT probe\'s two datagrams');
    natPorts = /mapped ports (\d+) (\d+)/.exec(probe.out).slice(1);
  }

  const browser = await launchBrowser({ toneHz: 440, reachable: [GW_PUBLIC],
    executable: lab.wrapper(tmp, 'browser', process.env.RTCGATE_CHROMIUM || '/usr/bin/chromium') });
  let r;
  try {
    const page = await run.openPage(browser);
    const { TONE_DETECTOR, CALL_CONFIRMED } = require(path.join(__dirname, '../js/lib/browser'));
    await page.addScriptTag({ content: TONE_DETECTOR + CALL_CONFIRMED });
    r = await page.evaluate(async ([gateway, iceTransportPolicy]) => {
      const client = await window.__rtcgateRegistered({ gateway, user: '1001', password: 'demo-1001', iceTransportPolicy });
      const { session, setupMs } = await window.__rtcgateCall(client, '5000');
      const out = { setupMs };
      const pc = session.connection;
      const until = performance.now() + 8000;
      while (!['connected', 'completed'].includes(pc.iceConnectionState) && performance.now() < until) {
        await new Promise((res) => setTimeout(res, 50));
      }
      out.ice = pc.iceConnectionState;
      out.iceServers = client.ice.iceServers.map((s) => [].concat(s.urls).join(' ')).join(',');
      out.answer = pc.remoteDescription ? pc.remoteDescription.sdp : '';
      out.offer = pc.localDescription ? pc.localDescription.sdp : '';
      await new Promise((res) => setTimeout(res, 1000));
      out.tone = await window.__rtcgateTone.detect(new MediaStream([pc.getReceivers()[0].track]), 2500);
      Object.assign(out, await window.__rtcgateMediaStats(pc));
      session.terminate();
      await new Promise((res) => setTimeout(res, 300));
      client.stop();
      return out;
    }, [`wss://${GW_PUBLIC}:8443`, RELAY ? 'relay' : 'all']);
  } finally {
    await browser.close();
  }

  let metrics = '';
  if (DEAD) {
    const admin = (gw.out.match(/admin: (http:\/\/127\.0\.0\.1:\d+\/)/) || [])[1];
    const [curlCmd, curlArgs] = lab.exec('gw', 'curl', ['-sS', '--max-time', '5', `${admin}metrics`]);
    metrics = execFileSync(curlCmd, curlArgs).toString();
    console.log(metrics.split('\n').filter((l) => /rtcgate_ice_(gathering|server)/.test(l)).join('\n'));
  }
  const sippCode = await Promise.race([sipp.exited, new Promise((res) => setTimeout(() => res('timeout'), 10000))]);
  peer.kill('SIGTERM');
  await Promise.race([peer.exited, new Promise((res) => setTimeout(res, 3000))]);
  const genesys = JSON.parse((peer.out.match(/^\{.*\}$/m) || ['{}'])[0]);

  const candidates = [...r.answer.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+) typ (\S+)/gm)].map((m) => `${m[1]} ${m[3]}`);
  check(`rtcgate's SDP to the browser offers ${GW_PUBLIC} and nothing else`,
    candidates.length > 0 && candidates.every((c) => c === `${GW_PUBLIC} host`), candidates.join(', '));
  if (DMZ) {
    check('the DMZ host really had docker0, the compose bridge and the LAN (what the policy had to hide)',
      /docker0\s+inet 172\.17\.0\.1\/16/.test(gwAddrs) && /br-1a2b3c4d5e6f\s+inet 172\.18\.0\.1\/16/.test(gwAddrs) &&
      /lan0\s+inet 10\.20\.0\.5\/24/.test(gwAddrs));
    check('no 172.17/172.18/10.20 address anywhere in the answer', !/(172\.1[78]\.|10\.20\.)/.test(r.answer));
  }
  if (mode === 'nat1to1') {
    check(`rtcgate's host has only ${GW_LISTEN} on its public side (the public address is the router's)`,
      /pub0\s+inet 10\.30\.0\.10\/24/.test(gwAddrs) && !gwAddrs.includes('203.0.113.'));
    check('no 10.30.x address anywhere in the answer (c= line included)', !/10\.30\./.test(r.answer));
  }
  if (DEAD) {
    // A series absent from /metrics reads as 0.
    const metric = (name) => Number((metrics.match(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm')) || [0, 0])[1]);
    const server = `rtcgate_ice_server_unanswered_total{type="${DEAD_STUN ? 'stun' : 'turn'}",index="0"}`;
    const m = ['rtcgate_ice_gathering_deadline_total', 'rtcgate_ice_gathering_answered_total', server].map(metric);
    check(`rtcgate's gathering ended at its deadline with ${DEAD_STUN ? 'STUN' : 'TURN'} server 0 unanswered, none answered (/metrics)`,
      m[0] >= 1 && m[2] >= 1 && m[1] === 0, `deadline ${m[0]}, answered ${m[1]}, ${server} ${m[2]}`);
    check('the black hole was silent: no gathering counted as unreachable (no ICMP came back)',
      metric('rtcgate_ice_gathering_unreachable_total') === 0, metric('rtcgate_ice_gathering_unreachable_total'));
    check('the page offered no srflx or relay candidate (its STUN/TURN server never answered)',
      !/typ (srflx|relay)/.test(r.offer));
    check('rtcgate offered no relay candidate', !/typ relay/.test(r.answer));
    const [nftCmd, nftArgs] = lab.exec('browser', 'nft', ['list', 'ruleset']);
    const eaten = Number((/counter packets (\d+)/.exec(execFileSync(nftCmd, nftArgs).toString()) || [0, 0])[1]);
    check(`${DEAD_STUN ? 'STUN' : 'TURN'} requests really went to ${DEAD}:3478 and were dropped there`, eaten >= 2,
      `${eaten} dropped`);
    const told = DEAD_STUN ? `stun:${DEAD}:3478` : `turn:${DEAD}:3478?transport=udp`;
    check(`the page was told to use ${told}`, r.offer !== '' && r.iceServers === told, r.iceServers);
  }
  check('ICE connected', ['connected', 'completed'].includes(r.ice), r.ice);
  if (RELAY) {
    const offered = [...r.offer.matchAll(/^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ (\S+)/gmi)].map((m) => `${m[1]} ${m[3]}`);
    check(`the relay-only browser offers only relay candidates on coturn's ${GW_PUBLIC}`,
      offered.length > 0 && offered.every((c) => c === `${GW_PUBLIC} relay`), offered.join(', '));
    check('the router is symmetric: one browser socket (port 45000) got a different public port per destination',
      natPorts.length === 2 && natPorts[0] !== natPorts[1], natPorts.join(' '));
  } else {
    const offered = [...r.offer.matchAll(/^a=candidate:\S+ \d+ udp \d+ (\S+) \d+ typ host/gmi)].map((m) => m[1]);
    check(`the browser's own host candidate is ${BROWSER}`, offered.includes(BROWSER), offered.join(', '));
  }
  const seen = gw.out.match(/selected pair \S+ \S+ -> (\S+) ([\d.]+):(\d+)/) || [];
  if (!HOME) {
    check(`the browser's selected pair: host ${BROWSER} -> host ${GW_PUBLIC}`,
      new RegExp(`^host ${BROWSER}:\\d+ -> host ${GW_PUBLIC}:\\d+$`).test(r.pair || ''), r.pair);
    check(`rtcgate sees the browser at ${BROWSER}`, seen[2] === BROWSER, seen[0]);
  } else if (RELAY) {
    const relayPort = new RegExp(`^relay ${GW_PUBLIC}:(\\d+) -> host ${GW_PUBLIC}:\\d+$`).exec(r.pair || '');
    check(`the browser's selected pair: relay ${GW_PUBLIC} (coturn) -> host ${GW_PUBLIC}`,
      !!relayPort && relayPort[1] >= TURN_PORTS[0] && relayPort[1] <= TURN_PORTS[1], r.pair);
    check(`rtcgate sees the browser at coturn's relay address, never at ${BROWSER} or ${NAT_PUBLIC}`,
      seen[1] === 'relay' && seen[2] === GW_PUBLIC && !!relayPort && seen[3] === relayPort[1] && !gw.out.includes(` ${BROWSER}:`) &&
      !gw.out.includes(` ${NAT_PUBLIC}:`), seen[0]);
  } else {
    // Behind the NAT the browser learns its public mapping from rtcgate's Binding response (XOR-MAPPED-ADDRESS):
    // its side of the pair is peer-reflexive 198.51.100.2, at the very port rtcgate sees.
    check(`the browser's selected pair: prflx ${NAT_PUBLIC} -> host ${GW_PUBLIC}`,
      new RegExp(`^prflx ${NAT_PUBLIC}:${seen[3]} -> host ${GW_PUBLIC}:\\d+$`).test(r.pair || ''), r.pair);
    check(`rtcgate sees the browser at the NAT's public address ${NAT_PUBLIC} (peer-reflexive), not ${BROWSER}`,
      seen[1] === 'prflx' && seen[2] === NAT_PUBLIC && !gw.out.includes(`-> host ${BROWSER}`), seen[0]);
  }
  check('the browser hears Genesys\'s 1 kHz', Math.abs(r.tone.hz - 1000) <= 20, `${r.tone.hz} Hz, ${r.tone.frames} frames`);
  check('the browser received >= 100 packets and sent >= 100', r.inbound >= 100 && r.outbound >= 100,
    `in ${r.inbound}, out ${r.outbound}`);
  check('Genesys hears the browser\'s 440 Hz', Math.abs(genesys.hz - 440) <= 20, `${genesys.hz} Hz`);
  check(`Genesys received >= 100 PCMU packets from rtcgate's ${GW_LAN} and sent >= 100`,
    genesys.received >= 100 && genesys.sent >= 100 && (genesys.from || '').startsWith(`${GW_LAN}:`),
    `received ${genesys.received} from ${genesys.from}, sent ${genesys.sent}`);
  // 97: the scenario's stop_now after the BYE's 200 (SIPp's "exit on internal command").
  check('Genesys (SIPp) saw the call answered and ended by BYE', sippCode === 97, `sipp exit ${sippCode}`);

  fs.mkdirSync(benchDir, { recursive: true });
  const line = `${new Date().toISOString()} ${mode} lab_setup_ms=${labMs} (${lab.names.length} namespaces${
    { 'home-nat': ', nftables masquerade', nat1to1: ', nftables 1:1 dnat/snat',
      'symmetric-nat-relay': ', nftables masquerade fully-random, coturn relay',
      'unreachable-stun': ', nftables drop of the STUN server',
      'unreachable-turn': ', nftables drop of the TURN server' }[mode] || ''}) call_setup_ms=${r.setupMs} (call() to confirmed)\n`;
  fs.appendFileSync(path.join(benchDir, 'netlab.txt'), line);
  console.log(`measured: ${line.trim()}`);
}

run.run(main);

// SPDX-License-Identifier: Apache-2.0
// Issue 14, scale-out: two rtcgate nodes behind HAProxy (WSS, TLS passed through, health by /readyz) and Kamailio
// (the Genesys side's registrar with one contact per DN, and its dispatcher probing the nodes with OPTIONS), in the
// network lab of tests/js/lib/netlab.js. The configurations are rendered from config/examples/scale-out/.
//   public segment (bridge in lb): HAProxy 203.0.113.10:8443, browser 203.0.113.50, node1 203.0.113.11,
//     node2 203.0.113.12 (WSS 8443, admin 8089: HAProxy's /readyz checks; ICE straight to the node).
//   LAN segment (bridge in genesys): Kamailio 10.20.0.9:5060 (registrar + dispatcher), SIPp UAC/UAS and the RTP
//     peers at 10.20.0.9, node1 10.20.0.11:5070, node2 10.20.0.12:5070 (each node's SIP Contact for its DNs).
// Chromium runs agents 1001-1005 (rtcgate-client.js: JsSIP, its own reconnection) on one page, all through HAProxy.
//   (a) 1001-1004 spread over both nodes, each DN registered at Kamailio with the Contact of its agent's node;
//       Genesys calls an agent on each node and an agent on each node calls Genesys: audio packets both ways,
//       carried by the node that holds the agent.
//   (b) node1 SIGKILLed: its agents reconnect through HAProxy to node2, re-register, node2 registers their DNs
//       (the registrar's single contact per DN is replaced); measured: kill to every DN moved. A new call from
//       Genesys to a moved DN reaches node2.
//   (c) node1 started again; node2 drained (POST /api/v1/drain) with a call in progress: /readyz 503, HAProxy
//       marks it down, the dispatcher marks it inactive (OPTIONS 503), a new agent lands on node1, the call ends
//       normally (Genesys's BYE answered, nothing dropped), node2 exits 0, its agents move to node1.
// Skipped (exit 77) when not root, without `ip netns`, or without haproxy/kamailio (Debian packages).
// Figures go to <bench dir>/scaleout.txt.
// Usage: node scaleout_e2e.js <rtcgate binary> <bench dir>
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { waitFor } = require(path.join(__dirname, '../js/lib/process'));
const { LabRun } = require(path.join(__dirname, '../js/lib/netlab_run'));

const [binary, benchDir] = process.argv.slice(2);
if (!binary || !benchDir) {
  console.error('usage: node scaleout_e2e.js <rtcgate binary> <bench dir>');
  process.exit(2);
}
for (const tool of ['/usr/sbin/haproxy', '/usr/sbin/kamailio', '/usr/sbin/kamcmd']) {
  if (!fs.existsSync(tool)) {
    console.log(`SKIPPED: ${tool} is not installed (Debian packages haproxy and kamailio: scripts/setup.sh)`);
    process.exit(77);
  }
}
const run = LabRun.create({ nat: false });
const { launchBrowser } = require(path.join(__dirname, '../js/lib/browser'));
const { tmp, lab } = run;
const check = (...a) => run.check(...a);

const ROOT = path.join(__dirname, '../..');
const EXAMPLES = path.join(ROOT, 'config/examples/scale-out');
const PUBLIC = '203.0.113.10';
const BROWSER = '203.0.113.50';
const GENESYS = '10.20.0.9';
const NODES = { node1: { pub: '203.0.113.11', lan: '10.20.0.11' }, node2: { pub: '203.0.113.12', lan: '10.20.0.12' } };
const TOKEN = 'scaleout-admin-token-0123456789';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function build() {
  for (const n of ['lb', 'browser', 'node1', 'node2', 'genesys']) lab.addNamespace(n);
  lab.bridge('lb', 'pubbr', `${PUBLIC}/24`);
  lab.bridge('genesys', 'lanbr', `${GENESYS}/24`);
  lab.attach(['lb', 'pubbr', 'p-browser'], ['browser', 'eth0', `${BROWSER}/24`]);
  for (const [n, a] of Object.entries(NODES)) {
    lab.attach(['lb', 'pubbr', `p-${n}`], [n, 'pub0', `${a.pub}/24`]);
    lab.attach(['genesys', 'lanbr', `l-${n}`], [n, 'lan0', `${a.lan}/24`]);
  }
}

function render(template, vars) {
  let s = fs.readFileSync(path.join(EXAMPLES, template), 'utf8');
  for (const [k, v] of Object.entries(vars)) s = s.split(`@${k}@`).join(v);
  const file = path.join(tmp, template.replace(/\.in$/, ''));
  fs.writeFileSync(file, s);
  return file;
}

// `cmd args` inside namespace `ns`, synchronously (curl, kamcmd): its output, '' when it failed.
function inNs(ns, cmd, args) {
  const [c, a] = lab.exec(ns, cmd, args);
  try { return execFileSync(c, a, { timeout: 5000 }).toString(); } catch (e) { return String(e.stdout || ''); }
}
function api(node, method, route) {
  const out = inNs('lb', 'curl', ['-sS', '--max-time', '3', '-X', method, '-H', `Authorization: Bearer ${TOKEN}`,
    '-w', '\n%{http_code}', `http://${NODES[node].pub}:8089${route}`]);
  const i = out.lastIndexOf('\n');
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
}
const json = (r) => { try { return JSON.parse(r.body); } catch (e) { return {}; } };
// The node each connected agent is on: { user: node }.
function agentNodes() {
  const where = {};
  for (const n of Object.keys(NODES)) {
    for (const a of json(api(n, 'GET', '/api/v1/agents')).agents || []) if (a.websocket_connected && a.registered) where[a.user] = n;
  }
  return where;
}
// The LAN address in the registrar's contact for `dn` ('' when none; 'several' when more than one).
function registeredAt(dn) {
  const out = inNs('genesys', 'kamcmd', ['-s', `unix:${tmp}/kamailio_ctl`, 'ul.lookup', 'location', `s:${dn}`]);  // s: a string, not a number
  const hosts = [...out.matchAll(/Address: sip:\S+@([\d.]+):5070/g)].map((m) => m[1]);
  return hosts.length > 1 ? 'several' : (hosts[0] || '');
}
// Dispatcher flags of a node ('AP' active, 'IP' inactive, probing).
function dispatcherFlags(node) {
  const out = inNs('genesys', 'kamcmd', ['-s', `unix:${tmp}/kamailio_ctl`, 'dispatcher.list']);
  const m = new RegExp(`URI: sip:${NODES[node].lan.replace(/\./g, '\\.')}:5070\\s+FLAGS: (\\w+)`).exec(out);
  return m ? m[1] : '';
}
// HAProxy's view of a node: UP, DOWN, ... (show stat over its stats socket).
function haproxy(cmd) {
  return new Promise((resolve) => {
    let out = '';
    const s = net.createConnection(path.join(tmp, 'haproxy.sock'), () => s.end(`${cmd}\n`));
    s.on('data', (d) => { out += d; });
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(''));
  });
}
async function lbStatus(node) {
  const line = (await haproxy('show stat')).split('\n').find((l) => l.startsWith(`rtcgate,${node},`));
  return line ? line.split(',')[17] : '';
}
// Polls async/sync `pred` every 100 ms for at most `ms`: its first truthy value, or null.
async function poll(pred, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const v = await pred();
    if (v) return v;
    await sleep(100);
  }
  return null;
}

const nodes = {};
function startNode(n) {
  nodes[n] = run.start(n, `rtcgate-${n}`, path.resolve(binary), ['--config', path.join(tmp, `${n}.yaml`)]);
  return nodes[n];
}
async function nodeReady(n) {
  await waitFor(() => /ready: SIP toward Genesys/.test(nodes[n].out), 15000, `${n} ready`);
}
function rtpPeer(port) {
  return run.start('genesys', `rtp-${port}`, process.execPath, [path.join(__dirname, 'netlab_rtp_peer.js'), GENESYS, String(port), '1000']);
}
async function peerResult(peer) {
  peer.kill('SIGTERM');
  await Promise.race([peer.exited, sleep(3000)]);
  return JSON.parse((peer.out.match(/^\{.*\}$/m) || ['{}'])[0]);
}
// Genesys calls `dn` through Kamailio, holds the call `holdMs`, hangs up; media at GENESYS:rtpPort.
let sipPort = 5100;
function genesysCalls(dn, rtpPort, holdMs) {
  return run.start('genesys', `uac-${dn}`, 'sipp', ['-sf', path.join(__dirname, 'scenarios/uac-call-dn-lan-media.xml'),
    '-s', dn, `${GENESYS}:5060`, '-i', GENESYS, '-p', String(sipPort++), '-m', '1', '-d', String(holdMs),
    '-key', 'rtpport', String(rtpPort), '-timeout', '30s', '-timeout_error', '-nostdin'], { cwd: tmp });
}
// Genesys answering an agent's call to the number `port` (Kamailio sends 50xx to GENESYS:50xx).
function genesysAnswers(port, rtpPort) {
  return run.start('genesys', `uas-${port}`, 'sipp', ['-sf', path.join(__dirname, 'scenarios/uas-answer-external-media.xml'),
    '-i', GENESYS, '-p', String(port), '-m', '1', '-key', 'rtpport', String(rtpPort), '-timeout', '30s',
    '-timeout_error', '-nostdin'], { cwd: tmp });
}
// One INVITE from the Genesys side to `dn` through Kamailio (UDP, from GENESYS): the status line of the first final
// answer, or '' after 3 s.
function inviteStatus(dn) {
  const script = `
const s = require('dgram').createSocket('udp4');
const id = 'd' + Date.now();
const msg = ['INVITE sip:${dn}@${GENESYS}:5060 SIP/2.0', 'Via: SIP/2.0/UDP ${GENESYS}:5199;branch=z9hG4bK' + id + ';rport',
  'Max-Forwards: 70', 'From: <sip:genesys@${GENESYS}>;tag=' + id, 'To: <sip:${dn}@${GENESYS}>', 'Call-ID: ' + id,
  'CSeq: 1 INVITE', 'Contact: <sip:genesys@${GENESYS}:5199>', 'Content-Length: 0', '', ''].join('\\r\\n');
s.on('message', (m) => { const line = m.toString().split('\\r\\n')[0]; if (!/ 1\\d\\d /.test(line)) { console.log(line); process.exit(0); } });
s.bind(5199, '${GENESYS}', () => s.send(msg, 5060, '${GENESYS}'));
setTimeout(() => process.exit(0), 3000);`;
  return inNs('genesys', process.execPath, ['-e', script]).trim();
}
const exitOf = (child, ms) => Promise.race([child.exited, sleep(ms).then(() => 'timeout')]);

// The page's agents: window.__agent(gateway, user) registers one and keeps its calls (direction, confirmed,
// media stats once 50 packets went each way, how it ended) and its registrations (count, last time).
const AGENTS = `
window.__agents = {};
window.__track = (a, session, dir, hangupAfterMs) => {
  const c = { dir, confirmed: false, stats: null, ended: null, failed: null };
  a.calls.push(c);
  session.on('failed', (e) => { c.failed = e.cause; });
  session.on('ended', (e) => { c.ended = { originator: e.originator, cause: e.cause }; });
  session.on('confirmed', async () => {
    c.confirmed = true;
    // Until 50 packets went each way (1 s of audio), the call ended, or 8 s: the last figures stay.
    for (let i = 0; i < 40 && !c.ended; i++) {
      await new Promise((r) => setTimeout(r, 200));
      if (!c.ended) c.stats = await window.__rtcgateMediaStats(session.connection);
      if (c.stats && c.stats.inbound >= 50 && c.stats.outbound >= 50) break;
    }
    if (hangupAfterMs !== undefined) setTimeout(() => session.terminate(), hangupAfterMs);
  });
};
window.__agent = async (gateway, user) => {
  const a = { user, registrations: 0, calls: [] };
  window.__agents[user] = a;
  const client = new window.RtcgateClient({ gateway, user, password: 'demo-' + user });
  a.client = client;
  const first = new Promise((resolve, reject) => {
    client.addEventListener('registered', resolve);
    client.addEventListener('registrationFailed', (e) => reject(new Error(user + ' registration failed: ' + e.detail.cause)));
  });
  client.addEventListener('registered', () => { a.registrations++; });
  client.addEventListener('incoming', (e) => window.__track(a, e.detail.session, 'in'));
  await client.start();
  await first;
};
window.__dial = async (user, target, hangupAfterMs) => {
  const a = window.__agents[user];
  window.__track(a, await a.client.call(target), 'out', hangupAfterMs);
};
window.__state = () => Object.fromEntries(Object.entries(window.__agents).map(([u, a]) =>
  [u, { registrations: a.registrations, calls: a.calls.map((c) => ({ ...c })) }]));
`;

async function main() {
  const t0 = performance.now();
  build();
  const labMs = Math.round(performance.now() - t0);
  fs.writeFileSync(path.join(tmp, 'admin.token'), `${TOKEN}\n`);
  for (const [n, a] of Object.entries(NODES)) {
    run.writeConfig({ name: `${n}.yaml`, wss: a.pub, lan: a.lan, genesys: GENESYS, agents: 5,
      admin: `address: ${a.pub}, port: 8089, token_file: ${path.join(tmp, 'admin.token')}`,
      ice: 'candidates: {deny_interfaces: ["lan*"]}', browser: 'gathering_timeout_ms: 1000', logging: 'sip: info',
      // HAProxy (send-proxy-v2) connects from PUBLIC: only it may announce the browsers' addresses.
      wssExtra: `proxy_protocol: {trusted: ["${PUBLIC}/32"], required: true}` });
  }
  fs.writeFileSync(path.join(tmp, 'dispatcher.list'),
    Object.values(NODES).map((a) => `1 sip:${a.lan}:5070\n`).join(''));
  const kcfg = render('kamailio.cfg.in', { LISTEN: GENESYS, GENESYS, RUN: tmp });
  const hcfg = render('haproxy.cfg.in', { PUBLIC, NODE1: NODES.node1.pub, NODE2: NODES.node2.pub, RUN: tmp });
  const kam = run.start('genesys', 'kamailio', '/usr/sbin/kamailio', ['-f', kcfg, '-DD', '-E', '-w', tmp,
    '-P', path.join(tmp, 'kamailio.pid')]);
  const hap = run.start('lb', 'haproxy', '/usr/sbin/haproxy', ['-db', '-f', hcfg]);
  for (const n of Object.keys(NODES)) startNode(n);
  for (const n of Object.keys(NODES)) await nodeReady(n);
  await waitFor(() => /Listening on/.test(kam.out) || fs.existsSync(path.join(tmp, 'kamailio_ctl')), 10000, 'Kamailio');
  const bothUp = await poll(async () => (await lbStatus('node1')) === 'UP' && (await lbStatus('node2')) === 'UP', 10000);
  check('HAProxy sees both nodes UP by their /readyz', !!bothUp, `${await lbStatus('node1')} ${await lbStatus('node2')}`);
  if (!bothUp) throw new Error(`HAProxy: ${hap.out.slice(-2000)}`);
  const dsUp = await poll(() => dispatcherFlags('node1') === 'AP' && dispatcherFlags('node2') === 'AP', 10000);
  check('Kamailio\'s dispatcher probes both nodes with OPTIONS and holds them active (AP)', !!dsUp,
    `${dispatcherFlags('node1')} ${dispatcherFlags('node2')}`);

  const browser = await launchBrowser({ toneHz: 440, reachable: [PUBLIC, ...Object.values(NODES).map((a) => a.pub)],
    executable: lab.wrapper(tmp, 'browser', process.env.RTCGATE_CHROMIUM || '/usr/bin/chromium') });
  const figures = { lab_setup_ms: labMs };
  try {
    const page = await run.openPage(browser);
    await page.addScriptTag({ content: AGENTS });
    const gateway = `wss://${PUBLIC}:8443`;
    const state = () => page.evaluate(() => window.__state());

    // (a) Agents on both nodes, calls both ways on each.
    for (const u of ['1001', '1002', '1003', '1004']) await page.evaluate(([g, user]) => window.__agent(g, user), [gateway, u]);
    const where = await poll(() => { const w = agentNodes(); return Object.keys(w).length === 4 ? w : null; }, 5000) || agentNodes();
    const on = (n) => Object.keys(where).filter((u) => where[u] === n).sort();
    check('agents 1001-1004 registered through HAProxy, spread over both nodes',
      on('node1').length >= 1 && on('node2').length >= 1 && on('node1').length + on('node2').length === 4,
      `node1 ${on('node1').join(',')} node2 ${on('node2').join(',')}`);
    const contacts = await poll(() => {
      const c = Object.fromEntries(Object.keys(where).map((u) => [u, registeredAt(u)]));
      return Object.keys(where).every((u) => c[u] === NODES[where[u]].lan) ? c : null;
    }, 5000);
    // PROXY protocol v2 from HAProxy: each node sees the browser's own address, not HAProxy's.
    const addresses = [...new Set(Object.keys(NODES).flatMap((n) => (json(api(n, 'GET', '/api/v1/agents')).agents || [])
      .flatMap((a) => (a.connections || []).map((c) => c.address))))];
    check(`/api/v1/agents on the nodes shows the browser's address ${BROWSER} for every connection, not HAProxy's ${PUBLIC}`,
      addresses.length === 1 && addresses[0] === BROWSER, addresses.join(','));
    check('each DN is registered at the registrar with the Contact of its agent\'s node (one contact)', !!contacts,
      JSON.stringify(contacts || Object.fromEntries(Object.keys(where).map((u) => [u, registeredAt(u)]))));
    // Genesys calls the first agent of each node while the second (if any) calls Genesys, all at once.
    const a1 = on('node1')[0], a2 = on('node2')[0];
    const b1 = on('node1')[1] || a1, b2 = on('node2')[1] || a2;
    const inbound = [[a1, 'node1', 4000], [a2, 'node2', 4002]].map(([u, n, port]) => ({ u, n, peer: rtpPeer(port), port }));
    const outbound = [[b1, 'node1', 5080, 4100], [b2, 'node2', 5082, 4102]].map(([u, n, sip, port]) => ({ u, n, sip, port,
      peer: rtpPeer(port), sipp: genesysAnswers(sip, port) }));
    await sleep(300);  // the peers' sockets (tiny node scripts) before SIPp offers their ports
    for (const c of inbound) c.sipp = genesysCalls(c.u, c.port, 8000);
    const dialOut = async () => {
      for (const c of outbound) await page.evaluate(([u, t]) => window.__dial(u, t, 1000), [c.u, String(c.sip)]);
    };
    if (b1 !== a1 && b2 !== a2) await dialOut();
    for (const c of inbound) c.code = await exitOf(c.sipp, 20000);
    if (b1 === a1 || b2 === a2) await dialOut();
    for (const c of outbound) c.code = await exitOf(c.sipp, 20000);
    const st0 = await state();
    for (const c of inbound) {
      const g = await peerResult(c.peer);
      const call = st0[c.u].calls.find((x) => x.dir === 'in') || {};
      check(`(a) Genesys -> DN ${c.u} on ${c.n}: answered, Genesys's BYE ended it (SIPp exit 0)`,
        c.code === 0 && call.confirmed && call.ended && call.ended.originator === 'remote', `sipp ${c.code}, ${JSON.stringify(call.ended)}`);
      check(`(a) DN ${c.u}: audio both ways through ${c.n} (browser in/out >= 50, Genesys in/out >= 50 from ${NODES[c.n].lan})`,
        call.stats && call.stats.inbound >= 50 && call.stats.outbound >= 50 && g.received >= 50 && g.sent >= 50 &&
        (g.from || '').startsWith(`${NODES[c.n].lan}:`),
        `browser in ${call.stats && call.stats.inbound} out ${call.stats && call.stats.outbound}, genesys received ${g.received} from ${g.from}, sent ${g.sent}`);
    }
    for (const c of outbound) {
      const g = await peerResult(c.peer);
      const call = st0[c.u].calls.find((x) => x.dir === 'out') || {};
      check(`(a) agent ${c.u} on ${c.n} -> Genesys ${c.sip}: answered, the agent's BYE ended it`,
        // 97: the UAS scenario's stop_now after the BYE's 200 (SIPp's "exit on internal command").
        c.code === 97 && call.confirmed && call.ended && call.ended.originator === 'local', `sipp ${c.code}, ${JSON.stringify(call.ended)}`);
      check(`(a) agent ${c.u}: audio both ways through ${c.n} (Genesys's peer fed by ${NODES[c.n].lan})`,
        call.stats && call.stats.inbound >= 50 && call.stats.outbound >= 50 && g.received >= 50 && g.sent >= 50 &&
        (g.from || '').startsWith(`${NODES[c.n].lan}:`),
        `browser in ${call.stats && call.stats.inbound} out ${call.stats && call.stats.outbound}, genesys received ${g.received} from ${g.from}, sent ${g.sent}`);
    }

    // (b) node1 killed: its agents and DNs move to node2.
    const moved = on('node1');
    const before = await state();
    const tKill = performance.now();
    nodes.node1.kill('SIGKILL');
    let tLbDown = null, tDsDown = null, tMoved = null;
    await poll(async () => {
      const now = performance.now();
      if (tLbDown === null && (await lbStatus('node1')).startsWith('DOWN')) tLbDown = now;
      if (tDsDown === null && dispatcherFlags('node1').startsWith('I')) tDsDown = now;
      if (tMoved === null && moved.every((u) => registeredAt(u) === NODES.node2.lan)) tMoved = now;
      return tLbDown !== null && tDsDown !== null && tMoved !== null;
    }, 20000);
    const ms = (t) => (t === null ? null : Math.round(t - tKill));
    Object.assign(figures, { kill_to_haproxy_down_ms: ms(tLbDown), kill_to_dispatcher_inactive_ms: ms(tDsDown),
      kill_to_dns_moved_ms: ms(tMoved) });
    check(`(b) node1 killed (SIGKILL, exit by signal ${await Promise.race([nodes.node1.exited, sleep(3000)]).then(() => nodes.node1.signalCode)})`,
      nodes.node1.signalCode === 'SIGKILL');
    check(`(b) the DNs of node1's agents (${moved.join(',')}) are registered by node2 alone, within 20 s`, tMoved !== null,
      `${ms(tMoved)} ms; ${moved.map((u) => `${u}@${registeredAt(u)}`).join(' ')}`);
    let st = await state();
    check('(b) those agents re-registered (JsSIP reconnected through HAProxy) and are on node2',
      moved.every((u) => st[u].registrations > before[u].registrations && agentNodes()[u] === 'node2'),
      moved.map((u) => `${u}: ${before[u].registrations}->${st[u].registrations} on ${agentNodes()[u]}`).join(', '));
    check('(b) HAProxy marked node1 DOWN and the dispatcher marked it inactive', tLbDown !== null && tDsDown !== null,
      `${ms(tLbDown)} ms, ${ms(tDsDown)} ms`);
    {
      const peer = rtpPeer(4004);
      await sleep(300);
      const sipp = genesysCalls(moved[0], 4004, 7500);
      const code = await exitOf(sipp, 20000);
      const g = await peerResult(peer);
      st = await state();
      const call = st[moved[0]].calls.filter((x) => x.dir === 'in').pop() || {};
      check(`(b) a new call from Genesys to moved DN ${moved[0]} reaches node2, audio both ways`,
        code === 0 && call.confirmed && call.stats && call.stats.inbound >= 50 && g.received >= 50 &&
        (g.from || '').startsWith(`${NODES.node2.lan}:`),
        `sipp ${code}, browser in ${call.stats && call.stats.inbound}, genesys received ${g.received} from ${g.from}`);
    }

    // (c) node1 back (the upgraded node); node2 drained with a call in progress.
    startNode('node1');
    await nodeReady('node1');
    const up1 = await poll(async () => (await lbStatus('node1')) === 'UP', 10000);
    check('(c) node1 restarted and UP again in HAProxy', !!up1);
    const dn = '1001';
    const peer = rtpPeer(4006);
    await sleep(300);
    const callsBefore = (await state())[dn].calls.length;
    const sipp = genesysCalls(dn, 4006, 4500);
    const confirmed = await poll(async () => { const c = (await state())[dn].calls; return c.length > callsBefore && c[c.length - 1].confirmed; }, 10000);
    check(`(c) a call to ${dn} on node2 is up before the drain`, !!confirmed);
    const tDrain = performance.now();
    const drain = api('node2', 'POST', '/api/v1/drain');
    check('(c) POST /api/v1/drain on node2: 202', drain.status === 202, `${drain.status} ${drain.body.replace(/\s+/g, ' ')}`);
    const ready = api('node2', 'GET', '/readyz');
    check('(c) node2\'s /readyz answers 503 while draining', ready.status === 503, ready.status);
    let tLb2 = null, tDs2 = null;
    await poll(async () => {
      if (tLb2 === null && (await lbStatus('node2')).startsWith('DOWN')) tLb2 = performance.now();
      if (tDs2 === null && dispatcherFlags('node2').startsWith('I')) tDs2 = performance.now();
      return tLb2 !== null && tDs2 !== null;
    }, 10000);
    const metrics = api('node2', 'GET', '/metrics').body;
    const options503 = Number((/^rtcgate_sip_options_draining_total (\d+)/m.exec(metrics) || [0, 0])[1]);
    check('(c) HAProxy marked the draining node2 DOWN, the dispatcher inactive (its OPTIONS answered 503)',
      tLb2 !== null && tDs2 !== null && options503 >= 1,
      `${tLb2 && Math.round(tLb2 - tDrain)} ms, ${tDs2 && Math.round(tDs2 - tDrain)} ms, rtcgate_sip_options_draining_total ${options503}`);
    await page.evaluate(([g, user]) => window.__agent(g, user), [gateway, '1005']);
    check('(c) a new agent (1005) connecting during the drain lands on node1', agentNodes()['1005'] === 'node1', agentNodes()['1005']);
    const code = await exitOf(sipp, 20000);
    const g = await peerResult(peer);
    const nodeCode = await exitOf(nodes.node2, 15000);
    const tExit = performance.now();
    st = await state();
    const call = st[dn].calls.length > callsBefore ? st[dn].calls[st[dn].calls.length - 1] : {};
    check('(c) the call in progress ran to its end: Genesys\'s BYE answered 200 (SIPp exit 0), ended by the remote side',
      code === 0 && call.ended && call.ended.originator === 'remote' && !call.failed && call.stats && call.stats.inbound >= 50 &&
      g.received >= 50, `sipp ${code}, ${JSON.stringify(call.ended)}, genesys received ${g.received}`);
    check('(c) node2 exited 0 after its last call', nodeCode === 0, nodeCode);
    figures.drain_to_exit_ms = Math.round(tExit - tDrain);
    figures.drain_to_haproxy_down_ms = tLb2 && Math.round(tLb2 - tDrain);
    figures.drain_to_dispatcher_inactive_ms = tDs2 && Math.round(tDs2 - tDrain);
    const all = ['1001', '1002', '1003', '1004'];
    const back = await poll(() => all.every((u) => registeredAt(u) === NODES.node1.lan), 20000);
    figures.node2_exit_to_dns_moved_ms = back ? Math.round(performance.now() - tExit) : null;
    check('(c) node2\'s agents reconnected to node1 and their DNs are registered by node1 alone', !!back,
      all.map((u) => `${u}@${registeredAt(u)}`).join(' '));

    // (d) No node left (node2 drained and gone, node1 killed): the dispatcher answers Genesys's INVITE at once with
    // the configuration's 480, not silence (Genesys would otherwise wait for its timer B, 32 s, per call).
    nodes.node1.kill('SIGKILL');
    const allDown = await poll(() => dispatcherFlags('node1').startsWith('I') && dispatcherFlags('node2').startsWith('I'), 10000);
    const answer = inviteStatus('1001');
    check('(d) both nodes down: Kamailio answers a Genesys INVITE to DN 1001 with 480', !!allDown && /^SIP\/2\.0 480 /.test(answer),
      `dispatcher ${dispatcherFlags('node1')} ${dispatcherFlags('node2')}, answer "${answer}"`);
  } finally {
    await browser.close();
  }
  fs.mkdirSync(benchDir, { recursive: true });
  const line = `${new Date().toISOString()} scaleout ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ')}\n`;
  fs.appendFileSync(path.join(benchDir, 'scaleout.txt'), line);
  console.log(`measured: ${line.trim()}`);
}

run.run(main);

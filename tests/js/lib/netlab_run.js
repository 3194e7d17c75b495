// SPDX-License-Identifier: Apache-2.0
// What every network-lab scenario script shares (tests/e2e/netlab_*.js): the lab, its temporary directory, the
// processes started inside its namespaces (stopped by PID at the end), the list of checks, the page that loads
// rtcgate-client.js into Chromium, and the exit path (0 when every check passed, 1 otherwise; the lab removed).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Lab, unavailable, removeStale } = require('./netlab');
const { startProcess } = require('./process');

const ROOT = path.join(__dirname, '../../..');
const ORIGIN = 'http://127.0.0.1:8099';  // the page, served by playwright's routing (no socket, no namespace)
const PAGE = `<!doctype html><title>rtcgate network lab</title>
<script type="module">
import { RtcgateClient } from './rtcgate-client.js';
window.RtcgateClient = RtcgateClient;
// The agent's client, started and registered (rejects when registration fails).
window.__rtcgateRegistered = async (options) => {
  const client = new RtcgateClient(options);
  const registered = new Promise((resolve, reject) => {
    client.addEventListener('registered', resolve);
    client.addEventListener('registrationFailed', (e) => reject(new Error('registration failed: ' + e.detail.cause)));
  });
  await client.start();
  await registered;
  return client;
};
// Audio packets received and sent, and the nominated pair ("type address:port -> type address:port"), of pc.
window.__rtcgateMediaStats = async (pc) => {
  const out = {};
  const stats = await pc.getStats();
  stats.forEach((v) => {
    if (v.type === 'inbound-rtp' && v.kind === 'audio') out.inbound = v.packetsReceived;
    if (v.type === 'outbound-rtp' && v.kind === 'audio') out.outbound = v.packetsSent;
    if (v.type === 'candidate-pair' && v.nominated && v.state === 'succeeded') {
      const l = stats.get(v.localCandidateId), rc = stats.get(v.remoteCandidateId);
      out.pair = l.candidateType + ' ' + l.address + ':' + l.port + ' -> ' + rc.candidateType + ' ' + rc.address + ':' + rc.port;
    }
  });
  return out;
};
window.moduleLoaded = true;
</script>`;

class LabRun {
  // A run, or exit 77 (skipped, with the reason) when the lab cannot run here. A lab whose test was SIGKILLed
  // (ctest's timeout) leaves its namespaces and processes: they are removed first.
  static create({ nat = true } = {}) {
    const why = unavailable({ nat });
    if (why) {
      console.log(`SKIPPED: the network lab cannot run here: ${why}`);
      process.exit(77);
    }
    const removed = removeStale();
    if (removed.length) console.log(`removed a killed lab's namespaces: ${removed.join(' ')}`);
    return new LabRun();
  }

  constructor() {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-netlab-'));
    this.children = [];
    this.checks = [];
    this.lab = new Lab();
  }

  check(name, ok, detail) {
    this.checks.push(ok);
    console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${detail !== undefined ? ` (${detail})` : ''}`);
  }

  // rtcgate's configuration for the lab's gateway host (written to tmp; returns its path): WSS on `wss`:8443, SIP
  // and RTP on `lan` toward SIPp at `genesys`:5060, ICE ports 30000-30099; `ice` and `browser` are the bodies of
  // those flow mappings, `logging` of logging.components.
  // name: the file's name (one per node of a multi-node lab); admin: the body of listeners.admin; agents: 1001 to
  // 1000 + agents, password demo-<user>, DN = user; wssExtra: more keys of the WSS listener (e.g. proxy_protocol).
  writeConfig({ wss, lan, genesys, ice, browser, logging = 'ice: debug', name = 'rtcgate.yaml',
    admin = 'address: 127.0.0.1, port: 0', agents = 1, wssExtra = '' }) {
    const file = path.join(this.tmp, name);
    const list = Array.from({ length: agents }, (_, i) => `{user: "${1001 + i}", password: demo-${1001 + i}, dn: "${1001 + i}"}`);
    fs.writeFileSync(file, `listeners:
  admin: {${admin}}
  wss: [{address: ${wss}, port: 8443${wssExtra ? `, ${wssExtra}` : ''}}]
upstream:
  sip_bind: {address: ${lan}, port: 5070}
  servers: [{host: ${genesys}, port: 5060}]
agents: [${list.join(', ')}]
media: {workers: 1, rtp_address: ${lan}, rtp_port_min: 20000, rtp_port_max: 20099, ice_port_min: 30000, ice_port_max: 30099}
ice: {${ice}}
security: {allowed_origins: ["${ORIGIN}"], max_calls: 50}
browser: {${browser}}
logging: {components: {${logging}}}
`);
    return file;
  }

  // `cmd args` inside namespace `ns`, stopped at the end.
  start(ns, name, cmd, args, opts) {
    const [c, a] = this.lab.exec(ns, cmd, args);
    const child = startProcess(name, c, a, opts);
    this.children.push(child);
    return child;
  }

  // Opens the lab page (rtcgate-client.js bundled from client/ with esbuild) in `browser`, served by request routing.
  async openPage(browser) {
    require(path.join(ROOT, 'tests/js/node_modules/esbuild')).buildSync({
      entryPoints: [path.join(ROOT, 'client/rtcgate-client.js')], nodePaths: [path.join(ROOT, 'tests/js/node_modules')],
      bundle: true, outfile: path.join(this.tmp, 'rtcgate-client.js'), format: 'esm', logLevel: 'error',
    });
    const files = { '/': ['text/html', PAGE],
      '/rtcgate-client.js': ['text/javascript', fs.readFileSync(path.join(this.tmp, 'rtcgate-client.js'), 'utf8')] };
    await browser.context.route(`${ORIGIN}/**`, (route) => {
      const f = files[new URL(route.request().url()).pathname];
      return f ? route.fulfill({ status: 200, contentType: f[0], body: f[1] }) : route.fulfill({ status: 404 });
    });
    const page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.log('page:', m.text()); });
    await page.goto(`${ORIGIN}/`);
    await page.waitForFunction(() => window.moduleLoaded === true, null, { timeout: 10000 });
    return page;
  }

  async cleanup(code) {
    const children = this.children;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => setTimeout(r, 5000))]);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => setTimeout(r, 2000))]);
    this.lab.destroy();
    fs.rmSync(this.tmp, { recursive: true, force: true });
    process.exit(code);
  }

  // Runs `main` and exits: 0 when it returned with every check passed; on SIGINT/SIGTERM or an error, 1 after
  // printing each process's last output.
  run(main) {
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => this.cleanup(1));
    main().then(() => this.cleanup(this.checks.length > 0 && this.checks.every(Boolean) ? 0 : 1), (e) => {
      console.error(e);
      for (const c of this.children) console.error(`--- ${c.name}:\n${c.out.slice(-4000)}`);
      this.cleanup(1);
    });
  }
}

module.exports = { LabRun, ORIGIN };

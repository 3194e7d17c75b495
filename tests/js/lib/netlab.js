// SPDX-License-Identifier: Apache-2.0
// The network lab (issue 12): network namespaces, veth pairs, bridges and nftables NAT that a test
// creates for itself, so that rtcgate, SIPp and Chromium can each sit on a host of a realistic topology (DMZ host,
// browser behind a home NAT) without touching the machine's own network. Addresses are TEST-NET (RFC 5737) and
// 10.x/192.168.x only, and only inside the lab's namespaces; no namespace has a route to the outside.
// Every namespace is named rtcg-<pid>-<name>; destroy() (also run on exit and on SIGINT/SIGTERM) deletes them by
// name, which removes their veths, bridges and nftables rules with them. Needs root and iproute2; NAT needs nft
// (Debian's nftables, scripts/setup.sh).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const IP = fs.existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : 'ip';
const NFT = ['/usr/sbin/nft', '/sbin/nft'].find((p) => fs.existsSync(p)) || null;

function run(cmd, args, input) {
  return execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], input, timeout: 10000 }).toString();
}

// Why the lab cannot run here, or '' when it can: root, `ip netns` and (if asked) nft.
function unavailable({ nat = false } = {}) {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  const probe = `rtcg-${process.pid}-probe`;
  try {
    run(IP, ['netns', 'add', probe]);
    run(IP, ['netns', 'del', probe]);
  } catch (e) {
    return `\`ip netns add\` failed: ${String(e.stderr || e.message).trim()}`;
  }
  if (nat && !NFT) return 'nft (Debian package nftables) is not installed: run scripts/setup.sh';
  return '';
}

class Lab {
  constructor() {
    this.prefix = `rtcg-${process.pid}-`;
    this.names = [];
    this.destroyed = false;
    this.onExit = () => this.destroy();
    process.on('exit', this.onExit);
  }

  ns(name) { return this.prefix + name; }

  // A namespace with its loopback up and nothing else.
  addNamespace(name) {
    const ns = this.ns(name);
    run(IP, ['netns', 'add', ns]);
    this.names.push(ns);
    this.ip(name, ['link', 'set', 'lo', 'up']);
    return ns;
  }

  ip(name, args) { return run(IP, ['-n', this.ns(name), ...args]); }

  // A veth pair between two namespaces: a (name, ifname, 'addr/len') ⇄ b (same). Interface names stay within
  // IFNAMSIZ (15); rtcgate's built-in candidate denials cover veth*, so name them after their role instead.
  link([nsA, ifA, addrA], [nsB, ifB, addrB]) {
    run(IP, ['link', 'add', ifA, 'netns', this.ns(nsA), 'type', 'veth', 'peer', 'name', ifB, 'netns', this.ns(nsB)]);
    for (const [ns, ifn, addr] of [[nsA, ifA, addrA], [nsB, ifB, addrB]]) {
      if (addr) this.ip(ns, ['addr', 'add', addr, 'dev', ifn]);
      this.ip(ns, ['link', 'set', ifn, 'up']);
    }
  }

  // A bridge with an address, as Docker makes docker0 and br-<network id> on a host. A bridge rather than a dummy
  // interface: that is what they are, and some kernels (this CI's) have no dummy driver.
  bridge(ns, ifname, addr) {
    this.ip(ns, ['link', 'add', ifname, 'type', 'bridge']);
    this.ip(ns, ['addr', 'add', addr, 'dev', ifname]);
    this.ip(ns, ['link', 'set', ifname, 'up']);
  }

  // A host `ns` on the L2 segment of `bridgeIf` (made by bridge() in `brNs`): a veth whose far end `portIf` is a
  // port of the bridge, as a switch port (scale-out: a balancer and several gateway nodes on one network).
  attach([brNs, bridgeIf, portIf], [ns, ifname, addr]) {
    this.link([brNs, portIf, null], [ns, ifname, addr]);
    this.ip(brNs, ['link', 'set', portIf, 'master', bridgeIf]);
  }

  route(ns, args) { this.ip(ns, ['route', 'add', ...args]); }

  // A home router: forwards between its interfaces and masquerades what leaves by `outIf` (nftables, RFC 4787
  // endpoint-independent mapping as Linux's masquerade does for UDP when the port is free).
  // symmetric: `masquerade fully-random` (NF_NAT_RANGE_PROTO_RANDOM_FULLY), a fresh random source port per flow
  // and so per destination: RFC 4787 address-and-port-dependent mapping, the NAT that STUN cannot see through.
  natRouter(ns, outIf, { symmetric = false } = {}) {
    run(IP, ['netns', 'exec', this.ns(ns), 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const rules = `table ip rtcg_nat {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "${outIf}" masquerade${
  symmetric ? ' fully-random' : ''}; }
}
`;
    run(IP, ['netns', 'exec', this.ns(ns), NFT, '-f', '-'], rules);
  }

  // A cloud-style 1:1 NAT (an EC2 elastic IP, a GCP external address): `publicAddr` on `outIf` stands for the host
  // `privateAddr` behind `inIf`, both ways, at the same ports (nftables dnat in prerouting, snat in postrouting).
  // The public address is put on `outIf` as a /32 so that the router answers ARP for it.
  nat1to1Router(ns, { outIf, publicAddr, privateAddr }) {
    run(IP, ['netns', 'exec', this.ns(ns), 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    this.ip(ns, ['addr', 'add', `${publicAddr}/32`, 'dev', outIf]);
    const rules = `table ip rtcg_nat1to1 {
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; ip daddr ${publicAddr} dnat to ${privateAddr}; }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "${outIf}" ip saddr ${privateAddr} snat to ${publicAddr}; }
}
`;
    run(IP, ['netns', 'exec', this.ns(ns), NFT, '-f', '-'], rules);
  }

  // A black hole: namespace `ns` drops every UDP datagram to addr:port on input, silently (no ICMP), as a
  // firewall in front of a dead STUN server does (counted: `nft list ruleset` shows the packets it ate). The address
  // is put on `ifname` as a /32 so that ARP resolves it.
  blackhole(ns, ifname, addr, port) {
    this.ip(ns, ['addr', 'add', `${addr}/32`, 'dev', ifname]);
    const rules = `table ip rtcg_blackhole {
  chain input { type filter hook input priority filter; policy accept; ip daddr ${addr} udp dport ${port} counter drop; }
}
`;
    run(IP, ['netns', 'exec', this.ns(ns), NFT, '-f', '-'], rules);
  }

  // The command line that runs `cmd args` inside namespace `ns` (spawn it, its PID is the program's: ip execs).
  exec(ns, cmd, args = []) { return [IP, ['netns', 'exec', this.ns(ns), cmd, ...args]]; }

  // An executable wrapper that runs `program` inside `ns` (for tools that want a path, like playwright's
  // executablePath); written into `dir`.
  wrapper(dir, ns, program) {
    const file = path.join(dir, `in-${ns}-${path.basename(program)}`);
    fs.writeFileSync(file, `#!/bin/sh\nexec ${IP} netns exec ${this.ns(ns)} ${program} "$@"\n`, { mode: 0o755 });
    return file;
  }

  // Deletes the lab's namespaces by name (their interfaces and rules go with them). Processes still inside keep
  // a namespace alive after its name is gone, so the caller stops what it started first.
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.onExit);
    for (const ns of this.names.reverse()) {
      try { run(IP, ['netns', 'del', ns]); } catch (e) { console.error(`netlab: could not delete ${ns}: ${e.message}`); }
    }
  }
}

// Removes what a lab whose process is gone (a SIGKILLed test: ctest's timeout) left: its namespaces
// rtcg-<pid>-* with that pid no longer running, after SIGKILL to the processes still inside them (its rtcgate, SIPp
// and Chromium, orphaned; `ip netns pids` names them). Returns the namespaces removed.
function removeStale() {
  let out = '';
  try { out = run(IP, ['netns', 'list']); } catch (e) { return []; }
  const names = out.split('\n').map((l) => l.split(' ')[0]).filter((n) => {
    const m = /^rtcg-(\d+)-/.exec(n);
    return m && !fs.existsSync(`/proc/${m[1]}`);
  });
  for (const ns of names) {
    try {
      for (const pid of run(IP, ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch (e) { /* already gone */ }
      }
      run(IP, ['netns', 'del', ns]);
    } catch (e) { console.error(`netlab: could not remove stale ${ns}: ${e.message}`); }
  }
  return names;
}

module.exports = { Lab, unavailable, removeStale };

// SPDX-License-Identifier: Apache-2.0
// The media of the demo's Genesys stand-in when it calls an agent (uac-call-agent-auto-answer.xml points its SDP
// here): plain RTP on 127.0.0.1, a PCMU tone sent back to wherever rtcgate's RTP comes from (symmetric RTP), and
// counters of what arrives (audio packets, RFC 4733 events), which the demo's self-test checks.
'use strict';
const dgram = require('dgram');
const path = require('path');
const { linearToUlaw } = require(path.join(__dirname, '../../tests/js/lib/wav'));

function startToneRtp({ freqHz = 1000 } = {}) {
  const sock = dgram.createSocket('udp4');
  // recent: the payloads of the last 50 PCMU packets received (what the far end hears, for a frequency check).
  const state = { port: 0, audio: 0, events: new Set(), sent: 0, recent: [] };
  let remote = null, timer = null, stopped = false;
  const ssrc = Math.floor(Math.random() * 0xffffffff) >>> 0;
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12 || (msg[0] >> 6) !== 2) return;
    const pt = msg[1] & 0x7f;
    if (pt === 0 || pt === 8) state.audio++;
    if (pt === 0) {
      state.recent.push(Buffer.from(msg.subarray(12)));
      if (state.recent.length > 50) state.recent.shift();
    }
    if (pt === 101 && msg.length >= 16) state.events.add(msg[12]);
    if (remote) return;
    remote = rinfo;
    // 20 ms packets on an absolute schedule (packet n due at t0 + 20n ms): a late timer catches up, never drifts.
    const t0 = performance.now();
    let n = 0, phase = 0;
    const sendDue = () => {
      while (!stopped && t0 + n * 20 <= performance.now()) {
        const pkt = Buffer.alloc(12 + 160);
        pkt[0] = 0x80; pkt[1] = 0; pkt.writeUInt16BE(n & 0xffff, 2); pkt.writeUInt32BE((n * 160) >>> 0, 4);
        pkt.writeUInt32BE(ssrc, 8);
        for (let i = 0; i < 160; i++, phase++) pkt[12 + i] = linearToUlaw(Math.round(12000 * Math.sin((2 * Math.PI * freqHz * phase) / 8000)));
        sock.send(pkt, remote.port, remote.address);
        state.sent++;
        n++;
      }
      if (!stopped) timer = setTimeout(sendDue, Math.max(0, t0 + n * 20 - performance.now()));
    };
    sendDue();
  });
  state.close = () => { stopped = true; clearTimeout(timer); sock.close(); };
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => { state.port = sock.address().port; resolve(state); }));
}

module.exports = { startToneRtp };

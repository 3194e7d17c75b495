// SPDX-License-Identifier: Apache-2.0
// Genesys's media endpoint for the network lab, run inside the lab's LAN namespace (ip netns exec), where the test
// process itself cannot bind: records the RTP rtcgate sends and, once it knows rtcgate's address (symmetric RTP),
// plays a PCMU tone back every 20 ms. On SIGTERM it prints one JSON line: packets received and sent, the
// dominant frequency of what it received (decoded G.711) and the address it came from.
// Usage: node netlab_rtp_peer.js <address> <port> <tone Hz>
'use strict';
const dgram = require('dgram');
const path = require('path');
const { linearToUlaw, ulawToLinear, dominantHz } = require(path.join(__dirname, '../js/lib/wav'));

const [address, port, hz] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] || 1000)];
const sock = dgram.createSocket('udp4');
const st = { received: 0, sent: 0, from: '', pcm: [] };
let timer = null;
sock.on('message', (msg, rinfo) => {
  if (msg.length < 12 || (msg[0] >> 6) !== 2 || (msg[1] & 0x7f) !== 0) return;
  st.received++;
  if (st.pcm.length < 8000 * 3) for (const b of msg.subarray(12)) st.pcm.push(ulawToLinear(b));
  if (st.from) return;
  st.from = `${rinfo.address}:${rinfo.port}`;
  let seq = 0, phase = 0;
  const t0 = performance.now();
  const send = () => {
    // On an absolute schedule: a late timer sends every packet already due.
    while (t0 + seq * 20 <= performance.now()) {
      const pkt = Buffer.alloc(12 + 160);
      pkt[0] = 0x80; pkt[1] = 0; pkt.writeUInt16BE(seq & 0xffff, 2); pkt.writeUInt32BE((seq * 160) >>> 0, 4);
      pkt.writeUInt32BE(0x6e6e6e6e, 8);
      for (let i = 0; i < 160; i++, phase++) pkt[12 + i] = linearToUlaw(Math.round(12000 * Math.sin((2 * Math.PI * hz * phase) / 8000)));
      sock.send(pkt, rinfo.port, rinfo.address);
      st.sent++; seq++;
    }
    timer = setTimeout(send, Math.max(0, t0 + seq * 20 - performance.now()));
  };
  send();
});
// SIGUSR2: a snapshot line (`snapshot {...}`: counts so far, the tone of what came since the last snapshot), then
// the tone is listened for afresh (a scenario that interrupts the media checks it again afterwards).
process.on('SIGUSR2', () => {
  const pcm = st.pcm.slice(4000);
  console.log(`snapshot ${JSON.stringify({ received: st.received, sent: st.sent, hz: pcm.length ? dominantHz(pcm) : 0 })}`);
  st.pcm = [];
});
process.on('SIGTERM', () => {
  clearTimeout(timer);
  // Skip the first 0.5 s: the gateway's first packets can be the transcoder's silence.
  const pcm = st.pcm.slice(4000);
  console.log(JSON.stringify({ received: st.received, sent: st.sent, from: st.from, hz: pcm.length ? dominantHz(pcm) : 0 }));
  sock.close();
  process.exit(0);
});
sock.bind(port, address, () => console.log(`rtp peer listening ${address}:${sock.address().port}`));
// Bounded: never outlive a test that forgot it.
setTimeout(() => process.exit(3), 120000).unref();

// SPDX-License-Identifier: Apache-2.0
// Sends SIP messages from files, each as one WebSocket message on a connection of its own (RFC 7118), to a running
// rtcgate, then an OPTIONS on the same connection as a fence: whatever rtcgate answered to the file's message
// came before the OPTIONS' answer, since one connection's messages are handled in order.
// Usage: node torture_wss.mjs <port> <file>...
// Prints per file "RESULT <basename without .dat>=<answer>/<connection>":
//   answer:     the status codes answered to the message, '+'-joined in arrival order, or "none"
//   connection: "open" (the fence OPTIONS got 200) or "closed-<code>"
// Exits 0 when every file was tried.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { TextDecoder } from 'node:util';
import WS from 'ws';

const [portText, ...files] = process.argv.slice(2);
const url = `wss://127.0.0.1:${Number(portText)}`;
const origin = 'https://app.example';
const deadline = setTimeout(() => { console.log('RESULT timeout=1'); process.exit(2); }, 60000);
const utf8 = new TextDecoder('utf-8', { fatal: true });

const fence = (n) => [`OPTIONS sip:fence@rtcgate.invalid SIP/2.0`,
  `Via: SIP/2.0/WSS fence.invalid;branch=z9hG4bK-fence-${n}`,
  'Max-Forwards: 70', `From: <sip:fence@rtcgate.invalid>;tag=fence${n}`, 'To: <sip:rtcgate.invalid>',
  `Call-ID: torture-fence-${n}`, `CSeq: 1 OPTIONS`, 'Content-Length: 0', '', ''].join('\r\n');

function isUtf8(bytes) {
  try { utf8.decode(bytes); return true; } catch { return false; }
}

async function tryOne(file, n) {
  const bytes = readFileSync(file);
  const ws = new WS(url, 'sip', { rejectUnauthorized: false, origin });
  ws.on('error', () => {});
  const opened = await new Promise((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
  if (!opened) return 'none/refused';
  const codes = [];
  const outcome = new Promise((resolve) => {
    const t = setTimeout(() => resolve('timeout'), 10000);
    ws.on('message', (data) => {
      const text = data.toString('latin1');
      const code = /^SIP\/2\.0 (\d+)/.exec(text);
      if (text.includes(`torture-fence-${n}`)) {
        clearTimeout(t);
        resolve(code && code[1] === '200' ? 'open' : `fence-${code ? code[1] : 'request'}`);
      } else if (code) {
        codes.push(code[1]);
      }
    });
    ws.once('close', (code) => { clearTimeout(t); resolve(`closed-${code}`); });
  });
  // RFC 7118 4: text frames carry UTF-8; a message that is not (mpart01's binary body) goes in a binary frame.
  ws.send(bytes, { binary: !isUtf8(bytes) });
  ws.send(fence(n));
  const connection = await outcome;
  ws.terminate();
  return `${codes.length ? codes.join('+') : 'none'}/${connection}`;
}

let n = 0;
for (const file of files) {
  console.log(`RESULT ${basename(file, '.dat')}=${await tryOne(file, ++n)}`);
}
clearTimeout(deadline);
process.exit(0);

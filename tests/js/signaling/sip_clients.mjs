// SPDX-License-Identifier: Apache-2.0
// Drives stock JsSIP and SIP.js (from npm, unmodified) and raw WebSocket clients against rtcgate's WSS server.
// Usage: node sip_clients.mjs <scenario> <port> [origin]
// Prints "RESULT key=value" lines; the GoogleTest side asserts them. Exits 0 when the scenario ran to the end.
import WS from 'ws';
import JsSIP from 'jssip';
import * as SIP from 'sip.js';
import { FAKE_SDP, installFakePeerConnection } from '../lib/fake_peer_connection.mjs';

const [scenario, portText, originArg] = process.argv.slice(2);
const port = Number(portText);
const origin = originArg || 'https://app.example';
const url = `wss://127.0.0.1:${port}`;

// Node 20 has no global WebSocket: give both libraries the `ws` implementation. The server's demo certificate is
// self-signed, and a browser would send Origin by itself.
globalThis.WebSocket = class extends WS {
  constructor(address, protocols) {
    super(address, protocols, { rejectUnauthorized: false, origin });
  }
};

const result = (key, value) => console.log(`RESULT ${key}=${value}`);
const deadline = setTimeout(() => { result('timeout', 1); process.exit(2); }, Number(process.env.SIP_CLIENTS_DEADLINE_MS || 20000));
const done = (code = 0) => { clearTimeout(deadline); setTimeout(() => process.exit(code), 50); };
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

function jssipUa(user, password, extra = {}) {
  const socket = new JsSIP.WebSocketInterface(url);
  return new JsSIP.UA({
    sockets: [socket], uri: `sip:${user}@rtcgate.invalid`, password, register: false,
    register_expires: 120, connection_recovery_min_interval: 60, connection_recovery_max_interval: 60, ...extra,
  });
}

function once(emitter, ...events) {
  return new Promise((resolve) => {
    for (const e of events) emitter.once(e, (arg) => resolve({ event: e, arg }));
  });
}

async function started(ua) {
  const connected = once(ua, 'connected', 'disconnected');
  ua.start();
  const ev = await connected;
  if (ev.event !== 'connected') throw new Error('JsSIP could not connect');
}

async function jssipRegister() {
  const ua = jssipUa('1001', 'demo-1001');
  await started(ua);
  let r = once(ua, 'registered', 'registrationFailed');
  ua.register();
  let ev = await r;
  result('first', ev.event);
  if (ev.event === 'registered') {
    const contact = ev.arg.response.getHeader('Contact');
    result('contact_has_expires', /;expires=\d+/.test(contact) ? 1 : 0);
    result('vias', ev.arg.response.getHeaders('Via').length);
  }
  // A refresh on the same connection. JsSIP emits 'registered' only on the transition, so watch the socket for
  // the 200 and check the UA still counts itself registered.
  let refreshed = false;
  const socket = ua._transport.socket;
  const ondata = socket.ondata;
  socket.ondata = (data) => {
    if (/^SIP\/2\.0 200[^]*CSeq: \d+ REGISTER/.test(String(data))) refreshed = true;
    ondata(data);
  };
  ua.register();
  for (let i = 0; i < 100 && !refreshed; ++i) await wait(20);
  result('refresh', refreshed && ua.isRegistered() ? 'registered' : 'none');
  r = once(ua, 'unregistered');
  ua.unregister();
  ev = await r;
  result('unregister', ev.event);
  ua.stop();
  done();
}

async function jssipBadPassword() {
  const ua = jssipUa('1001', 'wrong');
  await started(ua);
  const r = once(ua, 'registered', 'registrationFailed');
  ua.register();
  const ev = await r;
  result('outcome', ev.event);
  result('status', ev.arg && ev.arg.response ? ev.arg.response.status_code : 0);
  result('cause', ev.arg ? ev.arg.cause : '');
  ua.stop();
  done();
}

async function jssipToken(token) {
  // The signed token as a Bearer credential (JsSIP's authorization_jwt), no password at all.
  // JsSIP puts authorization_jwt verbatim after "Authorization: ", so the scheme is part of the value.
  const ua = jssipUa('1001', undefined, { authorization_jwt: `Bearer ${token}` });
  await started(ua);
  const r = once(ua, 'registered', 'registrationFailed');
  ua.register();
  const ev = await r;
  result('outcome', ev.event);
  ua.stop();
  done();
}

// Issue 13, agents at scale: any agent, by password (digest) or by JWT (authorization_jwt). With "watch", the
// registration is kept and the outcome of JsSIP's own refresh (register_expires 10: 5 s later) is reported too;
// with "dial:URI" the registered agent calls URI.
async function jssipAgent(user, kind, credential, watch) {
  const ua = kind === 'jwt'
    ? jssipUa(user, undefined, { authorization_jwt: `Bearer ${credential}`, register_expires: 10 })
    : jssipUa(user, credential, { register_expires: 10 });
  await started(ua);
  // One REGISTER transaction (a challenge included), sent now or by JsSIP's refresh timer: its outcome.
  const registration = async (send) => {
    const r = once(ua, 'registered', 'registrationFailed');
    if (send) ua.register();
    const ev = await r;
    return { event: ev.event, status: ev.arg && ev.arg.response ? ev.arg.response.status_code : 0 };
  };
  const ev = await registration(true);
  result('first', ev.event);
  result('first_status', ev.status);
  if (watch && watch.startsWith('dial:') && ev.event === 'registered') {
    // The registered agent calls (a JWT agent's DN comes from its REGISTER); the call's final answer.
    const session = ua.call(watch.slice(5), NO_MEDIA);
    const end = await once(session, 'confirmed', 'failed');
    const m = end.arg && end.arg.message;
    result('dial', end.event === 'confirmed' ? '200' : (m && m.status_code ? m.status_code : end.arg.cause));
    if (end.event === 'confirmed') session.terminate();
  }
  if (watch === 'watch' && ev.event === 'registered') {
    const refresh = await registration(false);
    result('refresh', refresh.event);
    result('refresh_status', refresh.status);
    result('connected_after_refresh', ua.isConnected() ? 1 : 0);
  }
  ua.stop();
  done();
}

function sipjsAgent(user, password) {
  return new SIP.UserAgent({
    uri: SIP.UserAgent.makeURI(`sip:${user}@rtcgate.invalid`),
    authorizationUsername: user, authorizationPassword: password,
    transportOptions: { server: url },
    logLevel: process.env.SIPJS_LOG || 'error',
  });
}

function registererState(registerer, wanted) {
  return new Promise((resolve) => {
    const listener = (s) => {
      if (wanted.includes(s)) { registerer.stateChange.removeListener(listener); resolve(s); }
    };
    registerer.stateChange.addListener(listener);
  });
}

async function sipjsRegister() {
  const ua = sipjsAgent('1002', 'demo-1002');
  await ua.start();
  const registerer = new SIP.Registerer(ua, { expires: 120 });
  let failed = 0;
  const options = { requestDelegate: { onReject: (resp) => { failed = resp.message.statusCode; } } };
  let s = registererState(registerer, [SIP.RegistererState.Registered, SIP.RegistererState.Unregistered]);
  await registerer.register(options);
  result('first', await s);
  // A refresh: SIP.js only accepts the 200 when its Contact carries ;expires= (otherwise it drops the response).
  let accepted = false;
  await registerer.register({ requestDelegate: { onAccept: () => { accepted = true; } } });
  for (let i = 0; i < 100 && !accepted; ++i) await wait(20);
  result('refresh', accepted ? 'accepted' : 'none');
  result('state_after_refresh', registerer.state);
  s = registererState(registerer, [SIP.RegistererState.Unregistered]);
  await registerer.unregister();
  result('unregister', await s);
  result('rejected', failed);
  await ua.stop();
  done();
}

async function sipjsBadPassword() {
  const ua = sipjsAgent('1002', 'nope');
  await ua.start();
  const registerer = new SIP.Registerer(ua, { expires: 120 });
  let status = 0;
  await registerer.register({ requestDelegate: { onReject: (resp) => { status = resp.message.statusCode; } } });
  for (let i = 0; i < 200 && status === 0; ++i) await wait(20);
  result('status', status);
  result('state', registerer.state);
  await ua.stop();
  done();
}

// Raw WebSocket helpers for hostile inputs.
function rawSocket(protocols, originHeader = origin) {
  return new WS(url, protocols, { rejectUnauthorized: false, origin: originHeader });
}

function handshake(ws) {
  return new Promise((resolve) => {
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (req, res) => resolve(`http-${res.statusCode}`));
    ws.once('error', (e) => { console.error('ws error', e.message); resolve('error'); });
  });
}

function nextEvent(ws, ms = 5000) {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve({ kind: 'none' }), ms);
    ws.once('message', (data) => { clearTimeout(t); resolve({ kind: 'message', data: data.toString() }); });
    ws.once('close', (code) => { clearTimeout(t); resolve({ kind: 'close', code }); });
  });
}

const options = (tag) => [
  'OPTIONS sip:rtcgate.invalid SIP/2.0',
  `Via: SIP/2.0/WSS abc${tag}.invalid;branch=z9hG4bK${tag}`,
  'Max-Forwards: 70',
  `From: <sip:1001@rtcgate.invalid>;tag=f${tag}`,
  'To: <sip:rtcgate.invalid>',
  `Call-ID: c${tag}`,
  'CSeq: 1 OPTIONS',
  'Content-Length: 0', '', ''].join('\r\n');

async function hostile() {
  // 1. Wrong Origin: the handshake is refused.
  let ws = rawSocket('sip', 'https://evil.example');
  result('wrong_origin', await handshake(ws));
  ws.terminate();
  // 2. No subprotocol: refused.
  ws = rawSocket(undefined);
  result('no_subprotocol', await handshake(ws));
  ws.terminate();
  // 3. Another subprotocol only: refused.
  ws = rawSocket('chat');
  result('other_subprotocol', await handshake(ws));
  ws.terminate();
  // 4. A proper socket: keepalive and OPTIONS work, and the subprotocol is echoed.
  ws = rawSocket('sip');
  result('good', await handshake(ws));
  result('protocol', ws.protocol);
  ws.send('\r\n\r\n');
  let ev = await nextEvent(ws);
  result('keepalive', ev.kind === 'message' && ev.data === '\r\n' ? 'crlf' : ev.kind);
  ws.send(options('1'));
  ev = await nextEvent(ws);
  result('options', ev.kind === 'message' ? ev.data.split('\r\n')[0].replace(/ /g, '_') : ev.kind);
  // 5. A malformed SIP request that can still be answered gets 400.
  ws.send(options('2').replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
  ev = await nextEvent(ws);
  result('malformed', ev.kind === 'message' ? ev.data.split('\r\n')[0].replace(/ /g, '_') : ev.kind);
  // 6. Garbage: the connection is closed, the server keeps serving.
  ws.send('\x00\x01 this is not SIP \xff');
  ev = await nextEvent(ws);
  result('garbage', ev.kind === 'close' ? 'closed' : ev.kind);
  // 7. Oversized frame: closed with 1009.
  ws = rawSocket('sip');
  await handshake(ws);
  ws.send('A'.repeat(20000));
  ev = await nextEvent(ws);
  result('oversized', ev.kind === 'close' ? `closed-${ev.code}` : ev.kind);
  // 8. Still serving.
  ws = rawSocket('sip');
  result('after', await handshake(ws));
  ws.send(options('3'));
  ev = await nextEvent(ws);
  result('after_options', ev.kind === 'message' ? ev.data.split('\r\n')[0].replace(/ /g, '_') : ev.kind);
  ws.close();
  done();
}

// Raw TLS clients for what the `ws` library will not send: hand-made handshakes (no Host, control bytes in headers)
// and hand-made frames (unmasked, invalid UTF-8 in a text frame).
async function rawHandshake(headerLines) {
  const tls = await import('node:tls');
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  socket.on('error', () => {});
  let buf = Buffer.alloc(0);
  const ended = new Promise((resolve) => socket.once('close', () => resolve()));
  const head = await new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), 5000);
    socket.on('secureConnect', () => socket.write(['GET / HTTP/1.1', ...headerLines, '', ''].join('\r\n'), 'latin1'));
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        clearTimeout(t);
        socket.off('data', onData);
        const text = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => { clearTimeout(t); resolve(null); });
  });
  const status = head ? head.split('\r\n')[0].split(' ')[1] : 'dropped';
  return { socket, status, rest: buf, ended };
}

const upgradeHeaders = (extra = {}) => {
  const h = {
    Host: `127.0.0.1:${port}`, Upgrade: 'websocket', Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Protocol': 'sip',
    Origin: origin, ...extra,
  };
  return Object.entries(h).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`);
};

// The status of a raw handshake; the socket is closed afterwards.
async function rawStatus(extra) {
  const r = await rawHandshake(upgradeHeaders(extra));
  r.socket.destroy();
  return r.status === 'dropped' ? 'dropped' : `http-${r.status}`;
}

function frame(opcode, payload, masked) {
  const len = payload.length;
  const head = [0x80 | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (len < 126) head.push(maskBit | len);
  else head.push(maskBit | 126, len >> 8, len & 0xff);
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), key, body]);
}

// The server's first frame after the upgrade: "answered-<SIP status>", "closed-<code>", or "dropped" (no frame).
function firstServerFrame(r) {
  return new Promise((resolve) => {
    let buf = r.rest;
    const t = setTimeout(() => resolve('none'), 5000);
    const parse = () => {
      if (buf.length < 2) return false;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return false; len = buf.readUInt16BE(2); off = 4; }
      if (buf.length < off + len) return false;
      const opcode = buf[0] & 0x0f;
      const payload = buf.subarray(off, off + len);
      clearTimeout(t);
      if (opcode === 0x8) resolve(`closed-${len >= 2 ? payload.readUInt16BE(0) : 'nocode'}`);
      else resolve(`answered-${payload.toString('latin1').split('\r\n')[0].split(' ')[1]}`);
      return true;
    };
    if (parse()) return;
    r.socket.on('data', (d) => { buf = Buffer.concat([buf, d]); parse(); });
    r.socket.once('close', () => { clearTimeout(t); resolve('dropped'); });
  });
}

async function strictFrame(bytes, masked) {
  const r = await rawHandshake(upgradeHeaders());
  if (r.status !== '101') { r.socket.destroy(); return `upgrade-${r.status}`; }
  r.socket.write(frame(0x1, bytes, masked));
  const got = await firstServerFrame(r);
  r.socket.destroy();
  return got;
}

async function strict() {
  // Handshakes (RFC 6455 4.2.1/4.2.2, RFC 7118 4): refused with an HTTP answer, not a dropped connection.
  result('good_host', await rawStatus({}));
  result('host_name_no_port', await rawStatus({ Host: 'gw.example.com' }));
  result('host_ipv6', await rawStatus({ Host: '[::1]:443' }));
  result('host_underscore', await rawStatus({ Host: 'rtc_gate:8443' }));
  result('no_host', await rawStatus({ Host: null }));
  result('empty_host', await rawStatus({ Host: '' }));
  result('host_space', await rawStatus({ Host: 'gw example.com' }));
  result('host_userinfo', await rawStatus({ Host: 'user@gw.example.com' }));
  result('host_bad_port', await rawStatus({ Host: '127.0.0.1:99999' }));
  result('host_open_bracket', await rawStatus({ Host: '[::1' }));
  result('host_label_dash', await rawStatus({ Host: '-gw.example.com' }));
  result('no_subprotocol', await rawStatus({ 'Sec-WebSocket-Protocol': null }));
  result('other_subprotocol', await rawStatus({ 'Sec-WebSocket-Protocol': 'chat' }));
  result('wrong_origin', await rawStatus({ Origin: 'https://evil.example' }));
  result('no_origin', await rawStatus({ Origin: null }));
  // Control bytes in handshake values (a terminal escape, a forged log line): refused, and logged escaped.
  result('escape_origin', await rawStatus({ Origin: 'https://evil.example\x1b[2J\x08FAKE', 'User-Agent': 'ua\x1b[31m' }));
  // Frames (RFC 6455 5.1, 8.1).
  const sip = Buffer.from(options('m'), 'latin1');
  result('masked', await strictFrame(sip, true));
  result('unmasked', await strictFrame(sip, false));
  const bad = Buffer.from(options('u').replace('Max-Forwards: 70', 'Subject: \xc0\xaf\r\nMax-Forwards: 70'), 'latin1');
  result('invalid_utf8', await strictFrame(bad, true));
  // Still serving.
  const ws = rawSocket('sip');
  result('after', await handshake(ws));
  ws.close();
  done();
}

// The hostile-input catalogue (reliability-security.md §5) items of the WSS leg, against the real daemon: each
// result is what rtcgate answered. Every connection is closed by the end.
function maskedFrame(firstByte, payload) {
  const len = payload.length;
  const head = [firstByte];
  if (len < 126) head.push(0x80 | len);
  else if (len < 65536) head.push(0x80 | 126, len >> 8, len & 0xff);
  else head.push(0x80 | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; ++i) body[i] = payload[i] ^ key[i % 4];
  return Buffer.concat([Buffer.from(head), key, body]);
}

// Raw frames after a good handshake; the server's first frame back.
async function rawFrames(frames) {
  const r = await rawHandshake(upgradeHeaders());
  if (r.status !== '101') { r.socket.destroy(); return `upgrade-${r.status}`; }
  for (const f of frames) r.socket.write(f);
  const got = await firstServerFrame(r);
  r.socket.destroy();
  return got;
}

// The status line of each answer to `text` on `ws`, up to the final one ("none" when nothing comes).
async function answer(ws, text, ms = 5000) {
  ws.send(text);
  for (;;) {
    const ev = await nextEvent(ws, ms);
    if (ev.kind !== 'message') return ev.kind === 'close' ? `closed-${ev.code}` : 'none';
    const code = /^SIP\/2\.0 (\d+)/.exec(ev.data);
    if (code && Number(code[1]) >= 200) return { code: code[1], text: ev.data };
  }
}
const codeOf = (a) => (typeof a === 'string' ? a : a.code);

function invite(tag, sdp, extra = [], user = '1001') {
  return [`INVITE sip:5555@rtcgate.invalid SIP/2.0`, `Via: SIP/2.0/WSS cat${tag}.invalid;branch=z9hG4bKcat${tag}`,
    'Max-Forwards: 70', `From: <sip:${user}@rtcgate.invalid>;tag=f${tag}`, 'To: <sip:5555@rtcgate.invalid>',
    `Call-ID: cat-${tag}`, 'CSeq: 1 INVITE', `Contact: <sip:${user}@cat${tag}.invalid;transport=ws>`, ...extra,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n');
}

function ackFor(request, response) {
  const to = /\r\nTo: ([^\r]*)/.exec(response)[1];
  const cseq = /\r\nCSeq: (\d+)/.exec(request)[1];
  return request.split('\r\n\r\n')[0].split('\r\n').filter((l) => !/^(Content-|To:|CSeq:|Authorization:)/.test(l))
    .map((l) => l.replace(/^INVITE /, 'ACK ')).concat([`To: ${to}`, `CSeq: ${cseq} ACK`, 'Content-Length: 0', '', ''])
    .join('\r\n');
}

// RFC 7616 digest (MD5, qop=auth) over a 401's last challenge, as JsSIP answers it.
async function authorization(challenge, uri, method = 'INVITE', user = '1001', password = `demo-${user}`) {
  const { createHash, randomBytes } = await import('node:crypto');
  const md5 = (s) => createHash('md5').update(s).digest('hex');
  const all = [...challenge.matchAll(/WWW-Authenticate: ([^\r]*)/g)].map((m) => m[1]);
  const nonce = /nonce="([^"]*)"/.exec(all[all.length - 1])[1];
  const cnonce = randomBytes(8).toString('hex');
  const ha1 = md5(`${user}:rtcgate:${password}`);
  const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return `Authorization: Digest username="${user}", realm="rtcgate", nonce="${nonce}", uri="${uri}", ` +
    `response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;
}

// An agent's INVITE on `ws`, authenticated when the connection is not yet (as JsSIP does on a 401); the final
// answer is ACKed. Returns the final answer, or how the connection ended.
async function offer(ws, key, sdp, extra = []) {
  let request = invite(key, sdp, extra);
  let got = await answer(ws, request);
  if (codeOf(got) === '401') {
    ws.send(ackFor(request, got.text));
    request = invite(`${key}-auth`, sdp, [...extra, await authorization(got.text, 'sip:5555@rtcgate.invalid')])
      .replace(`Call-ID: cat-${key}-auth`, `Call-ID: cat-${key}`).replace(`tag=f${key}-auth`, `tag=f${key}`)
      .replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE');
    got = await answer(ws, request);
  }
  if (typeof got !== 'string') ws.send(ackFor(request, got.text));
  return got;
}

const line = (n, make) => Array.from({ length: n }, (_, i) => make(i)).join('\r\n');

async function catalogue() {
  // 1, 2: handshakes refused with an HTTP answer.
  result('c1_no_subprotocol', await rawStatus({ 'Sec-WebSocket-Protocol': null }));
  result('c2_bad_origin', await rawStatus({ Origin: 'https://evil.example' }));
  result('c2_bad_host', await rawStatus({ Host: 'gw example.com' }));
  // 3: frame-level violations.
  const sip = Buffer.from(options('c3'), 'latin1');
  result('c3_unmasked', await strictFrame(sip, false));
  result('c3_invalid_utf8', await rawFrames([maskedFrame(0x81, Buffer.from([0xc0, 0xaf]))]));
  result('c3_rsv1', await rawFrames([maskedFrame(0x80 | 0x40 | 0x1, sip)]));
  result('c3_opcode3', await rawFrames([maskedFrame(0x83, sip)]));
  // 4: fragment bomb, FIN=0 text frame then 100,000 one-byte continuations, never FIN.
  const bomb = [maskedFrame(0x01, Buffer.from('A'))];
  for (let i = 0; i < 100000; ++i) bomb.push(maskedFrame(0x00, Buffer.from('A')));
  result('c4_fragment_bomb', await rawFrames([Buffer.concat(bomb)]));
  // 5: one 2 MiB message holding an INVITE.
  const big = invite('c5', 'v=0\r\n' + 'a=x\r\n'.repeat(2 * 1024 * 1024 / 5));
  result('c5_two_mib', await rawFrames([maskedFrame(0x81, Buffer.from(big, 'latin1'))]));
  // 7: zero-length frames; then 10,000 pings on another connection, each answered, and the connection still works.
  result('c7_zero_length', await rawFrames([maskedFrame(0x81, Buffer.alloc(0))]));
  let ws = rawSocket('sip');
  await handshake(ws);
  // RFC 6455 5.5.3 lets a server skip pings it has not answered yet (lws 4.1.6 keeps one pending pong): some are
  // answered, the connection is not closed, and SIP on it still works.
  let pongs = 0;
  ws.on('pong', () => { ++pongs; });
  for (let i = 0; i < 10000; ++i) ws.ping(Buffer.from(String(i)));
  result('c7_pings_then_options', codeOf(await answer(ws, options('c7'))));
  for (let i = 0; i < 500 && pongs === 0; ++i) await wait(10);
  result('c7_pongs', pongs > 0 ? 'some' : 'none');
  console.log(`pongs for 10000 pings: ${pongs}`);
  // 8: two requests in one message; Content-Length beyond the payload; the connection stays usable.
  result('c8_two_requests', codeOf(await answer(ws, options('c8a') + options('c8b'))));
  result('c8_content_length_beyond', codeOf(await answer(ws, options('c8c').replace('Content-Length: 0', 'Content-Length: 500'))));
  result('c8_after', codeOf(await answer(ws, options('c8d'))));
  // 12: 10,000 Via headers (over the message cap), Max-Forwards 0.
  result('c12_max_forwards_0', codeOf(await answer(ws, options('c12').replace('Max-Forwards: 70', 'Max-Forwards: 0'))));
  ws.close();
  const vias = options('c12v').replace(/^(OPTIONS [^\r]*\r\n)/, `$1${line(10000, (i) => `Via: SIP/2.0/WSS v${i}.invalid;branch=z9hG4bK${i}`)}\r\n`);
  result('c12_ten_thousand_vias', await rawFrames([maskedFrame(0x81, Buffer.from(vias, 'latin1'))]));
  // 13: malformed SDP in an authenticated agent's INVITE: 488 (or 400) and nothing sent upstream.
  ws = rawSocket('sip');
  await handshake(ws);
  const base = FAKE_SDP;
  const sdps = {
    c13_pt_4294967296: base.replace('UDP/TLS/RTP/SAVPF 111', 'UDP/TLS/RTP/SAVPF 4294967296'),
    c13_opus_0_0: base.replace('opus/48000/2', 'opus/0/0'),
    c13_fmtp_empty: base.replace('a=rtcp-mux', 'a=rtcp-mux\r\na=fmtp:'),
    c13_no_c: base.replace(/c=IN IP4 0\.0\.0\.0\r\n/, ''),
    c13_300_m: base + line(300, (i) => `m=audio ${10000 + i} UDP/TLS/RTP/SAVPF 111\r\na=mid:x${i}`) + '\r\n',
    c13_ufrag_10k: base.replace('a=ice-ufrag:abcd', `a=ice-ufrag:${'u'.repeat(10240)}`),
    c13_50000_a: base + line(50000, () => 'a=x') + '\r\n',
  };
  for (const [key, sdp] of Object.entries(sdps)) {
    const got = await offer(ws, key, sdp);
    result(key, codeOf(got));
    if (typeof got === 'string') { ws.terminate(); ws = rawSocket('sip'); await handshake(ws); }
  }
  result('c13_after', codeOf(await answer(ws, options('c13z'))));
  // 17: a good offer carrying routing, identity and billing headers of the client's choosing (the upstream answers
  // 486; the test reads what reached it).
  const smuggled = (['Route: <sip:evil.example;lr>', 'Record-Route: <sip:evil.example;lr>',
    'P-Asserted-Identity: <sip:ceo@example.com>', 'P-Asserted-Identity : x', 'X-Billing: account=victim']);
  const got17 = await offer(ws, 'c17', FAKE_SDP, smuggled);
  result('c17_smuggled_headers', codeOf(got17));
  ws.close();
  done();
}

installFakePeerConnection();
const NO_MEDIA = { mediaConstraints: { audio: false, video: false } };

async function jssipCallIn() {
  // The browser calls: rtcgate's test handler answers, JsSIP confirms (ACK), then JsSIP hangs up (BYE).
  const ua = jssipUa('1001', 'demo-1001');
  await started(ua);
  const session = ua.call('sip:5555@rtcgate.invalid', NO_MEDIA);
  const progress = [];
  session.on('progress', (e) => progress.push(e.response ? e.response.status_code : 0));
  const ev = await once(session, 'confirmed', 'failed');
  result('call', ev.event);
  result('progress', progress.join(','));
  if (ev.event === 'confirmed') {
    result('remote_sdp', session.connection.remoteDescription ? 'yes' : 'no');
    // re-INVITE (hold), UPDATE with an offer (renegotiate useUpdate), and DTMF as SIP INFO (JsSIP's default).
    const held = await new Promise((resolve) => {
      const t = setTimeout(() => resolve('timeout'), 3000);
      if (!session.hold({}, () => { clearTimeout(t); resolve('done'); })) resolve('refused');
    });
    result('hold', held);
    const updated = await new Promise((resolve) => {
      const t = setTimeout(() => resolve('timeout'), 3000);
      if (!session.renegotiate({ useUpdate: true }, () => { clearTimeout(t); resolve('done'); })) resolve('refused');
    });
    result('update', updated);
    session.sendDTMF('5', { duration: 100, interToneGap: 50 });
    await wait(300);
    const ended = once(session, 'ended', 'failed');
    session.terminate();
    result('end', (await ended).event);
  }
  await wait(100);
  ua.stop();
  done();
}

async function adminCall() {
  // Issue 13, admin API: agent 1001 registers and calls 5555 (SIPp answers as Genesys; no media flows), then waits
  // for the gateway to end the call (an operator's hangup through the API) and prints who ended it and why.
  const ua = jssipUa('1001', 'demo-1001');
  await started(ua);
  const r = once(ua, 'registered', 'registrationFailed');
  ua.register();
  result('register', (await r).event);
  const session = ua.call('sip:5555@rtcgate.invalid', NO_MEDIA);
  const ev = await once(session, 'confirmed', 'failed');
  result('call', ev.event);
  if (ev.event === 'confirmed') {
    const ended = await once(session, 'ended', 'failed');
    result('ended', `${ended.event}:${ended.arg.originator}`);
  }
  ua.stop();
  done();
}

async function drainRefusals() {
  // Issue 13, drain: agent 1002's first REGISTER and a new call from agent 1001 (already registered elsewhere, so
  // its REGISTER is a refresh and passes) are both refused with 503 and a Retry-After.
  const ua2 = jssipUa('1002', 'demo-1002');
  await started(ua2);
  const r2 = once(ua2, 'registered', 'registrationFailed');
  ua2.register();
  const ev2 = await r2;
  const resp2 = ev2.arg && ev2.arg.response;
  result('register_new', `${ev2.event}:${resp2 ? resp2.status_code : 0}:${resp2 && resp2.getHeader('Retry-After') ? 'retry-after' : '-'}`);
  ua2.stop();
  const ua1 = jssipUa('1001', 'demo-1001');
  await started(ua1);
  const r1 = once(ua1, 'registered', 'registrationFailed');
  ua1.register();
  result('register_existing', (await r1).event);
  const session = ua1.call('sip:5556@rtcgate.invalid', NO_MEDIA);
  const ev = await once(session, 'confirmed', 'failed');
  const msg = ev.arg && ev.arg.message;
  result('invite', `${ev.event}:${msg && msg.status_code ? msg.status_code : 0}:${msg && msg.getHeader && msg.getHeader('Retry-After') ? 'retry-after' : '-'}`);
  ua1.stop();
  done();
}

async function jssipDial() {
  // Issue 11, destination policy: agent 1001 dials each target (argv after the origin) in turn; each call's final
  // answer. A call that is answered is hung up at once. "nouser:HOST" dials sip:HOST (JsSIP would turn that string
  // into sip:HOST@<its domain>, so it is given as a URI object).
  const ua = jssipUa('1001', 'demo-1001');
  await started(ua);
  for (const target of process.argv.slice(5)) {
    let session;
    try {
      const uri = target.startsWith('nouser:') ? new JsSIP.URI('sip', null, target.slice(7)) : target;
      session = ua.call(uri, NO_MEDIA);
    } catch (e) {
      result(`dial:${target}`, `local-error_${String(e).replace(/\s+/g, '_')}`);
      continue;
    }
    const ev = await once(session, 'confirmed', 'failed');
    if (ev.event === 'confirmed') {
      result(`dial:${target}`, '200');
      const ended = once(session, 'ended', 'failed');
      session.terminate();
      await ended;
    } else {
      const m = ev.arg.message;
      result(`dial:${target}`, m && m.status_code ? `${m.status_code}_${m.reason_phrase.replace(/\s+/g, '_')}` : ev.arg.cause);
    }
  }
  ua.stop();
  done();
}

async function jssipCallOut() {
  // rtcgate calls the registered browser: JsSIP answers, rtcgate ACKs, then rtcgate hangs up (BYE).
  const ua = jssipUa('1001', 'demo-1001');
  await started(ua);
  const incoming = once(ua, 'newRTCSession');
  const r = once(ua, 'registered', 'registrationFailed');
  ua.register();
  result('register', (await r).event);
  const { arg } = await incoming;
  const session = arg.session;
  result('direction', session.direction);
  result('offer', arg.request.body.includes('m=audio') ? 'yes' : 'no');
  const confirmed = once(session, 'confirmed', 'failed');
  session.answer(NO_MEDIA);
  result('answer', (await confirmed).event);
  const ended = await once(session, 'ended', 'failed');
  result('end', `${ended.event}-${ended.arg.originator}`);
  ua.stop();
  done();
}

async function jssipReconnect() {
  // Issue 10: rtcgate calls the registered JsSIP, which answers; then its WebSocket drops (the TCP connection is
  // destroyed, no close frame). JsSIP keeps the established call, reconnects and registers again; rtcgate's INFO
  // reaches it on the new connection, and its BYE goes over that connection.
  const ua = jssipUa('1001', 'demo-1001', { register: true, connection_recovery_min_interval: 1,
    connection_recovery_max_interval: 1 });
  const incoming = once(ua, 'newRTCSession');
  const r = once(ua, 'registered', 'registrationFailed');
  await started(ua);
  result('register', (await r).event);
  const { arg } = await incoming;
  const session = arg.session;
  const confirmed = once(session, 'confirmed', 'failed');
  session.answer(NO_MEDIA);
  result('answer', (await confirmed).event);
  const infos = [];
  // An INFO application/dtmf-relay is JsSIP's newDTMF.
  session.on('newDTMF', (e) => { if (e.originator === 'remote') infos.push(`${e.dtmf.tone}/${e.dtmf.duration}`); });
  let endedEarly = '';
  session.on('ended', (e) => { endedEarly = endedEarly || `ended-${e.originator}`; });
  const back = once(ua, 'registered');
  ua._transport.socket._ws.terminate();
  await back;
  result('reregistered', 'yes');
  for (let i = 0; i < 150 && infos.length === 0 && !endedEarly; ++i) await wait(20);
  result('established_after_reconnect', session.isEstablished() && !endedEarly ? 'yes' : `no_${endedEarly}`);
  result('info', infos[0] || 'none');
  const ended = once(session, 'ended', 'failed');
  session.terminate();
  result('end', `${(await ended).event}`);
  await wait(100);
  ua.stop();
  done();
}

async function certificate() {
  // The subject of the certificate a new TLS connection is served.
  const tls = await import('node:tls');
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  await new Promise((resolve) => { socket.once('secureConnect', resolve); socket.once('error', resolve); });
  const cert = socket.getPeerCertificate();
  result('subject_cn', cert && cert.subject ? cert.subject.CN : 'none');
  socket.destroy();
  done();
}

async function limits() {
  // Per-IP cap (the test sets it to 2): the third concurrent socket is refused.
  const a = rawSocket('sip');
  const b = rawSocket('sip');
  result('first', await handshake(a));
  result('second', await handshake(b));
  const c = rawSocket('sip');
  result('third', await handshake(c));
  c.terminate();
  // Pings: lws pings an idle connection (the test sets the idle timeout to 3 s, so pings come every second).
  const pinged = await new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 4000);
    a.once('ping', () => { clearTimeout(t); resolve(true); });
  });
  result('ping', pinged ? 'yes' : 'no');
  a.close();
  b.close();
  // A TCP connection that never starts TLS is dropped after the handshake timeout (the test sets 1 s).
  const net = await import('node:net');
  const started = Date.now();
  const stalled = net.connect({ host: '127.0.0.1', port });
  const closed = await new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 8000);
    stalled.once('close', () => { clearTimeout(t); resolve(true); });
    stalled.on('error', () => {});
  });
  result('stalled_closed', closed ? 'yes' : 'no');
  const elapsed = Date.now() - started;
  result('stalled_ms_over_500', elapsed > 500 ? 'yes' : 'no');
  result('stalled_ms_under_3000', elapsed < 3000 ? 'yes' : 'no');
  stalled.destroy();
  done();
}

// Rate limits (issue 11): argv[5] connections opened at once, argv[6] REGISTERs and INVITEs sent back to back on one
// connection (the test sets small buckets). Counts what was refused and how, then checks that both recover.
const request = (method, tag, ruri, toUser) => [
  `${method} ${ruri} SIP/2.0`,
  `Via: SIP/2.0/WSS r${tag}.invalid;branch=z9hG4bKr${tag}`,
  'Max-Forwards: 70',
  `From: <sip:1001@rtcgate.invalid>;tag=f${tag}`,
  `To: <sip:${toUser}@rtcgate.invalid>`,
  `Call-ID: rate-${tag}`,
  `CSeq: 1 ${method}`,
  `Contact: <sip:r${tag}@r.invalid;transport=ws>`,
  ...(method === 'REGISTER' ? ['Expires: 600'] : []),
  'Content-Length: 0', '', ''].join('\r\n');

function collectResponses(ws, count, ms = 5000) {
  return new Promise((resolve) => {
    const got = [];
    const t = setTimeout(() => { ws.off('message', on); resolve(got); }, ms);
    const on = (data) => {
      got.push(data.toString());
      if (got.length === count) { clearTimeout(t); ws.off('message', on); resolve(got); }
    };
    ws.on('message', on);
  });
}

async function burstOf(ws, method, count, ruri, toUser, prefix) {
  const pending = collectResponses(ws, count);
  for (let i = 0; i < count; ++i) ws.send(request(method, `${prefix}${i}`, ruri, toUser));
  const responses = await pending;
  const status = (r) => r.split('\r\n')[0].split(' ')[1];
  const key = method.toLowerCase();
  result(`${key}_answered`, responses.length);
  result(`${key}_401`, responses.filter((r) => status(r) === '401').length);
  const refused = responses.filter((r) => status(r) === '503');
  result(`${key}_503`, refused.length);
  result(`${key}_503_retry_after_1`, refused.filter((r) => /\r\nRetry-After: 1\r\n/.test(r)).length);
}

async function untilOpen(ms = 5000) {
  let refused = 0;
  for (const end = Date.now() + ms; Date.now() < end; await wait(100)) {
    const ws = rawSocket('sip');
    if (await handshake(ws) === 'open') return { ws, refused };
    ws.terminate();
    ++refused;
  }
  return { ws: null, refused };
}

async function rateLimits() {
  const n = Number(process.argv[5] || 12);
  const m = Number(process.argv[6] || 10);
  const sockets = Array.from({ length: n }, () => rawSocket('sip'));
  const outcomes = await Promise.all(sockets.map(handshake));
  result('connections_open', outcomes.filter((o) => o === 'open').length);
  result('connections_refused', outcomes.filter((o) => o === 'error').length);
  const ws = sockets[outcomes.indexOf('open')];
  sockets.forEach((s) => { if (s !== ws) s.terminate(); });
  await burstOf(ws, 'REGISTER', m, 'sip:rtcgate.invalid', '1001', 'reg');
  await burstOf(ws, 'INVITE', m, 'sip:5555@rtcgate.invalid', '5555', 'inv');
  ws.terminate();
  // Recovery: once tokens are back (1/s in the test), a new connection opens and a REGISTER is challenged again.
  const { ws: again, refused } = await untilOpen();
  result('connection_after', again ? 'open' : 'refused');
  result('connection_after_refused', refused);
  let status = 'none';
  let registerRefused = 0;
  for (let i = 0; again && i < 50 && status !== '401'; ++i) {
    const pending = collectResponses(again, 1);
    again.send(request('REGISTER', `after${i}`, 'sip:rtcgate.invalid', '1001'));
    const [r] = await pending;
    status = r ? r.split('\r\n')[0].split(' ')[1] : 'none';
    if (status === '503') ++registerRefused;
    if (status !== '401') await wait(100);
  }
  result('register_after', status);
  result('register_after_refused', registerRefused);
  if (again) again.close();
  done();
}

// Liveness (issue 9). The test configures a short idle timeout (argv[5], ms) and asks each client to stay quiet
// for `periods` of it. Nothing here sends SIP while it waits: only pongs, CRLF keepalives, or nothing at all.
const idleMs = Number(process.argv[5] || 2000);
const periods = Number(process.argv[6] || 4);
function longDeadline() {
  clearTimeout(deadline);
  setTimeout(() => { result('timeout', 1); process.exit(2); }, idleMs * (periods + 4) + 10000);
}

async function livenessAgent() {
  // A registered JsSIP agent with no call and no SIP traffic: its WebSocket answers pings (as browsers do) and must
  // stay up, with the agent still registered, for `periods` idle timeouts.
  longDeadline();
  const ua = jssipUa('1001', 'demo-1001', { register_expires: 600 });
  await started(ua);
  const r = once(ua, 'registered', 'registrationFailed');
  ua.register();
  result('register', (await r).event);
  let disconnects = 0;
  ua.on('disconnected', () => { ++disconnects; });
  let sipSent = 0;
  const transport = ua._transport;
  const send = transport.send.bind(transport);
  transport.send = (msg) => { ++sipSent; return send(msg); };
  let pings = 0;
  ua._transport.socket._ws.on('ping', () => { ++pings; });
  const started_ = Date.now();
  await wait(idleMs * periods);
  result('idle_ms', Date.now() - started_);
  result('disconnects', disconnects);
  result('sip_sent_while_idle', sipSent);
  result('pings', pings);
  result('still_registered', ua.isRegistered() && ua.isConnected() ? 'yes' : 'no');
  ua.stop();
  await wait(200);
  done();
}

async function livenessCall() {
  // An established call without RFC 4028 session timers and without any SIP for `periods` idle timeouts: only
  // pongs keep the connection alive. The call must still be up, and end with the browser's own BYE.
  longDeadline();
  const ua = jssipUa('1001', 'demo-1001', { session_timers: false });
  await started(ua);
  const session = ua.call('sip:5555@rtcgate.invalid', { ...NO_MEDIA, sessionTimersExpires: 0 });
  result('call', (await once(session, 'confirmed', 'failed')).event);
  let sipSent = 0;
  const transport = ua._transport;
  const send = transport.send.bind(transport);
  transport.send = (msg) => { ++sipSent; return send(msg); };
  let endedEarly = 'no';
  session.on('ended', () => { endedEarly = 'yes'; });
  let disconnects = 0;
  ua.on('disconnected', () => { ++disconnects; });
  await wait(idleMs * periods);
  result('disconnects', disconnects);
  result('sip_sent_while_idle', sipSent);
  result('ended_while_idle', endedEarly);
  result('established', session.isEstablished() ? 'yes' : 'no');
  const ended = once(session, 'ended', 'failed');
  session.terminate();
  result('end', (await ended).event);
  await wait(100);
  ua.stop();
  done();
}

async function livenessCrlf() {
  // A client that never answers pings but sends RFC 7118 / RFC 5626 CRLF keepalives twice per idle timeout.
  longDeadline();
  const ws = new WS(url, 'sip', { rejectUnauthorized: false, origin, autoPong: false });
  result('open', await handshake(ws));
  let pings = 0;
  let pongs = 0;
  let closedAfter = -1;
  const opened = Date.now();
  ws.on('ping', () => { ++pings; });
  ws.on('message', (data) => { if (String(data) === '\r\n') ++pongs; });
  ws.on('close', () => { closedAfter = Date.now() - opened; });
  const ticker = setInterval(() => { if (ws.readyState === WS.OPEN) ws.send('\r\n\r\n'); }, idleMs / 2);
  await wait(idleMs * periods);
  clearInterval(ticker);
  result('idle_ms', Date.now() - opened);
  result('closed_after_ms', closedAfter);
  result('crlf_answers', pongs);
  result('pings_ignored', pings);
  ws.terminate();
  done();
}

async function livenessSilent() {
  // Two peers that completed the upgrade and then send nothing at all, not even pongs: a WebSocket client with
  // automatic pongs off, and a raw TLS socket that wrote the upgrade by hand and never writes again. Both must be
  // dropped after about one idle timeout (plus at most one ping interval).
  longDeadline();
  const ws = new WS(url, 'sip', { rejectUnauthorized: false, origin, autoPong: false });
  const wsClosed = new Promise((resolve) => ws.once('close', () => resolve(Date.now())));
  result('ws_open', await handshake(ws));
  const wsOpened = Date.now();

  const tls = await import('node:tls');
  const raw = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  let rawOpened = 0;
  let head = '';
  const rawClosed = new Promise((resolve) => raw.once('close', () => resolve(Date.now())));
  raw.on('error', () => {});
  raw.on('secureConnect', () => {
    raw.write(['GET / HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: sip',
      `Origin: ${origin}`, '', ''].join('\r\n'));
  });
  raw.on('data', (d) => {
    if (rawOpened) return;  // pings and anything else: read and ignored
    head += d.toString('latin1');
    if (head.includes('\r\n\r\n')) {
      rawOpened = Date.now();
      result('raw_upgrade', head.split('\r\n')[0].replace(/\s+/g, '_'));
    }
  });
  const limit = wait(idleMs * 3 + 5000).then(() => 0);
  const wsAt = await Promise.race([wsClosed, limit]);
  const rawAt = await Promise.race([rawClosed, limit]);
  result('ws_closed_after_ms', wsAt ? wsAt - wsOpened : -1);
  result('raw_closed_after_ms', rawAt && rawOpened ? rawAt - rawOpened : -1);
  ws.terminate();
  raw.destroy();
  done();
}

// SIP.js takes its media layer as a factory: a media-less SessionDescriptionHandler that trades fixed SDP.
class FakeSdh {
  constructor() { this.remote = null; }
  close() {}
  async getDescription() { return { body: FAKE_SDP, contentType: 'application/sdp' }; }
  hasDescription(contentType) { return contentType === 'application/sdp'; }
  async rollbackDescription() {}
  async setDescription(sdp) { this.remote = sdp; }
  sendDtmf() { return false; }
}

function sipjsCallAgent(delegate) {
  return new SIP.UserAgent({
    uri: SIP.UserAgent.makeURI('sip:1002@rtcgate.invalid'),
    authorizationUsername: '1002', authorizationPassword: 'demo-1002',
    transportOptions: { server: url }, logLevel: process.env.SIPJS_LOG || 'error',
    sessionDescriptionHandlerFactory: () => new FakeSdh(),
    delegate,
  });
}

function sessionState(session, wanted, ms = 5000) {
  return new Promise((resolve) => {
    if (wanted.includes(session.state)) { resolve(session.state); return; }
    const t = setTimeout(() => resolve(`timeout-${session.state}`), ms);
    const listener = (s) => {
      if (wanted.includes(s)) { clearTimeout(t); session.stateChange.removeListener(listener); resolve(s); }
    };
    session.stateChange.addListener(listener);
  });
}

async function sipjsCallIn() {
  // SIP.js calls (digest-challenged INVITE), the test handler answers, SIP.js sends BYE.
  const ua = sipjsCallAgent(undefined);
  await ua.start();
  const inviter = new SIP.Inviter(ua, SIP.UserAgent.makeURI('sip:5555@rtcgate.invalid'));
  const established = sessionState(inviter, [SIP.SessionState.Established, SIP.SessionState.Terminated]);
  await inviter.invite();
  result('call', await established);
  if (inviter.state === SIP.SessionState.Established) {
    const terminated = sessionState(inviter, [SIP.SessionState.Terminated]);
    await inviter.bye();
    result('end', await terminated);
  }
  await ua.stop();
  done();
}

async function sipjsCallOut() {
  // rtcgate calls the registered SIP.js, which accepts; rtcgate hangs up.
  let invitation = null;
  let gotInvite;
  const invited = new Promise((resolve) => { gotInvite = resolve; });
  const ua = sipjsCallAgent({ onInvite: (inv) => { invitation = inv; gotInvite(); } });
  await ua.start();
  const registerer = new SIP.Registerer(ua, { expires: 120 });
  const registered = registererState(registerer, [SIP.RegistererState.Registered, SIP.RegistererState.Unregistered]);
  await registerer.register();
  result('register', await registered);
  await invited;
  result('offer', invitation.request.body.includes('m=audio') ? 'yes' : 'no');
  const established = sessionState(invitation, [SIP.SessionState.Established, SIP.SessionState.Terminated]);
  await invitation.accept();
  result('answer', await established);
  result('end', await sessionState(invitation, [SIP.SessionState.Terminated]));
  await ua.stop();
  done();
}

// Raw SIP on one WebSocket for the scenarios that keep many transactions open: every message goes to an inbox,
// taken from it by Call-ID and status.
const statusOf = (r) => Number(r.split('\r\n')[0].split(' ')[1]);
function sipSession(ws, user = '1001') {
  const inbox = [];
  ws.on('message', (data) => inbox.push(data.toString()));
  // The next response to `callId` whose status passes `want`, taken from the inbox; null after `ms`.
  const responseTo = async (callId, want, ms = 5000) => {
    for (const end = Date.now() + ms; Date.now() < end; await wait(10)) {
      const i = inbox.findIndex((r) => r.includes(`\r\nCall-ID: ${callId}\r\n`) && want(statusOf(r)));
      if (i >= 0) return inbox.splice(i, 1)[0];
    }
    return null;
  };
  // `make(cseq, extra)` builds the request; a 401 is answered once with credentials, as JsSIP does.
  const send = async (make, callId, method, uri, want) => {
    ws.send(make(1, []));
    let got = await responseTo(callId, (c) => c === 401 || want(c));
    if (got && statusOf(got) === 401) {
      if (method === 'INVITE') ws.send(ackFor(make(1, []), got));
      ws.send(make(2, [await authorization(got, uri, method, user)]));
      got = await responseTo(callId, want);
    }
    return got;
  };
  // A new transaction per CSeq: its own branch.
  const numbered = (text, method, cseq) => text.replace(`CSeq: 1 ${method}`, `CSeq: ${cseq} ${method}`)
    .replace(/branch=([^\r;]*)/, `branch=$1x${cseq}`);
  return { inbox, responseTo, send, numbered };
}

// security.max_pending_media_sessions (issue 11): argv[5] = N, the cap; argv[6] = rtcgate's SIP port. The agent
// registers, then places N calls whose ICE never completes (no candidates; the upstream only rings): each gets a
// provisional answer. The (N+1)th INVITE, and an INVITE from the upstream's address to the agent's DN, get 503 with
// Retry-After. The N calls fail at ice.connect_timeout_ms; a call placed after that is admitted again.
async function pendingCap() {
  const n = Number(process.argv[5] || 3);
  const sipPort = Number(process.argv[6]);
  const ws = rawSocket('sip');
  result('open', await handshake(ws));
  const { send, responseTo, numbered } = sipSession(ws);
  const status = statusOf;
  const register = (cseq, extra) => numbered(request('REGISTER', 'pc-reg', 'sip:rtcgate.invalid', '1001'), 'REGISTER', cseq).replace('Content-Length: 0', [...extra, 'Content-Length: 0'].join('\r\n'));
  const reg = await send(register, 'rate-pc-reg', 'REGISTER', 'sip:rtcgate.invalid', (c) => c >= 200);
  result('register', reg ? status(reg) : 'none');
  const call = (key) => (cseq, extra) => numbered(invite(key, FAKE_SDP, extra), 'INVITE', cseq);
  // The ACK of a final answer, for the INVITE (plain or with credentials) that got it.
  const ack = (key, response) => ws.send(ackFor(call(key)(Number(/\r\nCSeq: (\d+)/.exec(response)[1]), []), response));
  const ringing = (c) => c >= 100;
  let admitted = 0;
  for (let i = 0; i < n; ++i) {
    const got = await send(call(`pc${i}`), `cat-pc${i}`, 'INVITE', 'sip:5555@rtcgate.invalid', ringing);
    if (got && status(got) < 200) ++admitted;
    else console.error(`pc${i}: ${got ? got.split('\r\n')[0] : 'no answer'}`);
  }
  result('admitted', admitted);
  const over = await send(call('pc-over'), 'cat-pc-over', 'INVITE', 'sip:5555@rtcgate.invalid', (c) => c >= 200);
  result('over_cap', over ? status(over) : 'none');
  result('over_cap_retry_after', over && /\r\nRetry-After: (\d+)/.test(over) ? /\r\nRetry-After: (\d+)/.exec(over)[1] : 'none');
  if (over) ack('pc-over', over);
  // The same cap on the upstream side: an INVITE from the upstream's address to DN 1001.
  const { createSocket } = await import('node:dgram');
  const udp = createSocket('udp4');
  await new Promise((r) => udp.bind(0, '127.0.0.1', r));
  const udpAnswers = [];
  udp.on('message', (m) => udpAnswers.push(m.toString()));
  const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  const up = udp.address().port;
  udp.send([`INVITE sip:1001@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${up};branch=z9hG4bKpcup`,
    'Max-Forwards: 70', '<sip:7000@127.0.0.1>;tag=up1'.replace(/^/, 'From: '), 'To: <sip:1001@127.0.0.1>',
    'Call-ID: pc-upstream', 'CSeq: 1 INVITE', `Contact: <sip:7000@127.0.0.1:${up}>`, 'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort, '127.0.0.1');
  let upFinal = null;
  for (let i = 0; i < 500 && !upFinal; ++i, await wait(10)) upFinal = udpAnswers.find((r) => status(r) >= 200) || null;
  result('upstream_over_cap', upFinal ? status(upFinal) : 'none');
  result('upstream_over_cap_retry_after', upFinal && /\r\nRetry-After: (\d+)/.test(upFinal) ? /\r\nRetry-After: (\d+)/.exec(upFinal)[1] : 'none');
  udp.close();
  // The pending calls end at their ICE deadline with a final answer each (ACKed).
  const finals = [];
  for (let i = 0; i < n; ++i) {
    const got = await responseTo(`cat-pc${i}`, (c) => c >= 200, 12000);
    finals.push(got ? status(got) : 'none');
    if (got) ack(`pc${i}`, got);
  }
  result('pending_finals', finals.join(','));
  const after = await send(call('pc-after'), 'cat-pc-after', 'INVITE', 'sip:5555@rtcgate.invalid', ringing);
  result('after', after ? (status(after) < 200 ? 'admitted' : status(after)) : 'none');
  const afterFinal = await responseTo('cat-pc-after', (c) => c >= 200, 12000);
  result('after_final', afterFinal ? status(afterFinal) : 'none');
  if (afterFinal) ack('pc-after', afterFinal);
  await wait(100);
  ws.close();
  done();
}

// Half-open media at scale against the real daemon (issue 11; scripts/half_open_daemon.sh, not CI). argv[5] = legs
// whose ICE never completes (their one candidate is a socket that never answers), argv[6] = legs whose ICE
// completes and whose DTLS never does (a minimal ICE agent here answers and sends STUN checks, RFC 8445 7.2, and
// ignores DTLS), argv[7] = agents (users 2001.., password demo-<user>) sharing them, one WebSocket each. Every leg
// is answered by the upstream; the time from its INVITE until rtcgate frees it (BYE, or a final answer >= 300) is
// reported per kind.
const STUN_COOKIE = 0x2112a442;
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const stunAttr = (type, value) => {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
};
// A STUN message with MESSAGE-INTEGRITY (HMAC-SHA1 keyed with the ICE password) and FINGERPRINT (RFC 5389 15.4, 15.5).
function stunMessage(hmac, type, txid, attrs, key) {
  const body = Buffer.concat(attrs.map(([t, v]) => stunAttr(t, v)));
  const head = Buffer.alloc(20);
  head.writeUInt16BE(type);
  head.writeUInt16BE(body.length + 24, 2);
  head.writeUInt32BE(STUN_COOKIE, 4);
  txid.copy(head, 8);
  let msg = Buffer.concat([head, body]);
  msg = Buffer.concat([msg, stunAttr(0x0008, hmac('sha1', key).update(msg).digest())]);
  msg.writeUInt16BE(msg.length - 20 + 8, 2);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(msg) ^ 0x5354554e) >>> 0);
  return Buffer.concat([msg, stunAttr(0x8028, fp)]);
}
function stunAttrs(msg) {
  const out = new Map();
  for (let at = 20; at + 4 <= msg.length;) {
    const t = msg.readUInt16BE(at), len = msg.readUInt16BE(at + 2);
    out.set(t, msg.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return out;
}
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] : NaN);

async function halfOpen() {
  const nIce = Number(process.argv[5] || 500), nDtls = Number(process.argv[6] || 500);
  const agents = Number(process.argv[7] || 10);
  const { createSocket } = await import('node:dgram');
  const { createHmac, randomBytes } = await import('node:crypto');
  const bound = async () => {
    const u = createSocket('udp4');
    await new Promise((r) => u.bind(0, '127.0.0.1', r));
    return u;
  };
  const PWD = 'abcdefghijklmnopqrstuvwx';
  const sink = await bound();  // the ICE legs' candidate: reads and never answers
  let sinkChecks = 0;
  sink.on('message', () => { ++sinkChecks; });
  const agentSock = await bound();  // the DTLS legs' candidate: answers STUN, never DTLS
  const legs = new Map();  // our ufrag -> leg
  const byTx = new Map();  // transaction id of our checks -> leg
  let dtlsRecords = 0;
  agentSock.on('message', (msg, from) => {
    if (msg.length < 20 || msg.readUInt32BE(4) !== STUN_COOKIE) {
      if (msg[0] >= 20 && msg[0] <= 63) ++dtlsRecords;  // RFC 7983: DTLS, left unanswered
      return;
    }
    const type = msg.readUInt16BE(0), txid = msg.subarray(8, 20), attrs = stunAttrs(msg);
    if (type === 0x0001) {
      const user = attrs.get(0x0006)?.toString() || '';
      const leg = legs.get(user.split(':')[0]);
      if (!leg) return;
      leg.checksIn = (leg.checksIn || 0) + 1;
      const xor = Buffer.alloc(8);
      xor.writeUInt16BE(0x0001);
      xor.writeUInt16BE(from.port ^ (STUN_COOKIE >>> 16), 2);
      const a = from.address.split('.').map(Number);
      xor.writeUInt32BE((((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) ^ STUN_COOKIE) >>> 0, 4);
      agentSock.send(stunMessage(createHmac, 0x0101, txid, [[0x0020, xor]], PWD), from.port, from.address);
    } else if (type === 0x0101) {
      const leg = byTx.get(txid.toString('hex'));
      if (leg && !leg.nominated) { leg.nominated = Date.now(); }
    }
  });
  // Our checks with USE-CANDIDATE toward the leg's candidates, every 100 ms until one succeeds (bounded).
  const checkUntilNominated = async (leg) => {
    for (let i = 0; i < 100 && !leg.nominated && !leg.freed; ++i) {
      for (const c of leg.remote) {
        const txid = randomBytes(12);
        byTx.set(txid.toString('hex'), leg);
        const prio = Buffer.alloc(4); prio.writeUInt32BE(1845501695);
        agentSock.send(stunMessage(createHmac, 0x0001, txid, [[0x0006, Buffer.from(`${leg.remoteUfrag}:${leg.ufrag}`)],
          [0x0024, prio], [0x802a, randomBytes(8)], [0x0025, Buffer.alloc(0)]], leg.remotePwd), c.port, c.address);
      }
      await wait(100);
    }
  };
  const all = [];
  for (let i = 0; i < nIce + nDtls; ++i) {
    const kind = i < nIce ? 'ice' : 'dtls';
    const leg = { kind, index: i, ufrag: `ho${i}x`, user: String(2001 + (i % agents)) };
    leg.sdp = FAKE_SDP.replace('a=ice-ufrag:abcd', `a=ice-ufrag:${leg.ufrag}`).replace('a=ice-pwd:abcdefghijklmnopqrstuvwx', `a=ice-pwd:${PWD}`)
      + `a=candidate:1 1 udp 2122260223 127.0.0.1 ${(kind === 'ice' ? sink : agentSock).address().port} typ host\r\n`;
    legs.set(leg.ufrag, leg);
    all.push(leg);
  }
  const t0 = Date.now();
  await Promise.all(Array.from({ length: agents }, async (_, k) => {
    const user = String(2001 + k);
    const ws = rawSocket('sip');
    if (await handshake(ws) !== 'open') { console.error(`agent ${user}: no connection`); return; }
    const { send, numbered } = sipSession(ws, user);
    const mine = all.filter((l) => l.user === user);
    const byCallId = new Map(mine.map((l) => [`cat-ho${l.index}`, l]));
    ws.on('message', (data) => {
      const text = data.toString();
      const callId = /\r\nCall-ID: ([^\r]*)/.exec(text)?.[1];
      const leg = byCallId.get(callId);
      if (!leg) return;
      if (text.startsWith('BYE ')) {
        if (!leg.freed) leg.freed = Date.now();
        const keep = text.split('\r\n\r\n')[0].split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
        ws.send(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'));
      } else if (/^SIP\/2\.0 [3-6]\d\d /.test(text) && / INVITE\r\n/.test(text) && !/^SIP\/2\.0 401 /.test(text)) {
        if (!leg.freed) leg.freed = Date.now();
      }
    });
    for (const leg of mine) {
      const make = (cseq, extra) => numbered(invite(`ho${leg.index}`, leg.sdp, extra, user), 'INVITE', cseq);
      leg.sent = Date.now();
      const got = await send(make, `cat-ho${leg.index}`, 'INVITE', 'sip:5555@rtcgate.invalid', (c) => c >= 200);
      if (!got) continue;
      ws.send(ackFor(make(Number(/\r\nCSeq: (\d+)/.exec(got)[1]), []), got));
      if (statusOf(got) !== 200) continue;
      leg.answered = Date.now();
      const sdp = got.split('\r\n\r\n')[1] || '';
      leg.remoteUfrag = /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
      leg.remotePwd = /a=ice-pwd:(\S+)/.exec(sdp)?.[1];
      leg.remote = [...sdp.matchAll(/a=candidate:\S+ 1 udp \d+ (127\.\d+\.\d+\.\d+) (\d+) typ host/gi)]
        .map((m) => ({ address: m[1], port: Number(m[2]) }));
      if (leg.kind === 'dtls') checkUntilNominated(leg);
    }
    leg0: for (const end = Date.now() + 60000; Date.now() < end; await wait(50)) {
      if (mine.every((l) => l.freed || !l.answered)) break leg0;
    }
    ws.close();
  }));
  result('answered_all_within_ms', Math.max(...all.map((l) => l.answered || 0)) - t0);
  for (const kind of ['ice', 'dtls']) {
    const legsOf = all.filter((l) => l.kind === kind);
    const answered = legsOf.filter((l) => l.answered);
    const freed = answered.filter((l) => l.freed).map((l) => l.freed - l.sent).sort((a, b) => a - b);
    result(`${kind}_legs`, legsOf.length);
    result(`${kind}_answered`, answered.length);
    result(`${kind}_freed`, freed.length);
    result(`${kind}_freed_after_invite_ms`, `min=${freed[0]} p50=${percentile(freed, 0.5)} p95=${percentile(freed, 0.95)} max=${freed[freed.length - 1]}`);
    if (kind === 'dtls') {
      const nominated = answered.filter((l) => l.nominated);
      const afterIce = nominated.filter((l) => l.freed).map((l) => l.freed - l.nominated).sort((a, b) => a - b);
      result('dtls_ice_completed', nominated.length);
      result('dtls_freed_after_ice_ms', `min=${afterIce[0]} p50=${percentile(afterIce, 0.5)} p95=${percentile(afterIce, 0.95)} max=${afterIce[afterIce.length - 1]}`);
    }
  }
  result('last_freed_after_start_ms', Math.max(...all.map((l) => l.freed || 0)) - t0);
  result('stun_checks_to_silent_candidate', sinkChecks);
  result('dtls_records_ignored', dtlsRecords);
  sink.close();
  agentSock.close();
  done();
}

const scenarios = {
  'admin-call': adminCall,
  'drain-refusals': drainRefusals,
  'pending-cap': pendingCap,
  'half-open': halfOpen,
  'sipjs-call-in': sipjsCallIn,
  'sipjs-call-out': sipjsCallOut,
  certificate,
  limits,
  'rate-limits': rateLimits,
  'liveness-agent': livenessAgent,
  'liveness-call': livenessCall,
  'liveness-crlf': livenessCrlf,
  'liveness-silent': livenessSilent,
  'jssip-call-in': jssipCallIn,
  'jssip-call-out': jssipCallOut,
  'jssip-dial': jssipDial,
  'jssip-reconnect': jssipReconnect,
  'jssip-register': jssipRegister,
  'jssip-bad-password': jssipBadPassword,
  'jssip-token': () => jssipToken(process.argv[5] || ''),
  'jssip-agent': () => jssipAgent(process.argv[5], process.argv[6], process.argv[7], process.argv[8]),
  'sipjs-register': sipjsRegister,
  'sipjs-bad-password': sipjsBadPassword,
  hostile,
  strict,
  catalogue,
};

if (!scenarios[scenario]) { console.error(`unknown scenario ${scenario}`); process.exit(3); }
scenarios[scenario]().catch((e) => { console.error(e); result('exception', String(e).replace(/\s+/g, '_')); done(1); });

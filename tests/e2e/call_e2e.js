// SPDX-License-Identifier: Apache-2.0
// End-to-end call through rtcgate, as an agent and Genesys would make it:
//   headless Chromium + stock JsSIP (fake microphone: 440 Hz)  ⇄  rtcgate (real binary, loopback)
//   ⇄  SIPp as Genesys SIP Server, with the media on this script's own RTP endpoint playing 1 kHz PCMU.
// Asserts ICE + DTLS connected, at least 50 packets each way, 1 kHz heard in the browser (WebAudio), 440 Hz heard
// on the Genesys side (decoded RTP), and the negotiated browser codec (Opus: transcoded; PCMU: passthrough).
// Usage: node call_e2e.js <rtcgate binary> <outbound|inbound> <transcoded|passthrough|early-media|limits|reinvite|close-notify>
//   inbound transcoded/passthrough (issue 13): on the Genesys-offered call the page also inserts '159#' with
//   RTCDTMFSender (100 ms, 70 ms apart): Genesys must receive exactly the events 1, 5, 9, 11 on its PT 101, one per
//   timestamp, each with one marker, three end packets and 100 ms (+-40) at 8 kHz; Genesys's RFC 4733 '4' (300 ms)
//   must reach JsSIP as INFO with Duration=300 (Chrome exposes no received RFC 4733 to the page).
//   early-media (outbound): Genesys answers 183 with SDP first; the 1 kHz tone must be heard before the 200.
//   reinvite (inbound): Genesys moves the media to a second RTP endpoint with a re-INVITE (conference bridge);
//   the new endpoint must hear the browser's 440 Hz and the browser keep hearing 1 kHz.
//   limits (outbound): with security.max_calls 1 a second call gets 503; then the agent's browser disappears
//   mid-call (page closed) and rtcgate must end the Genesys leg with BYE.
//   long (inbound, transcoded): a 60 s call; Genesys's sender runs on its own absolute 20 ms schedule and both
//   sides must receive >= 99 % of what the other sent and of 50 packets per second of call (issue 9 measured
//   44-48/s when the gateway paced transcoded audio by a drifting timer).
//   sighup (inbound, transcoded): issue 11, reliability-security.md §5 item 38 with a call up: a 9 s call during which
//   the config file gets a valid change, a syntax error, the original, an unknown key, (issue 13) one reload changing
//   agents (1002 added, 1003 removed, 1001's password), codec preference, limits, a log level, the WSS certificate
//   (new TLS connections must get the new one's fingerprint; the call's connection goes on) and two [restart] keys
//   (listeners.admin, the RTP range: reported by name, the admin listener stays where it was), then a burst of 10 SIGHUPs
//   onto that file; two more agents have calls up through all of it, and a call after it must use the reloaded codec
//   order and the running RTP range;
//   each reload applied or refused (2 refused, >= 3 applied), the call ends by Genesys's BYE, both sides receive
//   >= 99 % of what the other sent on its own schedule; packets per second and the largest gaps are printed.
//   close-notify (outbound): the page closes its RTCPeerConnection (Chrome sends DTLS close_notify) 1.5 s before
//   JsSIP's BYE, as a normal hangup can (issue 9). That is no media failure: rtcgate sends no BYE of its own, the
//   browser's BYE gets 200 (not 481), and Genesys gets its BYE only after the browser's.
//   close-notify-no-bye (outbound): the page closes its RTCPeerConnection and never sends BYE: after its 5 s grace
//   rtcgate ends the call on both legs as a normal hangup (counted apart from failures).
//   dtmf (outbound, transcoded): issue 10. JsSIP sends '5' by INFO (Duration=250) and '7' by RFC 4733 (400 ms,
//   telephone-event/48000 with Opus); Genesys must receive both as RFC 4733 on PT 101 at 8 kHz with their durations
//   and three end packets. Genesys sends '9' (RFC 4733, 300 ms): JsSIP must get an INFO with Duration=300.
//   Inbound calls also check that Genesys's Call-Info answer-after=0 reaches JsSIP's incoming INVITE.
//   agent-hold (both directions; inbound by re-INVITE, outbound by UPDATE, JsSIP useUpdate): the agent holds for
//   3 s then resumes. Chrome must accept rtcgate's answers (recvonly, then sendrecv), Genesys (SIPp) must get
//   re-INVITEs a=sendonly then a=sendrecv (outbound: the first one gets 491 and must be retried), no audio may reach Genesys during the hold and the 440 Hz must again
//   after it, and the browser must hear 1 kHz again.
//   ice-restart (both directions): JsSIP renegotiate({rtcOfferConstraints: {iceRestart: true}}) mid-call: rtcgate
//   answers with new ICE credentials, media continues both ways, and Genesys gets no re-INVITE.
//   genesys-hold (inbound): Genesys holds (re-INVITE a=sendonly) and goes silent for longer than
//   media.rtp_timeout_ms (1.5 s here) without the call ending, retrieves with an offerless re-INVITE whose ACK
//   moves the media to a new port, then re-offers PCMA only: audio resumes at the new port, in PCMA after the
//   re-offer, and the browser keeps hearing 1 kHz.
//   genesys-hold-c0 (inbound): the same with SIP Server's default hold, c=0.0.0.0 (answered a=inactive).
//   makecall (inbound): issue 10, third-party call control (RFC 3725, desktop MakeCall): Genesys's INVITE has no
//   SDP; the browser is offered as for any inbound call, rtcgate's 200 carries an offer (SIPp checks PCMU, PCMA and
//   telephone-event) and Genesys's answer (PCMU, this script's RTP endpoint) comes in the ACK.
//   makecall-ack-without-sdp (inbound): the same INVITE, but Genesys ACKs without SDP and sends its SDP 1 s later in
//   a re-INVITE: the call must stay up and the audio start once the re-INVITE is answered.
//   makecall-ack-c0 (inbound): the same with a "black hole" answer in the ACK (c=0.0.0.0) instead of no SDP.
//   makecall-reinvite (inbound): SIP Server's default MakeCall flow: the answer in the ACK, then a re-INVITE with
//   the far end's SDP moves the media to a second RTP endpoint (as in reinvite), where the 440 Hz must arrive.
//   browser-refer (both directions): issue 10, blind transfer by the agent: the page calls session.refer('5001'); Genesys
//   (SIPp) must get a REFER on its own dialog with Refer-To <sip:5001@127.0.0.1> and Referred-By the DN, answers
//   202, NOTIFYs sipfrag 100 then 200 and BYEs the agent's leg: JsSIP must see requestSucceeded, trying and
//   accepted, the call end normally, and no header of Genesys's sipfrags reach the page.
//   browser-refer-replaces (inbound): attended transfer: a second call (the consult call, another SIPp) reaches the
//   agent, the page calls session.refer('5001', {replaces: consult}); the REFER on the first call's Genesys dialog
//   must carry ?Replaces= with the consult call's Genesys-side Call-ID and tags (not the browser's), then as
//   browser-refer; the consult call stays up until its own BYE.
//   browser-refer-refused (inbound): Genesys answers the agent's REFER 403: JsSIP must get requestFailed 403 and
//   the call stay up with audio until the agent hangs up.
//   browser-refer-consult (inbound): the usual attended transfer: the agent places a consult call to 5001 (Genesys
//   answers it: a SIPp UAS), then refers the inbound call with {replaces: consult}: Replaces must name the consult
//   call's Genesys dialog (the Call-ID rtcgate chose, the UAS's tag); the agent then hangs up the consult call.
//   makecall-browser-offers (inbound): makecall with upstream.offerless_invite_to_browser: the INVITE to the browser
//   has no SDP either; JsSIP offers in its 200 (Chrome a=setup:actpass), rtcgate answers in the ACK (a=setup:active,
//   RFC 5763) with a codec of the browser's offer, and its 200 to Genesys carries its offer as in makecall.
//   sipjs-hold (inbound): the agent is stock SIP.js 0.21 instead of JsSIP: it answers Genesys's call, holds (its
//   re-INVITE a=sendonly; Chrome must accept rtcgate's recvonly answer) and resumes as in agent-hold.
//   transfer-blind (inbound): issue 10, Genesys REFERs the agent's call (blind) to 7000 on the upstream: rtcgate
//   answers 202 and NOTIFYs 100 then 200 (SIPp checks), INVITEs 7000 (a second SIPp on the upstream address, with
//   media playing 1.5 kHz) and splices it under the same browser leg: the browser hears 1.5 kHz, the new party the
//   440 Hz with >= 99 % of 50 packets per second, the old dialog is released by Genesys's BYE, and no re-INVITE or
//   UPDATE reaches the browser.
//   transfer-blind-no-bye (inbound): the same, but Genesys never releases the old dialog (rtcgate must BYE it) and
//   the new party answers PCMA only (the old one spoke PCMU).
//   transfer-fails (inbound): Genesys REFERs the call to a busy 7000: NOTIFY 486 Busy Here, and the call goes on
//   with the customer (audio both ways after the failure) until Genesys's BYE.
//   consult-transfer (inbound): issue 10, two Genesys dialogs on one DN: the customer's call (1 kHz) is held
//   (a=sendonly), then a consultation call (1.5 kHz) reaches the browser as a second JsSIP session; the browser hears
//   1.5 kHz on it, the consulted party the 440 Hz, the held customer nothing; completion: Genesys BYEs both dialogs.
//   agent-busy (inbound): issue 10, with security.max_calls_per_agent 1 a second Genesys call to the DN while the
//   agent is on a call gets 486 and never reaches the browser; the first call goes on.
//   invite-replaces (inbound): issue 10, SIP Server's INVITE with Replaces (RFC 3891) naming the customer's dialog
//   brings a new party (1.5 kHz at 127.0.0.2) under the same browser leg: rtcgate BYEs the replaced dialog, the
//   browser hears 1.5 kHz and the new party the 440 Hz; no re-INVITE reaches the browser.
//   browser-reconnect (both directions): issue 10, calls.browser_reconnect_grace_ms. Mid-call the page's WebSocket closes
//   under JsSIP, which keeps the call, reconnects by itself and registers again: audio continues both ways through
//   the gap and after it (tones, packets per second), Genesys (SIPp) gets no BYE and no re-INVITE, the DN stays
//   registered, and the agent's hangup (BYE over the new connection) reaches Genesys.
//   browser-gone (inbound): the page is closed mid-call without BYE: rtcgate keeps the call for the grace (3 s here)
//   and only then ends it (BYE to Genesys) for that reason, keeping the DN registered until then (log order).
//   browser-reload (inbound): the page is reloaded mid-call (its JsSIP UA, call and media are gone) and registers
//   again within the grace: rtcgate offers the call to the new page (fresh INVITE, answer-after=0, naming the old
//   dialog), bridges it to the unchanged Genesys leg (SIPp sees no re-INVITE and no BYE) and audio flows both ways.
//   (limits runs with the grace at 0: the BYE upstream as soon as the WebSocket closes.)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const dgram = require('dgram');
const { launchBrowser, serveFiles, TONE_DETECTOR } = require(path.join(__dirname, '../js/lib/browser'));
const { startProcess, waitFor } = require(path.join(__dirname, '../js/lib/process'));
const { freeUdpPort } = require(path.join(__dirname, '../js/lib/ports'));
const { linearToUlaw, ulawToLinear, dominantHz } = require(path.join(__dirname, '../js/lib/wav'));
const { checkCallMetrics } = require(path.join(__dirname, 'metrics_check'));

const [binary, direction, mode] = process.argv.slice(2);
const MODES = ['transcoded', 'passthrough', 'early-media', 'limits', 'reinvite', 'long', 'close-notify', 'close-notify-no-bye',
  'dtmf', 'agent-hold', 'ice-restart', 'genesys-hold', 'genesys-hold-c0', 'makecall', 'makecall-ack-without-sdp',
  'makecall-reinvite', 'makecall-ack-c0', 'session-timers', 'browser-refer', 'browser-refer-replaces',
  'browser-refer-refused', 'browser-refer-consult', 'makecall-browser-offers', 'sipjs-hold', 'transfer-blind',
  'consult-transfer', 'invite-replaces', 'agent-busy', 'transfer-blind-no-bye', 'transfer-fails',
  'browser-reconnect', 'browser-gone', 'browser-reload', 'sighup'];
const INBOUND_ONLY = ['reinvite', 'long', 'sighup', 'genesys-hold', 'genesys-hold-c0', 'makecall', 'makecall-ack-without-sdp',
  'makecall-reinvite', 'makecall-ack-c0', 'session-timers', 'browser-refer-replaces',
  'browser-refer-refused', 'browser-refer-consult', 'makecall-browser-offers', 'sipjs-hold', 'transfer-blind',
  'consult-transfer', 'invite-replaces', 'agent-busy', 'transfer-blind-no-bye', 'transfer-fails',
  'browser-gone', 'browser-reload'];
const RECONNECT_MODES = ['browser-reconnect', 'browser-gone', 'browser-reload'];
if (!binary || !['outbound', 'inbound'].includes(direction) || !MODES.includes(mode) ||
    (direction === 'inbound' && !['transcoded', 'passthrough', 'agent-hold', 'ice-restart', 'browser-refer',
      'browser-reconnect', ...INBOUND_ONLY].includes(mode)) ||
    (direction === 'outbound' && INBOUND_ONLY.includes(mode))) {
  console.error(`usage: node call_e2e.js <rtcgate binary> <outbound|inbound> <${MODES.join('|')}>`);
  process.exit(2);
}
const SCENARIOS = path.join(__dirname, 'scenarios');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-e2e-'));
const children = [];
const checks = [];
const check = (name, ok, detail) => {
  checks.push({ name, ok });
  console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${detail !== undefined ? ` (${detail})` : ''}`);
};

function start(cmd, args, opts = {}) {
  const child = startProcess(path.basename(cmd), cmd, args, opts);
  children.push(child);
  return child;
}

// A-law (ITU-T G.711), both ways.
function alawToLinear(a) {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8; else if (seg === 1) t += 0x108; else { t += 0x108; t <<= seg - 1; }
  return (a & 0x80) ? t : -t;
}
function linearToAlaw(pcm) {
  let v = pcm >> 3, mask;
  if (v >= 0) mask = 0xd5; else { mask = 0x55; v = -v - 1; }
  const ends = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let seg = 0;
  while (seg < 8 && v > ends[seg]) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const a = (seg << 4) | (seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f);
  return a ^ mask;
}
// Genesys's media: records what rtcgate sends (with arrival times) and, once rtcgate's address is known (symmetric
// RTP), sends a 1 kHz PCMU tone back on its own absolute 20 ms schedule: packet n is due at start + 20 n ms, and a
// late timer sends every packet already due, so this sender never drifts the way a setInterval would.
function genesysMedia(address = '127.0.0.1', hz = 1000, ssrc = 0x6e6e6e6e) {
  const sock = dgram.createSocket('udp4');
  // law: the G.711 law sent, that of the last audio packet received (PCMU until rtcgate switches to PCMA).
  const state = { received: [], sent: 0, sentAt: [], timer: null, remote: null, stopped: false, law: 0 };
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12 || (msg[0] >> 6) !== 2) return;
    state.received.push({ pt: msg[1] & 0x7f, marker: (msg[1] & 0x80) !== 0, ts: msg.readUInt32BE(4),
      payload: msg.subarray(12), at: performance.now() });
    if ((msg[1] & 0x7f) === 0 || (msg[1] & 0x7f) === 8) state.law = msg[1] & 0x7f;
    if (!state.remote) {
      state.remote = rinfo;
      if (state.onFirst) state.onFirst();
      let phase = 0;
      state.seq = 1;
      state.ts = 0;
      const t0 = performance.now();
      state.t0 = t0;
      let slot = 0;  // 20 ms slots elapsed on the absolute schedule (a slot during an event sends no audio)
      const sendDue = () => {
        while (!state.stopped && t0 + slot * 20 <= performance.now()) {
          slot++;
          const ts = state.ts;
          state.ts += 160;
          const encode = state.law === 8 ? linearToAlaw : linearToUlaw;
          const pkt = Buffer.alloc(12 + 160);
          for (let i = 0; i < 160; i++, phase++) pkt[12 + i] = encode(Math.round(12000 * Math.sin((2 * Math.PI * hz * phase) / 8000)));
          if (state.dtmfUntil && performance.now() < state.dtmfUntil) continue;  // audio pauses during an event
          pkt[0] = 0x80; pkt[1] = state.law; pkt.writeUInt16BE(state.seq++ & 0xffff, 2); pkt.writeUInt32BE(ts >>> 0, 4);
          pkt.writeUInt32BE(ssrc, 8);
          sock.send(pkt, state.remote.port, state.remote.address);
          state.sent++;
          state.sentAt.push(performance.now());
        }
        if (!state.stopped) state.timer = setTimeout(sendDue, Math.max(0, t0 + slot * 20 - performance.now()));
      };
      sendDue();
    }
  });
  // An RFC 4733 event on PT 101 (8 kHz): an update every 20 ms, then the end packet three times (RFC 4733 2.5.1.4).
  state.sendDtmf = (code, ms) => new Promise((resolve) => {
    const eventTs = state.ts >>> 0;
    const updates = Math.ceil(ms / 20);
    state.dtmfUntil = performance.now() + ms + 60;
    let i = 0;
    const next = () => {
      const end = i >= updates - 1;
      const pkt = Buffer.alloc(16);
      pkt[0] = 0x80; pkt[1] = 101 | (i === 0 ? 0x80 : 0);
      pkt.writeUInt16BE(state.seq++ & 0xffff, 2); pkt.writeUInt32BE(eventTs, 4); pkt.writeUInt32BE(ssrc, 8);
      pkt[12] = code; pkt[13] = (end ? 0x80 : 0) | 10; pkt.writeUInt16BE(end ? ms * 8 : (i + 1) * 160, 14);
      sock.send(pkt, state.remote.port, state.remote.address);
      if (++i < updates + 2) setTimeout(next, 20); else resolve();
    };
    next();
  });
  return new Promise((resolve) => sock.bind(0, address, () => {
    state.port = sock.address().port;
    state.stopSending = () => {
      if (!state.stopped && state.t0 !== undefined) state.sendSeconds = (performance.now() - state.t0) / 1000;
      state.stopped = true;
      clearTimeout(state.timer);
    };
    state.close = () => { state.stopSending(); sock.close(); };
    resolve(state);
  }));
}

const PAGE = `<!doctype html><title>rtcgate e2e agent</title><script src="jssip.js"></script><script>
${TONE_DETECTOR}
window.register = (url, user = '1001') => new Promise((resolve, reject) => {
  const socket = new JsSIP.WebSocketInterface(url);
  // Every SIP message the page sends and receives, as its start line and CSeq (session-timer refresh counts).
  window.sipOut = []; window.sipIn = [];
  const summary = (m) => { const t = String(m); return t.split('\\r\\n')[0] + ' | ' + ((t.match(/^CSeq:[^\\r]*/mi) || [''])[0]); };
  const send = socket.send.bind(socket);
  socket.send = (m) => { window.sipOut.push(summary(m)); return send(m); };
  let ondata = null;
  Object.defineProperty(socket, 'ondata', { configurable: true, get: () => ondata,
    set: (f) => { ondata = typeof f === 'function' ? (d) => {
    window.sipIn.push(summary(d));
    if (/^NOTIFY /.test(String(d))) window.notifies.push(String(d));
    return f(d);
  } : f; } });
  window.notifies = [];
  window.ua = new JsSIP.UA({ sockets: [socket], uri: 'sip:' + user + '@rtcgate.invalid', password: 'demo-' + user,
                             register_expires: 300 });
  window.ua.on('registered', () => resolve('registered'));
  window.ua.on('registrationFailed', (e) => reject(new Error('registration failed: ' + e.cause)));
  window.sessions = [];
  window.ua.on('newRTCSession', (e) => {
    if (e.originator !== 'remote') return;
    window.incoming = e.session;
    (window.sessions = window.sessions || []).push(e.session);
    e.session.on('ended', (ev) => { e.session.endedBy = ev.originator; });
    // Digits from Genesys: rtcgate relays its RFC 4733 as INFO application/dtmf-relay (JsSIP newDTMF).
    window.dtmfIn = [];
    e.session.on('newDTMF', (ev) => { if (ev.originator === 'remote') window.dtmfIn.push({ tone: ev.dtmf.tone, duration: ev.dtmf.duration }); });
    window.incomingCallInfo = e.request.getHeader('Call-Info') || '';
    window.incomingHadSdp = !!e.request.body;
    // isEstablished() is true from answer() on; an offer in our 200 (offerless INVITE) has media only after the ACK.
    window.incomingConfirmed = false;
    e.session.on('confirmed', () => { window.incomingConfirmed = true; });
    // rtcOfferConstraints: for an INVITE without SDP JsSIP 3.13 asks for no microphone and offers no m-line
    // (then waits forever for ICE gathering) unless told to receive audio.
    e.session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] },
                       rtcOfferConstraints: { offerToReceiveAudio: true } });
    window.incomingResumes = e.request.getHeader('X-Rtcgate-Resumed-Call') || '';
  });
  window.ua.start();
});
window.measure = async (session) => {
  const pc = session.connection;
  await new Promise((r) => setTimeout(r, 1000));
  const track = pc.getReceivers()[0].track;
  const tone = await window.__rtcgateTone.detect(new MediaStream([track]), 2500);
  const r = { tone, inbound: 0, outbound: 0, codec: '', dtls: '', pair: '', state: pc.connectionState };
  const stats = await pc.getStats();
  const codecs = {};
  stats.forEach((v) => { if (v.type === 'codec') codecs[v.id] = v.mimeType; });
  stats.forEach((v) => {
    if (v.type === 'inbound-rtp' && v.kind === 'audio') { r.inbound = v.packetsReceived; r.codec = codecs[v.codecId] || ''; r.jitterBufferS = v.jitterBufferDelay / v.jitterBufferEmittedCount; }
    if (v.type === 'outbound-rtp' && v.kind === 'audio') r.outbound = v.packetsSent;
    if (v.type === 'transport') r.dtls = v.dtlsState;
    if (v.type === 'candidate-pair' && v.nominated && v.state === 'succeeded') r.pair = v.state;
  });
  return r;
};
// Packets received so far on the call's audio stream (no tone detection: cheap enough to sample a hold with).
window.inboundPackets = async (session) => {
  let n = 0;
  (await session.connection.getStats()).forEach((v) => {
    if (v.type === 'inbound-rtp' && v.kind === 'audio') n = v.packetsReceived;
  });
  return n;
};
window.callOut = (target) => new Promise((resolve, reject) => {
  const session = window.ua.call(target, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  session.on('failed', (e) => reject(new Error('call failed: ' + e.cause)));
  session.on('confirmed', async () => {
    try { const r = await window.measure(session); session.terminate(); resolve(r); } catch (e) { reject(e); }
  });
});
// Issue 10: one digit by INFO, one by RFC 4733 (RTCDTMFSender), then waits for Genesys's digit (INFO from rtcgate).
window.callDtmf = (target) => new Promise((resolve, reject) => {
  const session = window.ua.call(target, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  const received = [];
  session.on('newDTMF', (e) => { if (e.originator === 'remote') received.push({ tone: e.dtmf.tone, duration: e.dtmf.duration }); });
  session.on('failed', (e) => reject(new Error('call failed: ' + e.cause)));
  session.on('confirmed', async () => {
    try {
      const r = await window.measure(session);
      session.sendDTMF('5', { duration: 250 });
      await new Promise((res) => setTimeout(res, 1000));
      session.sendDTMF('7', { duration: 400, transportType: 'RFC2833' });
      await new Promise((res) => setTimeout(res, 1500));
      window.dtmfSent = true;
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((res) => setTimeout(res, 50));
      await new Promise((res) => setTimeout(res, 300));
      r.received = received;
      session.terminate();
      resolve(r);
    } catch (e) { reject(e); }
  });
});
// Issue 13: in-band RFC 4733 from the browser (RTCDTMFSender, what JsSIP's transportType 'RFC2833' uses) on the
// current call; resolves when Chrome has played the last tone (tonechange with an empty tone).
window.insertDtmf = (tones, duration, gap) => new Promise((resolve) => {
  const pc = window.current.connection;
  const sender = pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
  const dtmf = sender && sender.dtmf;
  const events = (d) => (d && d.sdp.match(/a=rtpmap:\\d+ telephone-event\\/\\d+/g)) || [];
  const r = { canInsert: !!(dtmf && dtmf.canInsertDTMF), events: events(pc.remoteDescription),
    answered: events(pc.localDescription), tones: [] };
  if (!r.canInsert) return resolve(r);
  const timer = setTimeout(() => resolve(r), 10000);
  dtmf.ontonechange = (e) => {
    if (e.tone) return r.tones.push(e.tone);
    clearTimeout(timer);
    resolve(r);
  };
  dtmf.insertDTMF(tones, duration, gap);
});
window.callEarly = (target) => new Promise((resolve, reject) => {
  const session = window.ua.call(target, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  let early = null;
  session.on('failed', (e) => reject(new Error('call failed: ' + e.cause)));
  session.on('progress', async (e) => {
    if (early || !e.response || e.response.status_code !== 183) return;
    early = 'pending';
    await new Promise((r) => setTimeout(r, 500));
    const track = session.connection.getReceivers()[0].track;
    early = await window.__rtcgateTone.detect(new MediaStream([track]), 2000);
    early.confirmedYet = session.isEstablished();
  });
  session.on('confirmed', async () => {
    try { const r = await window.measure(session); r.early = early; session.terminate(); resolve(r); } catch (e) { reject(e); }
  });
});
window.callCloseNotify = (target, sendBye) => new Promise((resolve, reject) => {
  const session = window.ua.call(target, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  // Every SIP message the page receives from now on, to see what rtcgate sends after the media closed.
  const seen = [];
  const socket = window.ua._transport.socket;
  const ondata = socket.ondata;
  socket.ondata = (data) => { seen.push({ at: Date.now(), text: String(data) }); ondata(data); };
  session.on('failed', (e) => reject(new Error('call failed: ' + e.cause)));
  session.on('confirmed', async () => {
    try {
      const r = await window.measure(session);
      session.connection.close();  // Chrome sends DTLS close_notify here
      r.closedAt = Date.now();
      if (sendBye) {
        await new Promise((res) => setTimeout(res, 1500));
        r.byeAt = Date.now();
        r.endedBeforeBye = !session.isEstablished();
        try { session.terminate(); } catch (e) { r.terminateError = String(e); }
        await new Promise((res) => setTimeout(res, 1000));
      } else {
        await new Promise((res) => {
          const t = setTimeout(res, 9000);
          session.on('ended', (e) => { r.endedAt = Date.now(); r.endedBy = e.originator; clearTimeout(t); res(); });
        });
      }
      r.messages = seen.filter((m) => m.at >= r.closedAt)
        .map((m) => m.text.split('\\r\\n')[0] + ' [' + (m.text.match(/^CSeq:\\s*(.*)$/mi) || ['', ''])[1] + ']');
      resolve(r);
    } catch (e) { reject(e); }
  });
});
window.callTwice = (target) => new Promise((resolve, reject) => {
  const opts = { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } };
  const first = window.ua.call(target, opts);
  first.on('failed', (e) => reject(new Error('first call failed: ' + e.cause)));
  first.on('confirmed', () => {
    const second = window.ua.call(target, opts);
    second.on('failed', (e) => resolve({ secondStatus: e.message ? e.message.status_code : 0, cause: e.cause }));
    second.on('confirmed', () => resolve({ secondStatus: 200 }));
  });
});
// A long call: stats sampled every second until Genesys hangs up; the last sample before the end is returned.
window.answerLong = () => new Promise((resolve, reject) => {
  const wait = () => {
    if (!window.incoming) return setTimeout(wait, 20);
    const s = window.incoming;
    let last = null, first = null, timer = null;
    const sample = async () => {
      const stats = await s.connection.getStats();
      const r = { inbound: 0, outbound: 0, codec: '', at: performance.now() };
      const codecs = {};
      stats.forEach((v) => { if (v.type === 'codec') codecs[v.id] = v.mimeType; });
      stats.forEach((v) => {
        if (v.type === 'inbound-rtp' && v.kind === 'audio') { r.inbound = v.packetsReceived; r.codec = codecs[v.codecId] || ''; r.lost = v.packetsLost; r.concealed = v.concealedSamples; }
        if (v.type === 'outbound-rtp' && v.kind === 'audio') r.outbound = v.packetsSent;
      });
      if (!first && r.inbound > 0) first = r;
      last = r;
    };
    const started = async () => {
      const m = await window.measure(s);
      timer = setInterval(() => { sample().catch(() => {}); }, 1000);
      s.on('ended', () => { clearInterval(timer); resolve({ ...m, first, last }); });
    };
    if (s.isEstablished()) started().catch(reject); else s.on('confirmed', () => started().catch(reject));
    s.on('failed', (e) => reject(new Error('incoming call failed: ' + e.cause)));
  };
  wait();
});
// Calls that stay up for what the test does next (window.current): hold/unhold, ICE restart, measure again.
window.callKeep = (target) => new Promise((resolve, reject) => {
  const session = window.ua.call(target, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  window.current = session;
  session.on('failed', (e) => reject(new Error('call failed: ' + e.cause)));
  session.on('confirmed', () => window.measure(session).then(resolve, reject));
});
window.ufrags = (s) => {
  const u = (d) => ((d && d.sdp.match(/a=ice-ufrag:(\\S+)/)) || [])[1];
  return { local: u(s.connection.localDescription), remote: u(s.connection.remoteDescription) };
};
window.holdCall = (on, useUpdate) => new Promise((resolve, reject) => {
  const s = window.current;
  const timer = setTimeout(() => reject(new Error('hold/unhold timed out')), 8000);
  s.once('ended', (e) => reject(new Error('call ended on hold/unhold: ' + e.cause)));
  const done = () => {
    clearTimeout(timer);
    const t = s.connection.getTransceivers()[0];
    resolve({ onHold: s.isOnHold().local, direction: t.currentDirection, established: s.isEstablished() });
  };
  const ok = on ? s.hold({ useUpdate }, done) : s.unhold({ useUpdate }, done);
  if (!ok) reject(new Error('JsSIP refused to ' + (on ? 'hold' : 'unhold')));
});
window.iceRestart = () => new Promise((resolve, reject) => {
  const s = window.current;
  const before = window.ufrags(s);
  const timer = setTimeout(() => reject(new Error('ICE restart timed out')), 10000);
  s.once('ended', (e) => reject(new Error('call ended on ICE restart: ' + e.cause)));
  const ok = s.renegotiate({ rtcOfferConstraints: { iceRestart: true } }, () => {
    clearTimeout(timer);
    resolve({ before, after: window.ufrags(s), established: s.isEstablished() });
  });
  if (!ok) reject(new Error('JsSIP refused to renegotiate'));
});
// Issue 10: the agent transfers the current call (JsSIP session.refer); resolves when the call has ended.
// replacesIndex: attended transfer, replacing the agent's call window.sessions[replacesIndex].
window.referCurrent = (target, replacesIndex) => new Promise((resolve, reject) => {
  const s = window.current;
  const replaces = replacesIndex === undefined ? undefined
    : replacesIndex === 'consult' ? window.consult : window.sessions[replacesIndex];
  const events = [];
  const timer = setTimeout(() => reject(new Error('the transfer did not end the call: ' + events.join(', '))), 20000);
  s.once('ended', (e) => {
    clearTimeout(timer);
    resolve({ events, endedBy: e.originator, cause: e.cause, notifies: window.notifies.slice() });
  });
  const push = (name, code) => events.push(name + ' ' + code);
  s.refer(target, { replaces, eventHandlers: {
    requestSucceeded: (e) => push('requestSucceeded', e.response.status_code),
    requestFailed: (e) => push('requestFailed', e.response ? e.response.status_code : e.cause),
    trying: (e) => push('trying', e.status_line.status_code),
    progress: (e) => push('progress', e.status_line.status_code),
    accepted: (e) => push('accepted', e.status_line.status_code),
    failed: (e) => push('failed', e.status_line.status_code),
  } });
  // Blind: a second transfer while the first is in progress must be refused (491), the first going on.
  if (!replaces) s.refer('5002', { eventHandlers: {
    requestSucceeded: (e) => push('second requestSucceeded', e.response.status_code),
    requestFailed: (e) => push('second requestFailed', e.response ? e.response.status_code : e.cause),
  } });
});
// A call rtcgate must refuse: resolves with the final status.
window.callRefused = (target) => new Promise((resolve) => {
  const session = window.ua.call(target, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  session.on('failed', (e) => resolve(e.message && e.message.status_code ? e.message.status_code : e.cause));
  session.on('confirmed', () => { session.terminate(); resolve(200); });
});
// The agent's consult call (outbound), kept in window.consult once established.
window.callConsult = (target) => new Promise((resolve, reject) => {
  const session = window.ua.call(target, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  window.consult = session;
  session.on('failed', (e) => reject(new Error('consult call failed: ' + e.cause)));
  session.on('confirmed', () => window.measure(session).then(resolve, reject));
});
// A transfer Genesys refuses: the call must stay up; the agent then hangs up.
window.referRefusedThenHangUp = (target) => new Promise((resolve, reject) => {
  const s = window.current;
  s.refer(target, { eventHandlers: {
    requestSucceeded: (e) => reject(new Error('REFER accepted: ' + e.response.status_code)),
    requestFailed: async (e) => {
      try {
        const status = e.response ? e.response.status_code : e.cause;
        const established = s.isEstablished();
        const after = await window.measure(s);
        s.terminate();
        resolve({ status, established, after });
      } catch (err) { reject(err); }
    },
  } });
});
// A transfer replacing a call the agent does not have: refused (403) before anything reaches Genesys.
window.referUnknownReplaces = (target) => new Promise((resolve) => {
  const fake = { _request: { call_id: 'no-such-call@h7.invalid' }, _to_tag: 'x1', _from_tag: 'y2' };
  window.current.refer(target, { replaces: fake, eventHandlers: {
    requestSucceeded: (e) => resolve('requestSucceeded ' + e.response.status_code),
    requestFailed: (e) => resolve('requestFailed ' + (e.response ? e.response.status_code : e.cause)),
  } });
});
// The agent's second call (answered by the newRTCSession handler) is established.
window.secondCallUp = () => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no second call')), 15000);
  const wait = () => {
    const s = window.sessions[1];
    if (!s) return setTimeout(wait, 20);
    const done = () => { clearTimeout(timer); resolve({ callId: s._request.call_id }); };
    if (s.isEstablished()) return done();
    s.on('confirmed', done);
    s.on('failed', (e) => reject(new Error('second call failed: ' + e.cause)));
  };
  wait();
});
// Stock SIP.js 0.21 as the agent (sipjs-hold): it registers, answers the call, holds and resumes by re-INVITE
// (sessionDescriptionHandlerOptionsReInvite.hold, as its SimpleUser does).
window.registerSipjs = (url) => new Promise((resolve, reject) => {
  const ua = new SIP.UserAgent({
    uri: SIP.UserAgent.makeURI('sip:1001@rtcgate.invalid'),
    authorizationUsername: '1001', authorizationPassword: 'demo-1001',
    transportOptions: { server: url },
    sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] } },
    delegate: {
      onInvite: (invitation) => {
        window.sipjsIncoming = invitation;
        invitation.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } })
          .catch((e) => console.error('SIP.js accept failed: ' + e.message));
      },
    },
  });
  ua.start().then(() => {
    const registerer = new SIP.Registerer(ua, { expires: 300 });
    registerer.stateChange.addListener((s) => { if (s === SIP.RegistererState.Registered) resolve('registered'); });
    registerer.register({ requestDelegate: { onReject: (r) => reject(new Error('registration failed: ' + r.message.statusCode)) } });
  }, reject);
});
window.answerInSipjs = () => new Promise((resolve, reject) => {
  const wait = () => {
    const s = window.sipjsIncoming;
    if (!s) return setTimeout(wait, 20);
    const established = () => {
      window.sipjsSession = s;
      window.current = { connection: s.sessionDescriptionHandler.peerConnection };  // what measure() reads
      window.measure(window.current).then(resolve, reject);
    };
    if (s.state === SIP.SessionState.Established) return established();
    s.stateChange.addListener((st) => {
      if (st === SIP.SessionState.Established) established();
      if (st === SIP.SessionState.Terminated) reject(new Error('the SIP.js call ended'));
    });
  };
  wait();
});
window.holdCallSipjs = (on) => new Promise((resolve, reject) => {
  const s = window.sipjsSession;
  const timer = setTimeout(() => reject(new Error('hold/unhold timed out')), 8000);
  const options = s.sessionDescriptionHandlerOptionsReInvite;
  options.hold = on;
  s.sessionDescriptionHandlerOptionsReInvite = options;
  // onAccept also follows a refused answer (SIP.js then ACKs, BYEs and terminates): the state tells them apart.
  const done = (error) => {
    clearTimeout(timer);
    if (error) return reject(new Error(error));
    const t = s.sessionDescriptionHandler.peerConnection.getTransceivers()[0];
    resolve({ onHold: on, direction: t.currentDirection, established: s.state === SIP.SessionState.Established });
  };
  s.invite({ requestDelegate: { onAccept: () => done(), onReject: (r) => done('re-INVITE rejected ' + r.message.statusCode) } })
    .catch((e) => done('re-INVITE failed: ' + e.message));
});
// Issue 10: the i-th incoming session (several per UA: dialogs on one DN), measured once established.
window.answerAt = (i) => new Promise((resolve, reject) => {
  const wait = () => {
    const s = (window.sessions || [])[i];
    if (!s) return setTimeout(wait, 20);
    if (s.isEstablished()) return window.measure(s).then(resolve, reject);
    s.on('confirmed', () => window.measure(s).then(resolve, reject));
    s.on('failed', (e) => reject(new Error('incoming session ' + i + ' failed: ' + e.cause)));
  };
  wait();
});
// Plays a session's remote audio for the rest of the call, as an agent's page does: Chrome pulls audio from its
// jitter buffer only while something renders the track, so between measurements it would fill up otherwise.
window.playRemote = (s) => {
  const el = new Audio();
  el.srcObject = new MediaStream([s.connection.getReceivers()[0].track]);
  (window.players = window.players || []).push(el);
  return el.play().then(() => true, (e) => String(e));
};
// Packet counters of the call, without the tone measurement.
window.counts = async (session) => {
  const r = { inbound: 0, outbound: 0 };
  (await session.connection.getStats()).forEach((v) => {
    if (v.type === 'inbound-rtp' && v.kind === 'audio') r.inbound = v.packetsReceived;
    if (v.type === 'outbound-rtp' && v.kind === 'audio') r.outbound = v.packetsSent;
  });
  return r;
};
// Issue 10: the WebSocket under JsSIP closes (not through JsSIP, which then reconnects by itself after
// connection_recovery_min_interval and registers again). Resolves once JsSIP is registered again.
window.dropWebSocket = () => new Promise((resolve, reject) => {
  const s = window.current;
  let ended = '';
  s.once('ended', (e) => { ended = e.originator + ' ' + e.cause; });
  const timer = setTimeout(() => reject(new Error('JsSIP did not register again')), 30000);
  const sent = window.sipOut.length;
  window.ua.once('registered', () => {
    clearTimeout(timer);
    resolve({ established: s.isEstablished(), ended, reregistered: window.sipOut.slice(sent).some((l) => /^REGISTER /.test(l)) });
  });
  window.ua._transport.socket._ws.close();
});
window.answerIn = () => new Promise((resolve, reject) => {
  const wait = () => {
    if (!window.incoming) return setTimeout(wait, 20);
    const s = window.incoming;
    window.current = s;
    const done = (r) => resolve({ ...r, callInfo: window.incomingCallInfo, inviteHadSdp: window.incomingHadSdp,
      localType: s.connection.localDescription.type,
      remoteSetup: (s.connection.remoteDescription.sdp.match(/a=setup:(\\w+)/) || [])[1] });
    if (window.incomingConfirmed) return window.measure(s).then(done, reject);
    s.on('confirmed', () => window.measure(s).then(done, reject));
    s.on('failed', (e) => reject(new Error('incoming call failed: ' + e.cause)));
  };
  wait();
});
</script>`;

async function main() {
  // JsSIP from npm, bundled for the page as it is (no changes).
  require('../js/node_modules/esbuild').buildSync({
    stdin: { contents: 'window.JsSIP = require("jssip");' + (mode === 'sipjs-hold' ? 'window.SIP = require("sip.js");' : ''),
      resolveDir: path.join(__dirname, '../js') },
    bundle: true, outfile: path.join(tmp, 'jssip.js'), format: 'iife', logLevel: 'error',
  });
  const site = await serveFiles({ 'index.html': PAGE, 'jssip.js': fs.readFileSync(path.join(tmp, 'jssip.js'), 'utf8') });
  const origin = site.url.replace(/\/$/, '');
  const media = await genesysMedia();
  // reinvite: where Genesys moves the media; the first endpoint goes quiet once the new one is in use.
  // genesys-hold: the port the retrieve's ACK moves the media to (same host).
  const genesysHoldMode = mode === 'genesys-hold' || mode === 'genesys-hold-c0';
  const movedByReinvite = mode === 'reinvite' || mode === 'makecall-reinvite';
  const moved = movedByReinvite ? await genesysMedia('127.0.0.2') : genesysHoldMode ? await genesysMedia() : null;
  if (moved && movedByReinvite) moved.onFirst = () => media.stopSending();
  const sippPort = await freeUdpPort();
  const browserCodecs = direction === 'inbound' && mode === 'passthrough' ? '[pcmu, pcma, opus]' : '[opus, pcmu, pcma]';
  // A port range of this run's own, outside the default 20000-29999 that the component tests' daemons use and below
  // the ephemeral ports: RTP still in flight toward a port another test's daemon just released would otherwise be
  // latched by this daemon (symmetric RTP accepts any port of the SDP's address) and the call would lose its media.
  // The ICE range follows it: the default (30000-39999) would overlap it, which the config check refuses (issue 13).
  const rtpPortMin = 30000 + 2 * Math.floor(Math.random() * 1300);
  const cfg = path.join(tmp, 'rtcgate.yaml');
  // sighup: the WSS certificate comes from files, so that a reload can replace it (issue 13).
  const wssTls = mode === 'sighup' ? `, tls_cert_file: ${certificatePair('a').cert}, tls_key_file: ${certificatePair('a').key}` : '';
  fs.writeFileSync(cfg, `listeners:
  admin: {address: 127.0.0.1, port: 0}
  wss: [{address: 127.0.0.1, port: 0${wssTls}}]
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: ${sippPort}}]
  offerless_invite_to_browser: ${mode === 'makecall-browser-offers'}
agents: [{user: "1001", password: demo-1001, dn: "1001"}${mode === 'sighup' ? ', {user: "1003", password: demo-1003, dn: "1003"}' + SIGHUP_EXTRA_AGENTS.map((u) => `, {user: "${u}", password: demo-${u}, dn: "${u}"}`).join('') : ''}]
media: {workers: 1, rtp_address: 127.0.0.1, rtp_port_min: ${rtpPortMin}, rtp_port_max: ${rtpPortMin + 99}, ice_port_min: ${rtpPortMin + 100}, ice_port_max: ${rtpPortMin + 199}${genesysHoldMode ? ', rtp_timeout_ms: 1500' : ''}}
ice: {candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}
codecs: {browser: ${browserCodecs}, passthrough: ${mode === 'passthrough'}}
security: {allowed_origins: ["${origin}"], max_calls: ${mode === 'limits' ? 1 : 50}${mode === 'agent-busy' ? ', max_calls_per_agent: 1' : ''}}
calls: {browser_reconnect_grace_ms: ${mode === 'limits' ? 0 : mode === 'browser-gone' ? 3000 : 10000}}
logging: {components: {session: debug}}
`);

  // Genesys (SIPp) answers the agent's call and, on the way, the DN's REGISTERs.
  let sipp;
  // browser-refer-consult: Genesys answering the agent's consult call (and the DN's REGISTERs).
  let consultUas, consultUasMedia;
  if (mode === 'browser-refer-consult') {
    consultUasMedia = await genesysMedia();
    consultUas = start('sipp', ['-sf', path.join(SCENARIOS, 'uas-answer-external-media.xml'), '-i', '127.0.0.1', '-p',
      String(sippPort), '-key', 'rtpport', String(consultUasMedia.port), '-timeout', '60s', '-timeout_error',
      '-nostdin', '-bind_local'], { cwd: tmp });
  }
  if (direction === 'outbound') {
    const scenario = mode === 'early-media' ? 'uas-early-media-then-answer.xml'
      : mode === 'agent-hold' ? 'uas-answer-expect-agent-hold.xml'
      : mode === 'browser-refer' ? 'uas-answer-expect-refer.xml' : 'uas-answer-external-media.xml';
    sipp = start('sipp', ['-sf', path.join(SCENARIOS, scenario), '-i', '127.0.0.1', '-p',
      String(sippPort), '-key', 'rtpport', String(media.port), '-timeout', '60s', '-timeout_error',
      '-nostdin', '-bind_local'], { cwd: tmp });
  }
  const gw = start(binary, ['--config', cfg]);
  const wssPort = await waitFor(() => (gw.out.match(/WSS listening on wss:\/\/127\.0\.0\.1:(\d+)/) || [])[1], 15000, 'rtcgate WSS');
  const sighupContext = { wssPort: Number(wssPort), origin, rtpPortMin, newAdminPort: await freeUdpPort() };
  sighupWssPort = Number(wssPort);
  const sipPort = await waitFor(() => (gw.out.match(/ready: SIP toward Genesys on 127\.0\.0\.1:(\d+)/) || [])[1], 15000, 'rtcgate ready');

  const browser = await launchBrowser({ toneHz: 440 });
  try {
    const page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.log('page:', m.text()); });
    await page.goto(site.url);
    check(`agent (${mode === 'sipjs-hold' ? 'SIP.js' : 'JsSIP'}) registered over WSS`, (await page.evaluate(
      ([u, sipjs]) => (sipjs ? window.registerSipjs : window.register)(u), [`wss://127.0.0.1:${wssPort}`, mode === 'sipjs-hold'])) === 'registered');
    if (mode === 'sipjs-hold') await page.evaluate(() => { window.holdCall = window.holdCallSipjs; });
    let result;
    if (mode === 'browser-refer') {
      // The destination policy REFER targets share, on the agent's own call: not a dial string, refused 403.
      const refused = await page.evaluate(() => window.callRefused('sip:50%2001@rtcgate.invalid'));
      check('a call to a target that is not a dial string is refused 403', refused === 403, refused);
    }
    if (mode === 'limits') {
      const r = await page.evaluate(() => window.callTwice('sip:5000@rtcgate.invalid'));
      check('a call beyond security.max_calls is refused with 503', r.secondStatus === 503, JSON.stringify(r));
      // The agent's browser vanishes mid-call: its WebSocket closes without BYE.
      await page.close();
      const code = await Promise.race([sipp.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
      check('Genesys leg ended with BYE after the WebSocket dropped', code === 97, `sipp exit ${code}`);
      return finishGateway(gw);
    }
    let sippExitAt = 0;
    if (sipp) sipp.exited.then(() => { sippExitAt = Date.now(); });
    if (mode === 'close-notify-no-bye') {
      result = await page.evaluate(() => window.callCloseNotify('sip:5000@rtcgate.invalid', false));
      const msgs = result.messages || [];
      console.log(`SIP seen by the page after its media closed: ${JSON.stringify(msgs)}`);
      check('rtcgate saw the browser\'s DTLS close_notify', /DTLS peer sent close_notify/.test(gw.out));
      const after = result.endedAt ? result.endedAt - result.closedAt : -1;
      check('rtcgate ended the call with BYE to the browser after its 5 s grace',
        result.endedBy === 'remote' && msgs.some((m) => m.startsWith('BYE ')) && after >= 4500 && after <= 7500,
        `${result.endedBy}, ${after} ms after close_notify`);
      await Promise.race([sipp.exited, new Promise((r) => setTimeout(r, 10000))]);
      check('Genesys got its BYE after the grace, not at the close_notify', sippExitAt - result.closedAt >= 4500,
        `${sippExitAt - result.closedAt} ms after close_notify`);
      const metrics = await adminMetrics(gw);
      check('no browser leg counted as failed', metrics('rtcgate_browser_legs_failed_total') === 0,
        metrics('rtcgate_browser_legs_failed_total'));
      check('the call counted as ended by the browser closing its media',
        metrics('rtcgate_calls_ended_browser_media_closed_total') === 1,
        metrics('rtcgate_calls_ended_browser_media_closed_total'));
    } else if (mode === 'close-notify') {
      result = await page.evaluate(() => window.callCloseNotify('sip:5000@rtcgate.invalid', true));
      const msgs = result.messages || [];
      console.log(`SIP seen by the page after its media closed: ${JSON.stringify(msgs)}`);
      check('rtcgate saw the browser\'s DTLS close_notify', /DTLS peer sent close_notify/.test(gw.out));
      check('the call was still up when the browser sent its BYE', !result.endedBeforeBye && !result.terminateError,
        result.terminateError);
      check('rtcgate sent no BYE to the browser', !msgs.some((m) => m.startsWith('BYE ')), JSON.stringify(msgs));
      check('the browser\'s BYE got 200 OK', msgs.some((m) => /^SIP\/2\.0 200 .*BYE\]$/.test(m)) &&
        !msgs.some((m) => m.startsWith('SIP/2.0 481')), JSON.stringify(msgs));
      await Promise.race([sipp.exited, new Promise((r) => setTimeout(r, 10000))]);
      check('Genesys got its BYE only after the browser\'s BYE', sippExitAt >= result.byeAt,
        `Genesys BYE ${sippExitAt - result.byeAt} ms after the browser's`);
      const metric = await adminMetrics(gw);
      check('no browser leg counted as failed', metric('rtcgate_browser_legs_failed_total') === 0,
        metric('rtcgate_browser_legs_failed_total'));
      check('one browser leg counted as closed by the browser', metric('rtcgate_browser_legs_closed_by_peer_total') === 1,
        metric('rtcgate_browser_legs_closed_by_peer_total'));
    } else if (mode === 'dtmf') {
      const call = page.evaluate(() => window.callDtmf('sip:5000@rtcgate.invalid'));
      // Genesys's digit once the browser sent its own.
      for (let i = 0; i < 600 && !(await page.evaluate(() => window.dtmfSent === true)); i++)
        await new Promise((r) => setTimeout(r, 50));
      await media.sendDtmf(9, 300);
      result = await call;
      checkDtmf(result, media);
    } else if (mode === 'agent-hold' || mode === 'ice-restart' || mode === 'sipjs-hold') {
      if (direction === 'outbound') {
        result = await page.evaluate(() => window.callKeep('sip:5000@rtcgate.invalid'));
      } else {
        const hold = mode !== 'ice-restart';
        sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, hold
          ? 'uac-call-agent-expect-agent-hold.xml' : 'uac-call-agent-external-media.xml'),
        '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(media.port),
        '-key', 'rtpport2', '0', '-d', hold ? '8000' : '16000', '-m', '1', '-timeout', '60s',
        '-timeout_error', '-nostdin'], { cwd: tmp });
        result = await page.evaluate((sipjs) => (sipjs ? window.answerInSipjs : window.answerIn)(), mode === 'sipjs-hold');
      }
      if (mode === 'agent-hold' || mode === 'sipjs-hold') await agentHold(page, media, direction === 'outbound', gw);
      else await iceRestart(page, media, gw);
      if (direction === 'outbound') await page.evaluate(() => window.current.terminate());
    } else if (direction === 'outbound' && mode === 'browser-refer') {
      result = await page.evaluate(() => window.callKeep('sip:5000@rtcgate.invalid'));
      await browserRefer(page, gw);
    } else if (mode === 'transfer-blind' || mode === 'transfer-blind-no-bye') {
      ({ result, sipp } = await transferBlind(page, media, gw, sipPort, sippPort));
    } else if (mode === 'agent-busy') {
      sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-agent-external-media.xml'),
        '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(media.port),
        '-key', 'rtpport2', '0', '-d', '6000', '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
      result = await page.evaluate(() => window.answerIn());
      const busy = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-to-busy-agent-486.xml'),
        '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', '9', '-m', '1', '-timeout', '30s',
        '-timeout_error', '-nostdin'], { cwd: tmp });
      const busyCode = await sippExit(busy, 20000);
      check('a second call to the busy agent got 486 (security.max_calls_per_agent 1)', busyCode === 0, `sipp exit ${busyCode}`);
      const invites = await page.evaluate(() => window.sipIn.filter((l) => /^INVITE /.test(l)).length);
      check('it never reached the browser', invites === 1, invites);
      const metric = await adminMetrics(gw);
      check('one call counted as refused for a busy agent', metric('rtcgate_calls_refused_agent_busy_total') === 1,
        metric('rtcgate_calls_refused_agent_busy_total'));
    } else if (mode === 'transfer-fails') {
      ({ result, sipp } = await transferFails(page, media, gw, sipPort, sippPort));
    } else if (mode === 'invite-replaces') {
      ({ result, sipp } = await inviteReplaces(page, media, gw, sipPort));
    } else if (mode === 'consult-transfer') {
      ({ result, sipp } = await consultTransfer(page, media, gw, sipPort));
    } else if (mode === 'browser-reconnect' && direction === 'outbound') {
      result = await page.evaluate(() => window.callKeep('sip:5000@rtcgate.invalid'));
      await browserReconnect(page, media, gw);
    } else if (RECONNECT_MODES.includes(mode)) {
      sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-agent-expect-bye.xml'),
        '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(media.port),
        '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
      result = await page.evaluate(() => window.answerIn());
      if (mode === 'browser-reconnect') await browserReconnect(page, media, gw);
      else if (mode === 'browser-reload') result = await browserReload(page, media, gw, wssPort);
      else await browserGone(page, gw, sipp);
    } else if (direction === 'outbound') {
      result = await page.evaluate((early) => (early ? window.callEarly : window.callOut)('sip:5000@rtcgate.invalid'),
        mode === 'early-media');
      if (mode === 'early-media') {
        const e = result.early || {};
        check('early media (183): Genesys 1 kHz heard before the answer', Math.abs((e.hz || 0) - 1000) <= 10 && e.confirmedYet === false,
          JSON.stringify(e));
      }
    } else {
      const scenario = mode === 'reinvite' ? 'uac-call-agent-then-move-media.xml'
        : mode === 'genesys-hold' ? 'uac-call-agent-hold-retrieve-new-port-then-pcma.xml'
        : mode === 'genesys-hold-c0' ? 'uac-call-agent-hold-c0-retrieve-new-port-then-pcma.xml'
        : mode === 'makecall' || mode === 'makecall-browser-offers' ? 'uac-makecall-offerless-invite-answer-in-ack.xml'
        : mode === 'makecall-ack-without-sdp' ? 'uac-makecall-offerless-invite-ack-without-sdp-then-reinvite.xml'
        : mode === 'makecall-ack-c0' ? 'uac-makecall-offerless-invite-ack-c0-then-reinvite.xml'
        : mode === 'makecall-reinvite' ? 'uac-makecall-offerless-invite-answer-in-ack-then-reinvite-new-host.xml'
        : mode === 'session-timers' ? 'uac-call-agent-session-timer-refreshes.xml'
        : mode === 'browser-refer' ? 'uac-call-agent-expect-refer.xml'
        : mode === 'browser-refer-replaces' ? 'uac-call-agent-expect-refer-replaces.xml'
        : mode === 'browser-refer-refused' ? 'uac-call-agent-refuse-refer.xml'
        : mode === 'browser-refer-consult' ? 'uac-call-agent-expect-refer-consult.xml'
        : 'uac-call-agent-external-media.xml';
      const longCall = mode === 'long' || mode === 'session-timers' || mode === 'sighup';
      // sighup (issue 13): more calls up through the reloads, each agent on a page of its own.
      if (mode === 'sighup') sighupContext.extraCalls = await startExtraCalls(browser, sipPort, site.url);
      sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, scenario),
        '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(media.port),
        '-key', 'rtpport2', String(moved ? moved.port : 0),
        '-d', mode === 'long' ? String(LONG_CALL_MS) : mode === 'sighup' ? String(SIGHUP_CALL_MS) : mode === 'session-timers' ? String(TIMERS_TAIL_MS) : genesysHoldMode || mode === 'transcoded' || mode === 'passthrough' ? '7000' : '6000',
        '-m', '1', '-timeout', mode === 'long' ? '120s' : mode === 'session-timers' ? '220s' : '60s',
        '-timeout_error', '-nostdin'], { cwd: tmp });
      if (longCall) {
        // Genesys stops its audio 2 s before its BYE, so the browser's last stats sample has all of it.
        const stopAt = setTimeout(() => media.stopSending(),
          (mode === 'long' ? LONG_CALL_MS : mode === 'sighup' ? SIGHUP_CALL_MS : 3 * TIMERS_REFRESH_MS + TIMERS_TAIL_MS) - 2000);
        const reloads = mode === 'sighup' ? reloadsDuringTheCall(gw, cfg, sighupContext) : null;
        if (reloads) reloads.catch(() => {});  // awaited below; its failure must not crash the script before that
        const rtt = mode === 'long' ? browserRttDuringCall(gw) : null;
        result = await page.evaluate(() => window.answerLong());
        clearTimeout(stopAt);
        if (rtt) {
          // Issue 13: Chromium answers rtcgate's SRTCP SR (LSR/DLSR), so the browser leg has an RFC 3550 6.4.1 RTT.
          const r = await rtt;
          check('admin API: the browser leg\'s rtt_ms is a number during the call', typeof r.ms === 'number' && r.ms >= 0 && r.ms < 1000,
            `${r.ms} after ${r.afterS} s of call`);
          // Observed when the call's media ends, just after the browser saw the BYE: polled, bounded.
          const rttCount = 'rtcgate_call_rtt_seconds_count\\{leg="browser"\\}';
          let count = NaN;
          for (let i = 0; i < 50 && !(count >= 1); i++) {
            count = (await adminMetrics(gw))(rttCount);
            if (!(count >= 1)) await new Promise((r) => setTimeout(r, 100));
          }
          check('rtcgate_call_rtt_seconds observed the browser leg once at the call\'s end', count === 1, count);
        }
        if (reloads) await reloads;
        for (const c of sighupContext.extraCalls || []) c.result = await c.answered;
        if (mode === 'session-timers') await checkSessionTimers(page, gw);
      } else if (genesysHoldMode) {
        const held = genesysHold(page, media, moved, gw);
        held.catch(() => {});  // awaited below; its failure must not crash the script before that
        result = await page.evaluate(() => window.answerIn());
        await held;
      } else if (mode === 'browser-refer') {
        result = await page.evaluate(() => window.answerIn());
        await browserRefer(page, gw);
      } else if (mode === 'browser-refer-consult') {
        result = await page.evaluate(() => window.answerIn());
        const c = await page.evaluate(() => window.callConsult('sip:5001@rtcgate.invalid'));
        check('consult call: browser hears Genesys 1 kHz', Math.abs(c.tone.hz - 1000) <= 10 && c.state === 'connected',
          `${c.tone.hz} Hz, ${c.state}`);
        // The consult call's Genesys-side Call-ID: the one rtcgate chose for its INVITE (logged once per leg).
        const consultCallId = (gw.out.match(/Genesys leg: Call-ID (\S+)/) || [])[1] || '?';
        await browserRefer(page, gw, 'consult', { callId: consultCallId, toTag: `${consultUas.pid}SIPpTag01\\d+` });
        await page.evaluate(() => window.consult.terminate());
        const uasCode = await Promise.race([consultUas.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
        check('the consult call ended by the agent\'s BYE (SIPp UAS completed)', uasCode === 97, `exit ${uasCode}`);
        check('the consult call carried audio to Genesys', consultUasMedia.received.length >= 50, consultUasMedia.received.length);
        consultUasMedia.close();
      } else if (mode === 'browser-refer-refused') {
        result = await page.evaluate(() => window.answerIn());
        const r = await page.evaluate(() => window.referRefusedThenHangUp('5001'));
        check('Genesys\'s 403 to the REFER reached JsSIP as 403 (requestFailed)', r.status === 403, r.status);
        check('the call stayed up after the refused transfer', r.established, r.established);
        check('browser still hears Genesys 1 kHz after the refused transfer', Math.abs(r.after.tone.hz - 1000) <= 10,
          `${r.after.tone.hz} Hz`);
        check('rtcgate relayed Genesys\'s refusal', /Genesys refused the transfer: 403 Forbidden; 403 to the browser/.test(gw.out));
      } else if (mode === 'browser-refer-replaces') {
        result = await page.evaluate(() => window.answerIn());
        // The consult call: Genesys's second call to the agent, with a Call-ID the first SIPp's scenario expects.
        const consultMedia = await genesysMedia();
        const consult = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-agent-external-media.xml'),
          '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(consultMedia.port),
          '-cid_str', 'consult-%u@%s', '-d', '12000', '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
        await page.evaluate(() => window.secondCallUp());
        // JsSIP calls its session established as soon as it answers; the transfer is the agent's next step only once
        // rtcgate has answered the consult call toward Genesys too (a Replaces naming a call still being set up is
        // refused 403, as it should be).
        await waitFor(() => (gw.out.match(/call to DN 1001 answered/g) || []).length >= 2, 20000, 'consult call answered');
        await browserRefer(page, gw, 1, { callId: 'consult-1@127.0.0.1', toTag: `${consult.pid}SIPpTag001` });
        const consultCode = await Promise.race([consult.exited, new Promise((r) => setTimeout(() => r('timeout'), 30000))]);
        check('the consult call stayed up until its own BYE (SIPp completed)', consultCode === 0, `exit ${consultCode}`);
        check('the consult call carried audio to Genesys', consultMedia.received.length >= 50, consultMedia.received.length);
        consultMedia.close();
      } else {
        result = await page.evaluate(() => window.answerIn());
        if (mode === 'transcoded' || mode === 'passthrough') {
          // Issue 13: RFC 4733 both ways on a Genesys-offered call, once the tones have been measured.
          result.dtmfOut = await page.evaluate(() => window.insertDtmf('159#', 100, 70));
          await media.sendDtmf(4, 300);
          for (let i = 0; i < 100 && (await page.evaluate(() => window.dtmfIn.length)) === 0; i++) await sleep(50);
          result.dtmfIn = await page.evaluate(() => window.dtmfIn);
        }
        if (mode !== 'reinvite') {  // the re-INVITE scenario's INVITE asks for no auto-answer
          check('Genesys Call-Info answer-after=0 reached the browser\'s INVITE', /;answer-after=0/.test(result.callInfo || ''),
            result.callInfo);
        }
      }
    }
    const sippCode = await Promise.race([sipp.exited, new Promise((r) => setTimeout(() => r('timeout'), 20000))]);
    media.close();
    if (mode === 'long' || mode === 'session-timers' || mode === 'sighup') checkLongCall(result, media);
    if (mode === 'sighup') await checkReloadsKeptTheCall(gw, media, sippCode, sighupContext);
    for (const c of sighupContext.extraCalls || []) {
      const code = await Promise.race([c.sipp.exited, new Promise((r) => setTimeout(() => r('timeout'), 20000))]);
      c.media.close();
      check(`call to ${c.user}: ended by Genesys's BYE after the reloads (SIPp scenario completed)`, code === 0, `exit ${code}`);
      checkLongCall(c.result, c.media, `call to ${c.user}: `);
    }
    if (mode === 'sighup' && sighupContext.extraCalls.length) await checkNewCallAfterReloads(sighupContext.extraCalls[0], sipPort, rtpPortMin);
    if (moved) moved.close();

    const expectCodec = mode === 'passthrough' ? 'audio/PCMU' : 'audio/opus';
    const genesys = moved || media;
    if (moved && movedByReinvite) check('media moved by re-INVITE reached the new endpoint', moved.received.length >= 50, moved.received.length);
    check('browser ICE + DTLS connected', result.state === 'connected' && result.dtls === 'connected',
      `connection=${result.state} dtls=${result.dtls}`);
    check(`browser leg codec ${expectCodec}`, result.codec === expectCodec, result.codec);
    check('browser received >= 50 packets', result.inbound >= 50, result.inbound);
    check('browser sent >= 50 packets', result.outbound >= 50, result.outbound);
    check('browser hears Genesys 1 kHz tone', Math.abs(result.tone.hz - 1000) <= 10, `${result.tone.hz} Hz`);
    const audio = genesys.received.filter((p) => p.pt === 0);
    check('Genesys received >= 50 PCMU packets', audio.length >= 50, audio.length);
    check('Genesys sent >= 50 packets', genesys.sent >= 50, genesys.sent);
    const pcm = [];
    for (const p of audio.slice(Math.min(25, audio.length >> 1), Math.min(audio.length, 125)))
      for (const b of p.payload) pcm.push(ulawToLinear(b));
    const hz = pcm.length ? dominantHz(pcm) : 0;
    check('Genesys hears the browser 440 Hz tone', Math.abs(hz - 440) <= 10, `${hz} Hz`);
    // The UAS scenario ends with stop_now once its INVITE dialog is over (SIPp exits 97 for that); the UAC with -m 1
    // exits 0 when its call succeeded.
    check('SIPp (Genesys) scenario completed', sippCode === (direction === 'outbound' ? 97 : 0), `exit ${sippCode}`);
    if (direction === 'inbound' && (mode === 'transcoded' || mode === 'passthrough')) checkInboundDtmf(result, media, mode);
    if (mode === 'transcoded' || mode === 'passthrough') {
      const adminUrl = (gw.out.match(/admin: (http:\/\/127\.0\.0\.1:\d+\/)/) || [])[1];
      await checkCallMetrics(adminUrl, { direction, transcoded: mode === 'transcoded' }, check);
    }
    if (mode === 'makecall-browser-offers') {
      check('the INVITE to the browser had no SDP', result.inviteHadSdp === false, String(result.inviteHadSdp));
      check('the browser was the offerer on its leg (its SDP in the 200)', result.localType === 'offer', result.localType);
      check('rtcgate answered in the ACK with a=setup:active (RFC 5763)', result.remoteSetup === 'active', result.remoteSetup);
      check('rtcgate logged the browser\'s offer in its 200', /browser offered in its 200: opus\/111; answering in the ACK/.test(gw.out));
    } else if (direction === 'inbound' && mode.startsWith('makecall')) {
      check('rtcgate offered to the browser itself (its INVITE had SDP)', result.inviteHadSdp === true, String(result.inviteHadSdp));
    }
    if (mode === 'makecall' || mode === 'makecall-reinvite' || mode === 'makecall-browser-offers') {
      check('rtcgate applied Genesys\'s answer from the ACK',
        /Genesys answer in the ACK: media 127\.0\.0\.1:\d+ \(sendrecv\) pcmu/.test(gw.out), 'log');
    } else if (mode === 'makecall-ack-without-sdp' || mode === 'makecall-ack-c0') {
      check(`rtcgate kept the call up after an ACK ${mode === 'makecall-ack-c0' ? 'answering c=0.0.0.0' : 'without SDP'}`,
        mode === 'makecall-ack-c0' ? /Genesys media 0\.0\.0\.0:\d+ \(no destination yet\): waiting for its re-INVITE/.test(gw.out)
          : /ACK without SDP: waiting for its re-INVITE/.test(gw.out), 'log');
      check('rtcgate started the bridge on Genesys\'s re-INVITE',
        /Genesys media at 127\.0\.0\.1:\d+, pcmu: starting the bridge/.test(gw.out), 'log');
    }
  } finally {
    await browser.close();
    await site.close();
  }
  return finishGateway(gw);
}

// Issue 10: the RFC 4733 events Genesys received (grouped by timestamp: one event each) and the INFO digits the
// browser got, with their durations.
function checkDtmf(result, genesys) {
  const events = new Map();
  for (const p of genesys.received.filter((x) => x.pt === 101 && x.payload.length >= 4)) {
    const e = events.get(p.ts) || { code: p.payload[0], packets: 0, ends: 0, duration: 0, markers: 0 };
    e.packets++;
    if (p.marker) e.markers++;
    const d = p.payload.readUInt16BE(2);
    if (p.payload[1] & 0x80) { e.ends++; e.duration = d; } else if (!e.ends) e.duration = Math.max(e.duration, d);
    events.set(p.ts, e);
  }
  const list = [...events.values()];
  console.log(`RFC 4733 events at Genesys: ${JSON.stringify(list)}`);
  const five = list.find((e) => e.code === 5), seven = list.find((e) => e.code === 7);
  check('INFO Signal=5 Duration=250 reached Genesys as 250 ms of RFC 4733 (PT 101, 8 kHz, 3 end packets)',
    five && five.duration === 2000 && five.ends === 3 && five.markers === 1, JSON.stringify(five));
  check('RFC 4733 \'7\' of 400 ms from the browser reached Genesys with its duration (+-40 ms) and 3 end packets',
    seven && Math.abs(seven.duration - 3200) <= 320 && seven.ends === 3 && seven.markers === 1, JSON.stringify(seven));
  check('each digit reached Genesys once', list.length === 2, list.length);
  const got = result.received || [];
  check('Genesys RFC 4733 \'9\' of 300 ms reached JsSIP as INFO with Duration=300',
    got.length === 1 && got[0].tone === '9' && got[0].duration === 300, JSON.stringify(got));
}

// Issue 13: the RFC 4733 events Genesys received on the PT it offered (101), one per timestamp: code, packets,
// end packets (the redundant ones counted once as the event's end), final duration (8 kHz units) and markers.
function rfc4733Events(genesys, pt = 101) {
  const events = new Map();
  for (const p of genesys.received.filter((x) => x.pt === pt && x.payload.length >= 4)) {
    const e = events.get(p.ts) || { code: p.payload[0], packets: 0, ends: 0, duration: 0, markers: 0, codes: new Set() };
    e.packets++;
    e.codes.add(p.payload[0]);
    if (p.marker) e.markers++;
    const d = p.payload.readUInt16BE(2);
    if (p.payload[1] & 0x80) { e.ends++; e.duration = d; } else if (!e.ends) e.duration = Math.max(e.duration, d);
    events.set(p.ts, e);
  }
  return [...events.values()].map((e) => ({ ...e, codes: [...e.codes] }));
}

// Issue 13: on a Genesys-offered call the browser's RTCDTMFSender digits ('159#', 100 ms each, 70 ms apart, at the
// browser codec's clock: 48 kHz with Opus, 8 kHz with PCMU) reach Genesys as RFC 4733 on Genesys's PT 101 at 8 kHz,
// and Genesys's '4' (RFC 4733, 300 ms) reaches JsSIP as INFO. Chrome exposes no received RFC 4733 (no event, no
// getStats counter), hence the INFO relay is what the page can see of Genesys's digits.
function checkInboundDtmf(result, genesys, mode) {
  const out = result.dtmfOut || {};
  const rate = mode === 'passthrough' ? 8000 : 48000;
  check(`rtcgate offered telephone-event/${rate} and Chrome can insert DTMF`,
    out.canInsert && out.events.some((e) => e.endsWith(`telephone-event/${rate}`)), JSON.stringify(out));
  check('Chrome played the four tones', (out.tones || []).join('') === '159#', (out.tones || []).join(''));
  const list = rfc4733Events(genesys);
  console.log(`RFC 4733 events at Genesys: ${JSON.stringify(list)}`);
  check('Genesys received exactly the events 1, 5, 9, # (RFC 4733 codes 1, 5, 9, 11), one per timestamp',
    list.map((e) => e.code).join(',') === '1,5,9,11' && list.every((e) => e.codes.length === 1),
    list.map((e) => e.code).join(','));
  check('each event: one marker, three end packets, 100 ms (+-40 ms) at 8 kHz',
    list.length === 4 && list.every((e) => e.markers === 1 && e.ends === 3 && Math.abs(e.duration - 800) <= 320),
    JSON.stringify(list.map((e) => [e.markers, e.ends, e.duration])));
  check('no telephone-event reached Genesys on another payload type',
    genesys.received.every((p) => p.pt === 0 || p.pt === 8 || p.pt === 101),
    [...new Set(genesys.received.map((p) => p.pt))].join(','));
  const got = result.dtmfIn || [];
  check('Genesys RFC 4733 \'4\' of 300 ms reached JsSIP as INFO with Duration=300',
    got.length === 1 && got[0].tone === '4' && got[0].duration === 300, JSON.stringify(got));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Audio packets (PCMU, or `pt`) Genesys received in [from, to) (performance.now() times of this process).
const audioBetween = (g, from, to, pt = 0) => g.received.filter((p) => p.pt === pt && p.at >= from && p.at < to);
function toneOf(packets, pt = 0) {
  const pcm = [];
  const decode = pt === 8 ? alawToLinear : ulawToLinear;
  for (const p of packets.slice(Math.min(10, packets.length >> 1), 110)) for (const b of p.payload) pcm.push(decode(b));
  return pcm.length ? dominantHz(pcm) : 0;
}

// The agent holds for 3 s, then resumes (re-INVITE inbound, UPDATE outbound).
async function agentHold(page, genesys, useUpdate, gw) {
  const how = useUpdate ? 'UPDATE' : 're-INVITE';
  const held = await page.evaluate((u) => window.holdCall(true, u), useUpdate);
  const heldAt = performance.now();
  check(`hold by ${how}: Chrome accepted rtcgate's answer (sendonly transceiver)`,
    held.onHold && held.direction === 'sendonly' && held.established, JSON.stringify(held));
  await sleep(3000);
  const unholdAt = performance.now();
  const resumed = await page.evaluate((u) => window.holdCall(false, u), useUpdate);
  const resumedAt = performance.now();
  check(`unhold by ${how}: back to sendrecv`, !resumed.onHold && resumed.direction === 'sendrecv' && resumed.established,
    JSON.stringify(resumed));
  await sleep(2500);
  const after = await page.evaluate(() => window.measure(window.current));
  const during = audioBetween(genesys, heldAt + 300, unholdAt);
  check('no agent audio reached Genesys during the hold', during.length <= 3, `${during.length} packets in ${((unholdAt - heldAt - 300) / 1000).toFixed(1)} s`);
  const back = audioBetween(genesys, resumedAt + 300, resumedAt + 2300);
  check('agent audio reached Genesys again after the unhold (>= 80 packets in 2 s)', back.length >= 80, back.length);
  const hz = toneOf(back);
  check('Genesys hears the 440 Hz again after the unhold', Math.abs(hz - 440) <= 10, `${hz} Hz`);
  check('browser hears Genesys 1 kHz after the unhold', Math.abs(after.tone.hz - 1000) <= 10 && after.state === 'connected',
    `${after.tone.hz} Hz, ${after.state}`);
  // Outbound, SIPp answers the first hold re-INVITE 491 (glare): rtcgate must send it again.
  const reinvites = (gw.out.match(/re-INVITE to Genesys with a=(\w+)/g) || []).map((l) => l.split('a=')[1]);
  const expected = useUpdate ? 'sendonly,sendonly,sendrecv' : 'sendonly,sendrecv';
  check(`Genesys got re-INVITEs ${expected}`, reinvites.join(',') === expected, reinvites.join(','));
}

// JsSIP restarts ICE mid-call: new credentials on both sides, media continues, nothing toward Genesys.
async function iceRestart(page, genesys, gw) {
  const before = await page.evaluate(() => window.measure(window.current));
  const r = await page.evaluate(() => window.iceRestart());
  const restartedAt = performance.now();
  check('ICE restart: rtcgate answered with a new ufrag (and Chrome with a new one too)',
    r.established && r.after.remote && r.after.remote !== r.before.remote && r.after.local !== r.before.local, JSON.stringify(r));
  await sleep(1500);
  const after = await page.evaluate(() => window.measure(window.current));
  check('browser ICE + DTLS connected after the restart', after.state === 'connected' && after.dtls === 'connected',
    `${after.state} ${after.dtls}`);
  check('browser keeps receiving after the restart (>= 100 more packets)', after.inbound - before.inbound >= 100,
    `${before.inbound} -> ${after.inbound}`);
  check('browser hears Genesys 1 kHz after the restart', Math.abs(after.tone.hz - 1000) <= 10, `${after.tone.hz} Hz`);
  const back = audioBetween(genesys, restartedAt + 1500, restartedAt + 3500);
  check('Genesys keeps receiving after the restart (>= 80 packets in 2 s)', back.length >= 80, back.length);
  const hz = toneOf(back);
  check('Genesys hears the 440 Hz after the restart', Math.abs(hz - 440) <= 10, `${hz} Hz`);
  check('rtcgate logged the ICE restart', /browser ICE restart: answering with new ICE credentials/.test(gw.out));
  check('nothing of the ICE restart reached Genesys (no re-INVITE)', !/re-INVITE to Genesys/.test(gw.out));
}

// Issue 10: the page's WebSocket drops mid-call; JsSIP reconnects and registers again, the call goes on (audio both
// ways through the gap and after it), then the agent hangs up over the new connection.
async function browserReconnect(page, genesys, gw) {
  const t0 = performance.now();
  const c0 = await page.evaluate(() => window.counts(window.current));
  const droppedAt = performance.now();
  const r = await page.evaluate(() => window.dropWebSocket());
  const backAt = performance.now();
  check('JsSIP kept the call through the WebSocket drop and registered again', r.established && !r.ended && r.reregistered,
    JSON.stringify(r));
  await waitFor(() => /browser is back on connection \d+ \(registered again with the same Contact\) \d+ ms after connection \d+ closed: call resumed/.test(gw.out),
    10000, 'rtcgate resuming the call');
  await sleep(1500);
  const after = await page.evaluate(() => window.measure(window.current));  // 1 s, then 2.5 s of tone detection
  const c1 = await page.evaluate(() => window.counts(window.current));
  const t1 = performance.now();
  const gapS = (backAt - droppedAt) / 1000;
  const gap = audioBetween(genesys, droppedAt, backAt);
  check(`Genesys kept receiving the agent while its WebSocket was gone (>= 40 packets/s over ${gapS.toFixed(1)} s)`,
    gap.length >= 40 * gapS, `${gap.length} packets`);
  const tailS = (t1 - backAt) / 1000;
  const tail = audioBetween(genesys, backAt, t1);
  check(`Genesys receives the agent after the reconnect (>= 40 packets/s over ${tailS.toFixed(1)} s)`, tail.length >= 40 * tailS,
    `${tail.length} packets`);
  const hz = toneOf(tail.slice(-120));
  check('Genesys hears the 440 Hz after the reconnect', Math.abs(hz - 440) <= 10, `${hz} Hz`);
  const spanS = (t1 - t0) / 1000;
  check(`browser kept receiving through the drop and after it (>= 40 packets/s over ${spanS.toFixed(1)} s)`,
    c1.inbound - c0.inbound >= 40 * spanS, `${c1.inbound - c0.inbound} packets`);
  check(`browser kept sending through the drop and after it (>= 40 packets/s over ${spanS.toFixed(1)} s)`,
    c1.outbound - c0.outbound >= 40 * spanS, `${c1.outbound - c0.outbound} packets`);
  check('browser hears Genesys 1 kHz after the reconnect', Math.abs(after.tone.hz - 1000) <= 10 && after.state === 'connected',
    `${after.tone.hz} Hz, ${after.state}`);
  // The agent hangs up: JsSIP's BYE goes over its new connection.
  await page.evaluate(() => window.current.terminate());
  await waitFor(() => /dialog with agent 1001 ended: BYE from the browser/.test(gw.out), 10000, 'the browser\'s BYE');
  // rtcgate logs the BYE before its 200 reaches the page: wait (bounded) for the page to have seen the answer.
  const byeAnswered = (lines) => lines.some((l) => /^SIP\/2\.0 200 .*\| CSeq: \d+ BYE/i.test(l));
  let inn = await page.evaluate(() => window.sipIn);
  for (let i = 0; i < 100 && !byeAnswered(inn); i++) {
    await new Promise((r) => setTimeout(r, 50));
    inn = await page.evaluate(() => window.sipIn);
  }
  check('the agent\'s BYE over the new connection got 200', byeAnswered(inn),
    JSON.stringify(inn.slice(-3)));
  check('rtcgate kept the call for the reconnect', /connection \d+ closed with the call up: waiting 10000 ms for its browser to reconnect/.test(gw.out));
  check('the agent\'s DN stayed registered upstream while it was offline',
    /but a call waits for its browser to reconnect: DN 1001 stays registered/.test(gw.out) && !/unregistering DN 1001/.test(gw.out));
}

// Issue 10: the page is reloaded mid-call and registers again; rtcgate offers the call to it. Returns the new page's
// measurement (the common checks then apply to the resumed call).
async function browserReload(page, genesys, gw, wssPort) {
  const before = await page.evaluate(() => window.sipIn.filter((l) => /^INVITE /.test(l)).length);
  check('one INVITE before the reload', before === 1, before);
  await page.reload();
  const reloadedAt = performance.now();
  check('the reloaded page registered again', (await page.evaluate((u) => window.register(u), `wss://127.0.0.1:${wssPort}`)) === 'registered');
  const r = await page.evaluate(() => window.answerIn());
  const resumedAt = performance.now();
  const resumes = await page.evaluate(() => window.incomingResumes);
  check('rtcgate offered the call to the new page with auto-answer, naming the old dialog',
    /;answer-after=0/.test(r.callInfo || '') && resumes.length > 0, `${r.callInfo} / ${resumes}`);
  check('rtcgate logged the resumption', /call resumed on the agent's new browser/.test(gw.out));
  // Chrome closes the old page's media (DTLS close_notify) as it unloads; waiting for that BYE (5 s) must not end the
  // resumed call: it is still up and carrying audio well after that.
  await sleep(3000);
  const later = await page.evaluate(() => window.measure(window.current));
  check('the resumed call is still up and the new page hears 1 kHz', later.state === 'connected' &&
    Math.abs(later.tone.hz - 1000) <= 10 && !/ending the call/.test(gw.out), `${later.state}, ${later.tone.hz} Hz`);
  const tailS = (performance.now() - resumedAt) / 1000;
  const tail = audioBetween(genesys, resumedAt, performance.now());
  check(`Genesys receives the new page (>= 40 packets/s over ${tailS.toFixed(1)} s)`, tail.length >= 40 * tailS, tail.length);
  check('Genesys hears the 440 Hz from the new page', Math.abs(toneOf(tail) - 440) <= 10, `${toneOf(tail)} Hz`);
  const metric = await adminMetrics(gw);
  check('the call counted as resumed on a new browser', metric('rtcgate_calls_resumed_on_new_browser_total') === 1,
    metric('rtcgate_calls_resumed_on_new_browser_total'));
  const lostS = (resumedAt - reloadedAt) / 1000;
  console.log(`reload to resumed audio: ${lostS.toFixed(1)} s`);
  await page.evaluate(() => window.current.terminate());
  return r;
}

// Issue 10: the page goes without BYE; rtcgate ends the call (BYE to Genesys) when the reconnect grace ends, not
// before, and keeps the DN registered until then. Asserted on the order of rtcgate's log lines.
async function browserGone(page, gw, sipp) {
  await page.close();
  await Promise.race([sipp.exited, sleep(30000)]);
  const lines = gw.out.split('\n');
  const at = (re) => lines.findIndex((l) => re.test(l));
  const waiting = at(/connection \d+ closed with the call up: waiting 3000 ms for its browser to reconnect/);
  const expired = at(/browser did not reconnect within \d+ ms: ending the call/);
  const legEnded = at(/browser leg ended: /);
  const unreg = at(/unregistering DN 1001 upstream/);
  check('rtcgate kept the call when the page went', waiting >= 0);
  check('the call ended when the grace did, for that reason (BYE to Genesys then)',
    waiting >= 0 && expired > waiting && legEnded > expired && /the agent's browser did not reconnect/.test(lines[legEnded] || ''),
    (lines[legEnded] || '').replace(/.*browser leg ended: /, ''));
  check('the DN stayed registered until the grace ended', at(/DN 1001 stays registered/) > waiting && (unreg < 0 || unreg > expired),
    `unregistered at line ${unreg}, grace ended at ${expired}`);
}

// Genesys holds (sendonly, silent) longer than media.rtp_timeout_ms, retrieves with an offerless re-INVITE to a
// new port, then re-offers PCMA only. Runs beside the page's answerIn(), following rtcgate's log.
async function genesysHold(page, first, moved, gw) {
  const hold = mode === 'genesys-hold-c0' ? /Genesys re-INVITE: media 0\.0\.0\.0:\d+ \(sendrecv\), answering pcmu inactive/
    : /Genesys re-INVITE: media \S+ \(sendonly\), answering pcmu recvonly/;
  await waitFor(() => hold.test(gw.out), 30000, 'Genesys hold');
  const heldAt = performance.now();
  first.stopSending();  // no music on hold: Genesys is silent
  // The browser's stream goes on through the hold (silence in place of Genesys's missing audio): packets per second
  // of hold counted by the browser itself.
  await sleep(500);
  const holdStart = await page.evaluate(() => window.inboundPackets(window.current));
  await sleep(2000);
  const holdEnd = await page.evaluate(() => window.inboundPackets(window.current));
  check('the browser kept receiving a stream during the silent hold (>= 80 packets in 2 s)',
    holdEnd - holdStart >= 80, `${holdEnd - holdStart} packets`);
  await waitFor(() => /Genesys answer: media 127\.0\.0\.1:\d+ \(sendrecv\)/.test(gw.out), 30000, 'Genesys retrieve');
  const retrievedAt = performance.now();
  check('the hold lasted longer than media.rtp_timeout_ms (1.5 s) without ending the call',
    retrievedAt - heldAt >= 3000 && !/no RTP from Genesys/.test(gw.out), `${((retrievedAt - heldAt) / 1000).toFixed(1)} s`);
  const during = audioBetween(first, heldAt + 300, retrievedAt);
  check('rtcgate sent nothing to Genesys during its hold', during.length <= 3, during.length);
  check(`retrieve moved the media to the new port ${moved.port}`, new RegExp(`Genesys answer: media 127\\.0\\.0\\.1:${moved.port} `).test(gw.out));
  await waitFor(() => /answering pcma sendrecv/.test(gw.out), 30000, 'PCMA re-offer');
  const pcmaAt = performance.now();
  await sleep(1000);
  const after = await page.evaluate(() => window.measure(window.current));
  check('browser hears Genesys 1 kHz after the retrieve and the switch to PCMA', Math.abs(after.tone.hz - 1000) <= 10,
    `${after.tone.hz} Hz`);
  const retrieved = audioBetween(moved, retrievedAt, pcmaAt);
  check('audio reached the new port after the retrieve (>= 100 PCMU packets)', retrieved.length >= 100, retrieved.length);
  const pcma = audioBetween(moved, pcmaAt, Infinity, 8);
  check('after the PCMA-only re-offer Genesys gets PCMA (>= 100 packets)', pcma.length >= 100, pcma.length);
  const hz = toneOf(pcma, 8);
  check('Genesys hears the 440 Hz in PCMA', Math.abs(hz - 440) <= 10, `${hz} Hz`);
}

const sippExit = (child, ms) => Promise.race([child.exited, sleep(ms).then(() => 'timeout')]);

// Issue 10, blind transfer by Genesys (REFER on the agent's dialog, rtcgate as transferee). The new party is a second
// SIPp on the upstream address (rtcgate's INVITE takes its normal upstream route) with its own media at 1.5 kHz.
async function transferBlind(page, customer, gw, sipPort, sippPort) {
  // Another party: another host (the old party's RTP cannot re-latch), its own SSRC.
  const target = await genesysMedia('127.0.0.2', 1500, 0x7a7a7a7a);
  target.onFirst = () => customer.stopSending();  // the old dialog's media ends where the new one's begins
  const byeFromGenesys = mode === 'transfer-blind';
  // transfer-blind-no-bye: the new party answers PCMA only (the old one spoke PCMU): the Genesys leg's codec changes.
  const pt = byeFromGenesys ? 0 : 8;
  const targetSipp = start('sipp', ['-sf', path.join(SCENARIOS, 'uas-transfer-target.xml'), '-i', '127.0.0.1', '-p',
    String(sippPort), '-key', 'rtpport', String(target.port), '-key', 'codecs', byeFromGenesys ? '0 8' : '8',
    '-timeout', '60s', '-timeout_error', '-nostdin', '-bind_local'], { cwd: tmp });
  const sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS,
    byeFromGenesys ? 'uac-call-agent-then-refer-blind.xml' : 'uac-call-agent-then-refer-blind-no-bye.xml'),
    '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(customer.port),
    '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
  const result = await page.evaluate(() => window.answerIn());
  check('browser hears the customer 1 kHz before the transfer', Math.abs(result.tone.hz - 1000) <= 10, `${result.tone.hz} Hz`);
  const playing = await page.evaluate(() => window.playRemote(window.current));
  if (playing !== true) console.log(`page: remote audio not played: ${playing}`);
  await waitFor(() => /transfer done: Genesys media now at/.test(gw.out), 30000, 'transfer done');
  const c0 = await page.evaluate(() => window.counts(window.current));
  check('rtcgate took the REFER as a blind transfer to 7000',
    /REFER from Genesys: transfer of DN 1001 to 7000 \(blind\)/.test(gw.out), 'log');
  const oldCode = await sippExit(sipp, 15000);
  check(`old dialog: 202, NOTIFY 100 Trying then 200 OK (terminated), then ${byeFromGenesys
    ? 'Genesys\'s BYE answered 200' : 'a BYE from rtcgate'}`, oldCode === 0, `sipp exit ${oldCode}`);
  // Audio continuous: the first measurement after the splice already hears the new party.
  const after = await page.evaluate(() => window.measure(window.current));
  check('browser hears the new party 1.5 kHz right after the transfer, same session, still connected',
    Math.abs(after.tone.hz - 1500) <= 10 && after.state === 'connected',
    `${after.tone.hz} Hz, ${after.state}, browser jitter buffer ${after.jitterBufferS.toFixed(2)} s on average`);
  const steady = await page.evaluate(() => window.measure(window.current));
  check('browser keeps hearing the new party', Math.abs(steady.tone.hz - 1500) <= 10, `${steady.tone.hz} Hz`);
  target.stopSending();
  await sleep(300);
  const c1 = await page.evaluate(() => window.counts(window.current));
  const { inn } = await page.evaluate(() => ({ inn: window.sipIn }));
  const towardBrowser = inn.filter((l) => /^(INVITE|UPDATE) /.test(l));
  check('no re-INVITE or UPDATE reached the browser (its only INVITE is the call)', towardBrowser.length === 1,
    JSON.stringify(towardBrowser));
  const audio = target.received.filter((p) => p.pt === pt);
  const spanS = audio.length > 1 ? (audio[audio.length - 1].at - audio[0].at) / 1000 : 0;
  const perSecond = spanS > 0 ? (audio.length - 1) / spanS : 0;
  check(`the new party received ${pt ? 'PCMA' : 'PCMU'}, >= 99 % of 50 packets per second of its call`,
    perSecond >= 49.5 && spanS >= 3 && audio.length >= 0.99 * target.received.filter((p) => p.pt === 0 || p.pt === 8).length,
    `${perSecond.toFixed(2)}/s over ${spanS.toFixed(1)} s`);
  const hz = toneOf(audio, pt);
  check('the new party hears the browser 440 Hz', Math.abs(hz - 440) <= 10, `${hz} Hz`);
  const got = c1.inbound - c0.inbound;
  const browserRate = target.sendSeconds > 0 ? got / target.sendSeconds : 0;
  check('browser received >= 99 % of what the new party sent (50 packets per second)',
    got >= 0.99 * target.sent && browserRate >= 49.5,
    `${got} of ${target.sent}, ${browserRate.toFixed(2)}/s over ${(target.sendSeconds || 0).toFixed(1)} s`);
  check(byeFromGenesys ? 'Genesys released the old dialog itself (no BYE of rtcgate needed)'
    : 'rtcgate ended the old dialog itself when Genesys did not',
  byeFromGenesys === !/ending the Genesys dialog replaced by the transfer: no BYE from Genesys/.test(gw.out));
  await page.evaluate(() => window.current.terminate());
  const targetCode = await sippExit(targetSipp, 15000);
  check('the new party got rtcgate\'s BYE when the agent hung up', targetCode === 97, `sipp exit ${targetCode}`);
  const metric = await adminMetrics(gw);
  check('one call counted as transferred', metric('rtcgate_calls_transferred_total') === 1,
    metric('rtcgate_calls_transferred_total'));
  target.close();
  return { result, sipp };
}

// Issue 10, a Genesys REFER whose new INVITE fails (486): Genesys gets the failure NOTIFY and the call goes on, audio
// both ways, on its old dialog.
async function transferFails(page, customer, gw, sipPort, sippPort) {
  const targetSipp = start('sipp', ['-sf', path.join(SCENARIOS, 'uas-transfer-target-busy.xml'), '-i', '127.0.0.1', '-p',
    String(sippPort), '-timeout', '60s', '-timeout_error', '-nostdin', '-bind_local'], { cwd: tmp });
  const sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-agent-then-refer-blind-fails.xml'),
    '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(customer.port),
    '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
  const result = await page.evaluate(() => window.answerIn());
  await page.evaluate(() => window.playRemote(window.current));
  await waitFor(() => /transfer failed \(486 /.test(gw.out), 30000, 'the failed transfer');
  const failedAt = performance.now();
  const targetCode = await sippExit(targetSipp, 15000);
  check('the transfer target got rtcgate\'s INVITE (Referred-By) and answered 486', targetCode === 97, `sipp exit ${targetCode}`);
  const after = await page.evaluate(() => window.measure(window.current));
  check('browser still hears the customer 1 kHz after the failed transfer', Math.abs(after.tone.hz - 1000) <= 10 &&
    after.state === 'connected', `${after.tone.hz} Hz, ${after.state}`);
  const back = audioBetween(customer, failedAt + 300, failedAt + 2300);
  check('the customer still gets the agent audio (>= 80 packets in 2 s)', back.length >= 80, back.length);
  const hz = toneOf(back);
  check('the customer still hears the 440 Hz', Math.abs(hz - 440) <= 10, `${hz} Hz`);
  const code = await sippExit(sipp, 20000);
  check('Genesys: 202, NOTIFY 100 Trying then 486 Busy Here (terminated), the call kept until its BYE', code === 0,
    `sipp exit ${code}`);
  const metric = await adminMetrics(gw);
  check('one transfer counted as failed, none as done', metric('rtcgate_calls_transfer_failed_total') === 1 &&
    !(metric('rtcgate_calls_transferred_total') > 0), `${metric('rtcgate_calls_transfer_failed_total')} failed`);
  return { result, sipp };
}

// Issue 10, INVITE with Replaces from SIP Server naming the agent's Genesys dialog (RFC 3891). The first SIPp writes
// rtcgate's To tag of its dialog to totag.csv, which the second one reads (-inf) for its Replaces.
async function inviteReplaces(page, customer, gw, sipPort) {
  const party = await genesysMedia('127.0.0.2', 1500, 0x7a7a7a7a);
  party.onFirst = () => customer.stopSending();
  const sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-agent-then-replaced.xml'),
    '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(customer.port),
    '-cid_str', 'replaced-%u@%s', '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
  const result = await page.evaluate(() => window.answerIn());
  check('browser hears the customer 1 kHz first', Math.abs(result.tone.hz - 1000) <= 10, `${result.tone.hz} Hz`);
  await page.evaluate(() => window.playRemote(window.current));
  const tags = path.join(tmp, 'totag.csv');
  await waitFor(() => fs.existsSync(tags), 15000, 'the first dialog\'s tags');
  const second = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-invite-with-replaces.xml'),
    '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(party.port),
    '-inf', tags, '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
  await waitFor(() => /INVITE with Replaces: Genesys media now at 127\.0\.0\.2/.test(gw.out), 30000, 'the replacement');
  const c0 = await page.evaluate(() => window.counts(window.current));
  const oldCode = await sippExit(sipp, 15000);
  check('the replaced dialog got rtcgate\'s BYE (answered 200)', oldCode === 0, `sipp exit ${oldCode}`);
  const after = await page.evaluate(() => window.measure(window.current));
  check('browser hears the new party 1.5 kHz right after the replacement, same session, still connected',
    Math.abs(after.tone.hz - 1500) <= 10 && after.state === 'connected', `${after.tone.hz} Hz, ${after.state}`);
  const c1 = await page.evaluate(() => window.counts(window.current));
  const { inn } = await page.evaluate(() => ({ inn: window.sipIn }));
  const towardBrowser = inn.filter((l) => /^(INVITE|UPDATE) /.test(l));
  check('no re-INVITE or UPDATE reached the browser (its only INVITE is the call)', towardBrowser.length === 1,
    JSON.stringify(towardBrowser));
  const audio = party.received.filter((p) => p.pt === 0);
  const hz = toneOf(audio);
  check('the new party hears the browser 440 Hz (>= 150 packets)', Math.abs(hz - 440) <= 10 && audio.length >= 150,
    `${hz} Hz, ${audio.length} packets`);
  check('browser kept receiving (>= 150 more packets)', c1.inbound - c0.inbound >= 150, `${c0.inbound} -> ${c1.inbound}`);
  const code2 = await sippExit(second, 20000);
  check('the new dialog ended by Genesys\'s BYE (answered 200)', code2 === 0, `sipp exit ${code2}`);
  for (let i = 0; i < 100 && !(await page.evaluate(() => window.current.endedBy)); i++) await sleep(50);
  const endedBy = await page.evaluate(() => window.current.endedBy || '');
  check('the browser session ended with it', endedBy === 'remote', endedBy);
  party.close();
  return { result, sipp };
}

// Issue 10, consult transfer with two Genesys dialogs on one DN (dual dialogs): the customer's call is held, the
// consultation call rings the browser as a second JsSIP session; completion: Genesys BYEs both agent dialogs.
async function consultTransfer(page, customer, gw, sipPort) {
  const consulted = await genesysMedia('127.0.0.1', 1500, 0x7a7a7a7a);
  const sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-agent-held-for-consultation.xml'),
    '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(customer.port),
    '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
  const result = await page.evaluate(() => window.answerAt(0));
  await waitFor(() => /Genesys re-INVITE: media \S+ \(sendonly\), answering pcmu recvonly/.test(gw.out), 30000,
    'hold of the first call');
  const heldAt = performance.now();
  const second = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-consultation-call-to-agent.xml'),
    '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', '1001', '-key', 'rtpport', String(consulted.port),
    '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin'], { cwd: tmp });
  const r2 = await page.evaluate(() => window.answerAt(1));
  const consultEnd = performance.now();
  const both = await page.evaluate(() => window.sessions.map((s) => s.isEstablished()));
  check('the consultation call is a second JsSIP session, both established', both.length === 2 && both[0] && both[1],
    JSON.stringify(both));
  check('browser hears the consulted party 1.5 kHz on the second session',
    Math.abs(r2.tone.hz - 1500) <= 10 && r2.state === 'connected', `${r2.tone.hz} Hz, ${r2.state}`);
  const audio = consulted.received.filter((p) => p.pt === 0);
  const spanS = audio.length > 1 ? (audio[audio.length - 1].at - audio[0].at) / 1000 : 0;
  const perSecond = spanS > 0 ? (audio.length - 1) / spanS : 0;
  check('the consulted party received >= 99 % of 50 packets per second of its call', perSecond >= 49.5 && spanS >= 3,
    `${perSecond.toFixed(2)}/s over ${spanS.toFixed(1)} s`);
  const hz = toneOf(audio);
  check('the consulted party hears the browser 440 Hz', Math.abs(hz - 440) <= 10, `${hz} Hz`);
  const during = audioBetween(customer, heldAt + 300, consultEnd);
  check('the held customer got no agent audio during the consultation', during.length <= 3, during.length);
  const code2 = await sippExit(second, 20000);
  const code1 = await sippExit(sipp, 30000);
  check('Genesys ended both dialogs with BYE (consultation, then the held call) and got 200s',
    code1 === 0 && code2 === 0, `sipp exits ${code1}, ${code2}`);
  for (let i = 0; i < 100; i++) {
    if (await page.evaluate(() => window.sessions.every((s) => s.endedBy))) break;
    await sleep(50);
  }
  const endedBy = await page.evaluate(() => window.sessions.map((s) => s.endedBy || ''));
  check('both browser sessions ended by the remote side (the agent dropped out)',
    endedBy.length === 2 && endedBy.every((o) => o === 'remote'), JSON.stringify(endedBy));
  consulted.close();
  return { result, sipp };
}

// Issue 10, RFC 4028 on both legs of one call: Genesys (SIPp, refresher=uac, 90 s) refreshed three times (re-INVITE
// with the same SDP, UPDATE without SDP, re-INVITE), each answered 200 with Session-Expires (the scenario checks it);
// JsSIP (its default session timers: 90 s, it refreshes by UPDATE) refreshed three times too, each answered 200.
// Neither leg's refresh reached the other leg: no INVITE or UPDATE toward the browser, no re-INVITE to Genesys.
async function checkSessionTimers(page, gw) {
  const { out, inn } = await page.evaluate(() => ({ out: window.sipOut, inn: window.sipIn }));
  const updates = out.filter((l) => /^UPDATE /.test(l));
  const updateOks = inn.filter((l) => /^SIP\/2\.0 200 .*\| CSeq: \d+ UPDATE/i.test(l));
  check('browser (JsSIP) refreshed its session >= 3 times with UPDATE', updates.length >= 3, updates.length);
  check('each browser UPDATE answered 200', updateOks.length === updates.length, `${updateOks.length} of ${updates.length}`);
  const towardBrowser = inn.filter((l) => /^(INVITE|UPDATE) /.test(l));
  check('nothing re-offered to the browser (its only INVITE is the call)', towardBrowser.length === 1,
    JSON.stringify(towardBrowser));
  const reoffers = (gw.out.match(/Genesys re-INVITE: media/g) || []).length;
  check('rtcgate answered Genesys\'s 2 refresh re-INVITEs from its own state', reoffers === 2, reoffers);
  check('rtcgate sent no re-INVITE to Genesys', !/re-INVITE to Genesys/.test(gw.out));
}

// Issue 10, blind transfer by the agent (the SIPp scenario checks the REFER's Refer-To and Referred-By).
// replacesIndex / genesysSide: attended transfer replacing the page's call of that index (or 'consult'), whose
// Genesys-side dialog has the Call-ID genesysSide.callId and Genesys's tag matching genesysSide.toTag (a regexp).
async function browserRefer(page, gw, replacesIndex, genesysSide) {
  if (replacesIndex === undefined) {
    const refused = await page.evaluate(() => window.referUnknownReplaces('5001'));
    check('a REFER replacing a call the agent does not have is refused 403', refused === 'requestFailed 403', refused);
  }
  const r = await page.evaluate((i) => window.referCurrent('5001', i === null ? undefined : i),
    replacesIndex === undefined ? null : replacesIndex);
  console.log(`JsSIP refer events: ${r.events.join(', ')}`);
  check('JsSIP\'s REFER answered 202 (requestSucceeded)', r.events.includes('requestSucceeded 202'), r.events.join(', '));
  if (replacesIndex === undefined) {
    check('a second REFER while the transfer is in progress is refused 491', r.events.includes('second requestFailed 491'),
      r.events.join(', '));
  }
  const progress = r.events.filter((e) => !e.startsWith('request') && !e.startsWith('second'));
  check('JsSIP got the transfer\'s NOTIFYs: trying 100, then accepted 200', progress.join(',') === 'trying 100,accepted 200',
    progress.join(','));
  check('the call ended normally with Genesys\'s BYE after the transfer', r.endedBy === 'remote' && r.cause === 'Terminated',
    `${r.endedBy} ${r.cause}`);
  const ok = r.notifies.length === 2 && r.notifies.every((n) => /^Event: refer;id=\d+\r$/m.test(n) &&
    /^Content-Type: message\/sipfrag\r$/m.test(n) && !/far-end-secret|10\.9\.8\.7/.test(n));
  check('the browser\'s NOTIFYs are rtcgate\'s own: Event refer;id, a sipfrag of the status line only', ok,
    JSON.stringify(r.notifies.map((n) => n.split('\r\n\r\n')[1])));
  if (replacesIndex === undefined) {
    check('rtcgate logged the blind transfer', /agent transfers the call to 5001 \(blind\)/.test(gw.out));
    return;
  }
  check('rtcgate logged the attended transfer', /agent transfers the call to 5001 replacing call c\w+ \(attended\)/.test(gw.out));
  // SIPp checked the form; the Call-ID and Genesys's tag must be those of the replaced call's Genesys dialog.
  const referTo = (gw.out.match(/REFER to Genesys: Refer-To (\S+)/) || [])[1] || '';
  const escaped = encodeURIComponent(genesysSide.callId).replace(/[!'()*]/g, (c) => c);
  const expected = new RegExp(`\\?Replaces=${escaped.replace(/[.]/g, '\\.')}%3Bfrom-tag%3D[^%]+%3Bto-tag%3D${genesysSide.toTag}>$`);
  check('Replaces names the replaced call\'s Genesys dialog (its Call-ID and Genesys\'s tag)', expected.test(referTo),
    `${referTo} against ${expected}`);
}

// Packets per second of call on both sides against what the other side sent.
function checkLongCall(result, genesys, label = '') {
  const audio = genesys.received.filter((p) => p.pt === 0);
  const spanS = audio.length > 1 ? (audio[audio.length - 1].at - audio[0].at) / 1000 : 0;
  const perSecond = spanS > 0 ? (audio.length - 1) / spanS : 0;
  const minSpanS = mode === 'sighup' ? 3 : 55;
  check(`${label}call lasted >= ${minSpanS} s of Genesys-side audio`, spanS >= minSpanS, `${spanS.toFixed(1)} s`);
  check(`${label}Genesys received >= 99 % of 50 packets per second of call`, perSecond >= 49.5, `${perSecond.toFixed(2)}/s over ${spanS.toFixed(1)} s`);
  const last = result.last || {};
  check(`${label}Genesys received >= 99 % of the packets the browser sent`, audio.length >= 0.99 * (last.outbound || Infinity),
    `${audio.length} of ${last.outbound}`);
  check(`${label}browser packetsReceived >= 99 % of the packets Genesys sent`, (last.inbound || 0) >= 0.99 * genesys.sent,
    `${last.inbound} of ${genesys.sent}`);
  // Genesys sent on an absolute schedule for sendSeconds: what the browser got per second of that time.
  const browserRate = genesys.sendSeconds > 0 ? (last.inbound || 0) / genesys.sendSeconds : 0;
  check(`${label}browser received >= 99 % of 50 packets per second while Genesys sent`, browserRate >= 49.5,
    `${browserRate.toFixed(2)}/s over ${(genesys.sendSeconds || 0).toFixed(1)} s, lost ${last.lost}, concealed samples ${last.concealed}`);
}

// sighup (inbound): reliability-security.md §5 item 38 with a call up. Once the call is answered: a valid change
// (a log level), a syntax error, the original file, an unknown key, then a burst of 10 SIGHUPs onto the original:
// each reload applied or refused (awaited in the log), while Genesys's sender and the browser keep their schedules.
const reloadTimes = [];  // performance.now() of each SIGHUP (of the burst's first)
async function reloadsDuringTheCall(gw, cfg, ctx) {
  const original = fs.readFileSync(cfg, 'utf8');
  await waitFor(() => /call to DN 1001 answered/.test(gw.out), 20000, 'call answered');
  await new Promise((r) => setTimeout(r, 1000));  // audio flowing both ways before the first reload
  const count = (re) => (gw.out.match(re) || []).length;
  const applied = /configuration reloaded from/g;
  const refused = /reload refused, the running configuration is unchanged/g;
  const steps = [
    ['a valid change (session log level)', original.replace('session: debug', 'session: info'), applied],
    ['a syntax error', `${original}media: {workers: [
`, refused],
    ['the original file', original, applied],
    ['an unknown key', `${original}bogus_key: 1
`, refused],
    // Issue 13: every kind of [reload] change at once, the WSS certificate, and two [restart] keys.
    ['agents, codecs, limits, log level, the WSS certificate and two [restart] keys', reloadedEverything(original, ctx),
      applied],
  ];
  ctx.certificateBefore = await servedFingerprint(ctx.wssPort);
  ctx.lagBefore = await mediaLag(gw);  // the media worker's stalls from here to 1 s after the last SIGHUP
  for (const [what, text, expect] of steps) {
    const before = count(expect);
    fs.writeFileSync(cfg, text);
    reloadTimes.push(performance.now());
    if (SIGHUP_DRY) await new Promise((r) => setTimeout(r, 20));
    else gw.kill('SIGHUP');
    if (!SIGHUP_DRY) await waitFor(() => count(expect) > before, 5000, `reload onto ${what}`);
    await new Promise((r) => setTimeout(r, 300));  // spread over the call: audio between the reloads
  }
  // What the everything-reload changed, seen from outside while the call goes on (checked after the call).
  ctx.certificateAfter = await servedFingerprint(ctx.wssPort);
  ctx.registrations = {};
  for (const [user, password] of [['1002', 'demo-1002'], ['1003', 'demo-1003'], ['1001', 'demo-1001']])
    ctx.registrations[`${user}/${password}`] = await tryRegister(ctx.wssPort, ctx.origin, user, password);
  ctx.adminAfter = await adminMetrics(gw);
  ctx.newAdminAnswered = await fetch(`http://127.0.0.1:${ctx.newAdminPort}/metrics`).then(() => true, () => false);
  const before = count(applied);
  // The burst stays on the everything-reload's file, so that a call after it still sees those settings (issue 13).
  fs.writeFileSync(cfg, reloadedEverything(original, ctx));
  reloadTimes.push(performance.now());
  if (!SIGHUP_DRY) {
    for (let i = 0; i < 10; i++) gw.kill('SIGHUP');
    await waitFor(() => count(applied) > before, 5000, 'reloads after a burst of 10 SIGHUPs');
  }
  await new Promise((r) => setTimeout(r, Math.max(0, reloadTimes[reloadTimes.length - 1] + 1000 - performance.now())));
  ctx.lagAfter = await mediaLag(gw);
}

// rtcgate_media_loop_lag_seconds' cumulative buckets (issue 13), by upper bound.
async function mediaLag(gw) {
  const adminUrl = (gw.out.match(/admin: (http:\/\/127\.0\.0\.1:\d+\/)/) || [])[1];
  const text = adminUrl ? await (await fetch(`${adminUrl}metrics`)).text() : '';
  const buckets = {};
  for (const m of text.matchAll(/^rtcgate_media_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) buckets[m[1]] = Number(m[2]);
  return buckets;
}

async function checkReloadsKeptTheCall(gw, genesys, sippCode, ctx) {
  check('the call ended by Genesys\'s BYE after the reloads (SIPp scenario completed)', sippCode === 0, `exit ${sippCode}`);
  const metrics = await adminMetrics(gw);
  check('two reloads refused', metrics('rtcgate_config_reload_failures_total') === 2,
    metrics('rtcgate_config_reload_failures_total'));
  check('the valid reloads applied (3, plus >= 1 for the burst)', metrics('rtcgate_config_reloads_total') >= 4,
    metrics('rtcgate_config_reloads_total'));
  // Issue 13: the everything-reload. New TLS connections get the new certificate, the call's connection kept going
  // (Genesys's BYE reached the browser over it: the SIPp scenario completed).
  check('before the reload, new WSS connections got certificate a', ctx.certificateBefore === certificatePair('a').fingerprint,
    `${ctx.certificateBefore} vs ${certificatePair('a').fingerprint}`);
  check('after the reload, new WSS connections get certificate b', ctx.certificateAfter === certificatePair('b').fingerprint,
    `${ctx.certificateAfter} vs ${certificatePair('b').fingerprint}`);
  check('agents: the added 1002 registers', ctx.registrations['1002/demo-1002'] === 'registered', ctx.registrations['1002/demo-1002']);
  check('agents: the removed 1003 does not', ctx.registrations['1003/demo-1003'] !== 'registered', ctx.registrations['1003/demo-1003']);
  check('agents: 1001\'s old password no longer registers', ctx.registrations['1001/demo-1001'] !== 'registered',
    ctx.registrations['1001/demo-1001']);
  for (const key of ['listeners.admin', 'media.rtp_port_min/max'])
    check(`the [restart] key ${key} is reported by name`,
      gw.out.includes(`reload: '${key}' changed; it needs a restart and keeps its running value until then`), key);
  check('listeners.admin not half-applied: the admin listener answers where it started, the new port is closed',
    ctx.adminAfter('rtcgate_config_reloads_total') >= 3 && !ctx.newAdminAnswered,
    `${ctx.adminAfter('rtcgate_config_reloads_total')} / ${ctx.newAdminAnswered}`);
  const calls = 1 + SIGHUP_EXTRA_AGENTS.length;
  check(`${calls} calls in all, none refused`, metrics('rtcgate_calls_total') === calls && (metrics('rtcgate_calls_refused_total') || 0) === 0,
    `${metrics('rtcgate_calls_total')} / ${metrics('rtcgate_calls_refused_total')}`);
  // Figures, not thresholds: the packets Genesys received in each whole second of the call, and the largest gap.
  const audio = genesys.received.filter((p) => p.pt === 0);
  const perSecond = [];
  for (let t = audio[0] ? audio[0].at : 0; audio.length && t + 1000 <= audio[audio.length - 1].at; t += 1000) {
    perSecond.push(audio.filter((p) => p.at >= t && p.at < t + 1000).length);
  }
  // The largest gap between two packets Genesys received, and the largest within 1 s after a SIGHUP.
  let gap = 0, gapAt = 0, reloadGap = 0;
  for (let i = 1; i < audio.length; i++) {
    const g = audio[i].at - audio[i - 1].at;
    if (g > gap) { gap = g; gapAt = audio[i - 1].at - audio[0].at; }
    if (reloadTimes.some((t) => audio[i].at >= t && audio[i - 1].at <= t + 1000)) reloadGap = Math.max(reloadGap, g);
  }
  // Issue 13: the receive times above are taken in this script's event loop, which also runs the stand-in's sender:
  // a stall of this process shows in both, a gap of rtcgate's only in the first (scripts/reload_gap_bench.sh has
  // kernel timestamps). The stand-in's own largest send gap in the same windows:
  const ownGap = reloadGaps(genesys.sentAt.map((at) => ({ at }))).window.reduce((a, b) => Math.max(a, b), 0);
  console.log(`FIGURES sighup: Genesys-side packets per second ${JSON.stringify(perSecond)}; largest gap ${gap.toFixed(1)} ms ` +
    `at ${(gapAt / 1000).toFixed(2)} s into the audio; largest within 1 s after a SIGHUP ${reloadGap.toFixed(1)} ms ` +
    `(this script's own sender, same windows: ${ownGap.toFixed(1)} ms); ` +
    `SIGHUPs at ${JSON.stringify(reloadTimes.map((t) => ((t - (audio[0] ? audio[0].at : 0)) / 1000).toFixed(2)))} s`);
  // scripts/reload_gap_bench.sh (issue 13): one machine-readable line, every call's Genesys side, and the media
  // worker's own stall (rtcgate_media_loop_lag_*), so that a gap rtcgate made is told apart from one made outside.
  const gapCalls = [genesys, ...(ctx.extraCalls || []).map((c) => c.media)];
  const gaps = gapCalls.map((m) => reloadGaps(m.received.filter((p) => p.pt === 0 || p.pt === 8)));
  const adminUrl = (gw.out.match(/admin: (http:\/\/127\.0\.0\.1:\d+\/)/) || [])[1];
  const text = adminUrl ? await (await fetch(`${adminUrl}metrics`)).text() : '';
  const value = (series) => Number((text.split('\n').find((l) => l.startsWith(`${series} `)) || ' NaN').split(' ')[1]);
  const lagBuckets = {};
  for (const le of ['0.005', '0.01', '0.02', '0.05', '0.1', '0.25', '+Inf'])
    lagBuckets[le] = value(`rtcgate_media_loop_lag_seconds_bucket{le="${le}"}`);
  let daemonThreads = [];
  try { daemonThreads = fs.readdirSync(`/proc/${gw.pid}/task`).map(Number); } catch (e) { /* not Linux /proc */ }
  console.log(`GAPS ${JSON.stringify({ dry: SIGHUP_DRY, calls: gapCalls.length, ports: gapCalls.map((m) => m.port),
    daemonThreads, testPid: process.pid, windowMs: gaps.map((g) => g.window),
    outsideMs: gaps.map((g) => g.outside), lagMaxMs: 1000 * value('rtcgate_media_loop_lag_max_seconds'),
    lagCount: value('rtcgate_media_loop_lag_seconds_count'), lagBuckets,
    reloadPhaseLag: Object.fromEntries(Object.keys(ctx.lagAfter || {}).map((le) => [le, ctx.lagAfter[le] - ((ctx.lagBefore || {})[le] || 0)])),
    reloadEpochMs: reloadTimes.map((t) => Math.round(performance.timeOrigin + t)), reloadLog: (gw.out.match(/control thread: parse \d+ us, heap trim \d+ us, apply \d+ us/g) || []) })}`);
}

// The largest inter-arrival gap within 1 s after each SIGHUP, and the largest outside those windows.
function reloadGaps(audio) {
  const window = reloadTimes.map(() => 0);
  let outside = 0;
  for (let i = 1; i < audio.length; i++) {
    const g = audio[i].at - audio[i - 1].at;
    let inside = false;
    reloadTimes.forEach((t, k) => {
      if (audio[i].at >= t && audio[i - 1].at <= t + 1000) { window[k] = Math.max(window[k], g); inside = true; }
    });
    if (!inside) outside = Math.max(outside, g);
  }
  return { window: window.map((g) => Number(g.toFixed(1))), outside: Number(outside.toFixed(1)) };
}

// Issue 13: a certificate and key made with the openssl CLI (once per name), and its SHA-256 fingerprint.
const certificates = {};
let sighupWssPort = 0;
function certificatePair(name) {
  if (!certificates[name]) {
    const cert = path.join(tmp, `${name}.crt`), key = path.join(tmp, `${name}.key`);
    require('child_process').execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=rtcgate-e2e-${name}`], { stdio: 'ignore' });
    certificates[name] = { cert, key, fingerprint: new (require('crypto').X509Certificate)(fs.readFileSync(cert)).fingerprint256 };
  }
  return certificates[name];
}

// The certificate a new TLS connection to the WSS listener is served.
function servedFingerprint(port) {
  return new Promise((resolve) => {
    const socket = require('tls').connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

// One REGISTER by a stock JsSIP UA (Node, no media) on a connection of its own: 'registered' or why not.
function tryRegister(wssPort, origin, user, password) {
  const WS = require(path.join(__dirname, '../js/node_modules/ws'));
  const JsSIP = require(path.join(__dirname, '../js/node_modules/jssip'));
  globalThis.WebSocket = class extends WS { constructor(a, p) { super(a, p, { rejectUnauthorized: false, origin }); } };
  const socket = new JsSIP.WebSocketInterface(`wss://127.0.0.1:${wssPort}`);
  const ua = new JsSIP.UA({ sockets: [socket], uri: `sip:${user}@rtcgate.invalid`, password, register: false });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), 4000);
    const finish = (what) => { clearTimeout(timer); ua.stop(); resolve(what); };
    ua.on('registered', () => finish('registered'));
    ua.on('registrationFailed', (e) => finish(`failed: ${e.cause}`));
    ua.on('connected', () => ua.register());
    ua.start();
  });
}

// sighup: a page per extra agent, registered, and Genesys (SIPp + an RTP endpoint of its own) calling its DN for as
// long as 1001's call; `answered` resolves with the page's last stats once Genesys hangs up.
async function startExtraCalls(browser, sipPort, siteUrl) {
  const calls = [];
  for (const user of SIGHUP_EXTRA_AGENTS) {
    const page = await browser.context.newPage();
    await page.goto(siteUrl);
    check(`agent ${user} registered over WSS`,
      (await page.evaluate(([u, who]) => window.register(u, who), [`wss://127.0.0.1:${sighupWssPort}`, user])) === 'registered');
    const media = await genesysMedia();
    const sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-agent-external-media.xml'),
      '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', user, '-key', 'rtpport', String(media.port),
      '-key', 'rtpport2', '0', '-cid_str', `extra-${user}-%u@%s`, '-d', String(SIGHUP_CALL_MS), '-m', '1', '-timeout', '60s',
      '-timeout_error', '-nostdin'], { cwd: tmp });
    setTimeout(() => media.stopSending(), SIGHUP_CALL_MS - 2000);
    const answered = page.evaluate(() => window.answerLong());
    answered.catch(() => {});  // awaited after the reloads
    calls.push({ user, page, media, sipp, answered });
  }
  return calls;
}

// sighup: a new call after the reloads (to an agent whose page stayed) takes the new settings and the running
// [restart] values: the reloaded browser codec order puts PCMU first; the RTP range stays the one rtcgate started with.
async function checkNewCallAfterReloads(c, sipPort, rtpPortMin) {
  await c.page.evaluate(() => { window.incoming = null; window.incomingConfirmed = false; });
  const media = await genesysMedia();
  const sipp = start('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(SCENARIOS, 'uac-call-agent-external-media.xml'),
    '-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-s', c.user, '-key', 'rtpport', String(media.port),
    '-key', 'rtpport2', '0', '-cid_str', `after-${c.user}-%u@%s`, '-d', '5000', '-m', '1', '-timeout', '60s',
    '-timeout_error', '-nostdin'], { cwd: tmp });
  const r = await c.page.evaluate(() => window.answerIn());
  const code = await Promise.race([sipp.exited, new Promise((res) => setTimeout(() => res('timeout'), 20000))]);
  media.close();
  check('new call after the reloads: answered and ended by Genesys\'s BYE', code === 0 && r.state === 'connected',
    `exit ${code}, ${r.state}`);
  check('new call after the reloads: browser codec from the reloaded codecs.browser order (PCMU first)',
    r.codec === 'audio/PCMU', r.codec);
  const port = media.remote ? media.remote.port : 0;
  check('new call after the reloads: rtcgate\'s RTP port still in the running range, not the file\'s new one',
    port >= rtpPortMin && port <= rtpPortMin + 99, `${port} (running ${rtpPortMin}..${rtpPortMin + 99}, file ${rtpPortMin + 200}..${rtpPortMin + 299})`);
  check('new call after the reloads: audio both ways', r.inbound >= 50 && media.received.length >= 50,
    `${r.inbound} / ${media.received.length}`);
}

// The sighup mode's everything-reload: an agent added (1002), one removed (1003, not in a call), 1001's password
// changed (its call goes on), codec preference, limits, a log level, the WSS certificate; and two [restart] keys
// (the admin listener's port, the RTP range) that must be reported and keep their running value.
function reloadedEverything(original, ctx) {
  const a = certificatePair('a'), b = certificatePair('b');
  const replaced = original
    .replace(`tls_cert_file: ${a.cert}, tls_key_file: ${a.key}`, `tls_cert_file: ${b.cert}, tls_key_file: ${b.key}`)
    .replace('{user: "1001", password: demo-1001, dn: "1001"}, {user: "1003", password: demo-1003, dn: "1003"}',
      '{user: "1001", password: demo-1001-new, dn: "1001"}, {user: "1002", password: demo-1002, dn: "1002"}')
    .replace('browser: [opus, pcmu, pcma]', 'browser: [pcmu, opus, pcma]')
    .replace('max_calls: 50', 'max_calls: 20, rate_limits: {invites: {per_s: 5, burst: 10}}')
    .replace('session: debug', 'session: info')
    .replace('admin: {address: 127.0.0.1, port: 0}', `admin: {address: 127.0.0.1, port: ${ctx.newAdminPort}}`)
    .replace(`rtp_port_min: ${ctx.rtpPortMin}, rtp_port_max: ${ctx.rtpPortMin + 99},`,
      `rtp_port_min: ${ctx.rtpPortMin + 200}, rtp_port_max: ${ctx.rtpPortMin + 299},`);
  for (const changed of [b.cert, 'demo-1001-new', 'demo-1002', '[pcmu, opus, pcma]', 'invites: {per_s: 5', 'session: info',
    `port: ${ctx.newAdminPort}`, `rtp_port_min: ${ctx.rtpPortMin + 200}`])
    if (!replaced.includes(changed)) throw new Error(`the everything-reload did not change ${changed}`);
  return replaced;
}

// The daemon's counters from its admin listener (GET /metrics): a lookup by metric name.
// The browser leg's rtt_ms from GET /api/v1/calls, polled every 500 ms for up to 30 s of the call (the first SR goes
// out 1.25-3.75 s after DTLS, Chromium reports every few seconds): { ms: number or null, afterS }.
async function browserRttDuringCall(gw) {
  const started = Date.now();
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const adminUrl = (gw.out.match(/admin: (http:\/\/127\.0\.0\.1:\d+\/)/) || [])[1];
    if (!adminUrl) continue;
    try {
      const calls = await (await fetch(`${adminUrl}api/v1/calls`)).json();
      const ms = calls.calls && calls.calls[0] && calls.calls[0].legs.browser.rtt_ms;
      if (typeof ms === 'number') return { ms, afterS: ((Date.now() - started) / 1000).toFixed(1) };
    } catch (e) { /* the call or the listener is not up yet: asked again */ }
  }
  return { ms: null, afterS: ((Date.now() - started) / 1000).toFixed(1) };
}

async function adminMetrics(gw) {
  const adminUrl = (gw.out.match(/admin: (http:\/\/127\.0\.0\.1:\d+\/)/) || [])[1];
  const text = adminUrl ? await (await fetch(`${adminUrl}metrics`)).text() : '';
  return (name) => Number((text.match(new RegExp(`^${name} (\\d+)`, 'm')) || [])[1]);
}

async function finishGateway(gw) {
  gw.kill('SIGTERM');
  const gwCode = await Promise.race([gw.exited, new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
  check('rtcgate stopped cleanly', gwCode === 0, `exit ${gwCode}`);
  // These modes make two calls (or refuse a second one): one id per call is not one id in the log.
  // sighup has several calls (issue 13); the modes with one keep this check.
  if (!['limits', 'browser-refer-replaces', 'browser-refer-consult', 'consult-transfer', 'agent-busy', 'sighup'].includes(mode)) {
    checkOneCallId(gw.out, RECONNECT_MODES.includes(mode));
  }
}

// Issue 9: from the line that creates the call on, every log line of both legs (WSS, SIP, session, ICE, DTLS, RTP)
// carries the call's own id; the SIP Call-IDs appear only as logged values.
// reregisters: lines of the agent's REGISTER on its new connection (logged under that REGISTER's own Call-ID) are
// not call lines.
function checkOneCallId(out, reregisters = false) {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => / new call from /.test(l));
  const id = start >= 0 ? (lines[start].match(/ call=(\S+) /) || [])[1] : undefined;
  const others = new Set();
  let tagged = 0;
  for (const l of lines.slice(Math.max(start, 0))) {
    if (reregisters && /\) registered on connection \d+|binding on connection \d+ removed/.test(l)) continue;
    const m = l.match(/ call=(\S+) /);
    if (!m) continue;
    tagged++;
    if (m[1] !== id) others.add(m[1]);
  }
  check('one call id on every call log line of both legs', id !== undefined && others.size === 0,
    `id ${id}, ${tagged} lines${others.size ? `, others: ${[...others].join(' ')}` : ''}`);
}

const LONG_CALL_MS = 65000;
const SIGHUP_CALL_MS = 9000;
// sighup: agents with a call of their own through the reloads besides 1001's (issue 13: several calls in progress).
// scripts/reload_gap_bench.sh sets RTCGATE_E2E_SIGHUP_CALLS (calls in all, 1..20) and RTCGATE_E2E_SIGHUP_DRY=1 (the
// same run, file writes and probes without any SIGHUP: the noise floor of the gap figures).
const SIGHUP_EXTRA_AGENTS = Array.from({ length: Math.min(19, Math.max(0, Number(process.env.RTCGATE_E2E_SIGHUP_CALLS || 3) - 1)) },
  (_, i) => String(1004 + i));
const SIGHUP_DRY = process.env.RTCGATE_E2E_SIGHUP_DRY === '1';
// session-timers: Genesys refreshes every 45 s (half of Session-Expires 90) three times, then the call lasts
// TIMERS_TAIL_MS more so that the browser's third refresh (also at 45 s intervals) falls inside the call.
const TIMERS_REFRESH_MS = 45000;
const TIMERS_TAIL_MS = 15000;
const deadlineMs = mode === 'long' ? 170000 : mode === 'session-timers' ? 270000 : 90000;
const deadline = setTimeout(() => { check(`finished within ${deadlineMs / 1000} s`, false); finish(); }, deadlineMs);
function finish() {
  clearTimeout(deadline);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
  const failed = checks.filter((c) => !c.ok).length;
  if (failed) for (const c of children) console.log(`--- ${c.name} output ---\n${c.out}`);
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  process.exit(failed || !checks.length ? 1 : 0);
}
main().catch((e) => { check(`no error (${e.message})`, false); }).finally(finish);

// SPDX-License-Identifier: Apache-2.0
// The rtcgate softphone page (docs/softphone.md): stock JsSIP through rtcgate's client module (rtcgate-client.js:
// ICE servers from rtcgate, capped gathering, reconnection, answer-after). Everything that comes from the network
// (names, URIs, causes, INFO bodies) goes into the page as textContent only.
import { RtcgateClient } from './rtcgate-client.js';

const $ = (id) => document.getElementById(id);
const log = (m) => { $('log').textContent = new Date().toISOString().slice(11, 23) + ' ' + m + '\n' + $('log').textContent; };
// rtcgate relays Genesys's remote control (NOTIFY Event: talk / hold from the agent desktop) as this INFO.
const REMOTE_CONTROL = 'application/x-rtcgate-remote-control';
const KEYS = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];
// JsSIP's causes (JsSIP.C.causes) the page explains.
const CAUSE = { auth: 'Authentication Error', rejected: 'Rejected', noMedia: 'User Denied Media Access',
  connection: 'Connection Error', requestTimeout: 'Request Timeout' };

let client = null;
let everConnected = false;
let timerStart = 0;
let statsTimer = null;
let lastBytes = null;
window.currentSession = null;

function status(text, kind = '') {
  $('status').textContent = text;
  $('status').className = 'badge' + (kind ? ' ' + kind : '');
  log(text);
}
function setState(s) { $('state').textContent = s; log('call: ' + s); }

function showError(text, certificateHint = false) {
  $('error-text').textContent = text;
  $('error-link').hidden = !certificateHint;
  if (certificateHint) $('error-href').href = httpsOf($('server').value);
  $('error').hidden = false;
  log('error: ' + text);
}
function clearError() { $('error').hidden = true; }

function httpsOf(gateway) {
  try { const u = new URL(gateway.replace(/^ws/i, 'http')); return `${u.protocol}//${u.host}/`; } catch { return '/'; }
}
function sameOrigin(gateway) {
  try { return new URL(gateway.replace(/^ws/i, 'http')).origin === location.origin; } catch { return false; }
}

// The remote party as "Display Name <user>" (or the URI's user alone).
function identity(session) {
  const id = session.remote_identity;
  if (!id) return '';
  const user = id.uri ? id.uri.user || id.uri.toString() : '';
  return id.display_name ? `${id.display_name} <${user}>` : user;
}

function refreshControls() {
  const s = window.currentSession;
  const up = !!s && s.isEstablished();
  const signedIn = !!client;
  $('login').disabled = false;
  $('logout').disabled = !signedIn;
  $('call').disabled = !signedIn || !!s;
  $('hangup').disabled = !s;
  $('hold').disabled = !up;
  $('mute').disabled = !up;
  $('transfer').disabled = !up;
  $('transfer-target').disabled = !up;
  const held = up && s.isOnHold().local;
  const muted = up && s.isMuted().audio;
  $('hold').textContent = held ? 'Resume' : 'Hold';
  $('mute').textContent = muted ? 'Unmute' : 'Mute';
  $('mute').setAttribute('aria-pressed', String(muted));
  $('incoming').hidden = !(s && s.direction === 'incoming' && !s.isEstablished() && !s.isEnded());
  // The keypad dials when idle and sends DTMF in a call; while a call rings or connects it has nothing to do.
  for (const b of document.querySelectorAll('#keypad button')) b.disabled = !!s && !up;
}

// Call timer and quality, once a second while a call is up.
function fmtDuration(ms) {
  const t = Math.floor(ms / 1000);
  const h = Math.floor(t / 3600);
  const mm = String(Math.floor(t / 60) % 60).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
function startCallClock() {
  timerStart = Date.now();
  lastBytes = null;
  clearInterval(statsTimer);
  $('timer').textContent = '00:00';
  statsTimer = setInterval(tick, 1000);
}
function stopCallClock() {
  clearInterval(statsTimer);
  statsTimer = null;
  $('timer').textContent = '';
  for (const id of ['q-codec', 'q-rx', 'q-tx', 'q-loss', 'q-jitter', 'q-rtt', 'q-pair']) $(id).textContent = '–';
}
async function tick() {
  const s = window.currentSession;
  if (!s || !s.isEstablished()) return;
  $('timer').textContent = fmtDuration(Date.now() - timerStart);
  if (!s.connection) return;
  try { showQuality(await callQuality(s.connection)); } catch (e) { log('getStats failed: ' + e.message); }
}

// What an agent (and a supervisor on the phone with them) needs from RTCPeerConnection.getStats() (W3C webrtc-stats).
async function callQuality(pc) {
  const stats = await pc.getStats();
  const q = { now: performance.now() };
  let pairId = null;
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') {
      q.packetsReceived = r.packetsReceived; q.packetsLost = r.packetsLost; q.jitterMs = r.jitter * 1000;
      q.bytesReceived = r.bytesReceived; q.codecId = r.codecId;
    } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
      q.packetsSent = r.packetsSent; q.bytesSent = r.bytesSent; q.txCodecId = r.codecId;
    } else if (r.type === 'remote-inbound-rtp' && r.kind === 'audio') {
      if (r.roundTripTime !== undefined) q.rttMs = r.roundTripTime * 1000;
      q.remoteLost = r.packetsLost;
    } else if (r.type === 'transport' && r.selectedCandidatePairId) {
      pairId = r.selectedCandidatePairId;
    } else if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' && !pairId) {
      pairId = r.id;
    }
  });
  const codec = stats.get(q.codecId || q.txCodecId);
  if (codec) q.codec = `${codec.mimeType.replace(/^audio\//, '')}/${codec.clockRate}` + (codec.channels > 1 ? `/${codec.channels}` : '');
  const pair = pairId && stats.get(pairId);
  if (pair) {
    if (q.rttMs === undefined && pair.currentRoundTripTime !== undefined) q.rttMs = pair.currentRoundTripTime * 1000;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    if (local && remote) {
      q.pair = `${local.candidateType} ${local.protocol || ''}${local.relayProtocol ? ' (TURN ' + local.relayProtocol + ')' : ''}` +
        ` → ${remote.candidateType}`;
    }
  }
  if (lastBytes && q.bytesReceived !== undefined) {
    const dt = (q.now - lastBytes.now) / 1000;
    if (dt > 0) {
      q.rxKbps = ((q.bytesReceived - lastBytes.rx) * 8) / dt / 1000;
      q.txKbps = ((q.bytesSent - lastBytes.tx) * 8) / dt / 1000;
    }
  }
  lastBytes = { now: q.now, rx: q.bytesReceived || 0, tx: q.bytesSent || 0 };
  window.lastQuality = q;
  return q;
}

function showQuality(q) {
  const num = (v, digits = 0) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
  $('q-codec').textContent = q.codec || '–';
  $('q-rx').textContent = `${num(q.packetsReceived)} packets, ${num(q.rxKbps, 1)} kbit/s`;
  $('q-tx').textContent = `${num(q.packetsSent)} packets, ${num(q.txKbps, 1)} kbit/s`;
  const total = (q.packetsReceived || 0) + Math.max(0, q.packetsLost || 0);
  const pct = total ? (100 * Math.max(0, q.packetsLost || 0)) / total : 0;
  $('q-loss').textContent = q.packetsLost === undefined ? '–' :
    `${q.packetsLost} (${pct.toFixed(1)} %) to us` + (q.remoteLost !== undefined ? `, ${q.remoteLost} from us` : '');
  $('q-jitter').textContent = q.jitterMs === undefined ? '–' : `${num(q.jitterMs, 1)} ms`;
  $('q-rtt').textContent = q.rttMs === undefined ? '–' : `${num(q.rttMs, 0)} ms`;
  $('q-pair').textContent = q.pair || '–';
}

function answer(why) {
  const s = window.currentSession;
  $('autoanswer-note').textContent = '';
  if (!s || s.direction !== 'incoming' || !s.isInProgress()) return;  // ringing, not yet answered
  log('answering (' + why + ')');
  setState('answering');
  client.answer(s);
  refreshControls();
}

function attach(session) {
  window.currentSession = session;
  $('peer').textContent = identity(session);
  session.on('peerconnection', (e) => {
    e.peerconnection.addEventListener('track', (t) => { $('audio').srcObject = t.streams[0] || new MediaStream([t.track]); });
  });
  session.on('progress', () => { if (session.direction === 'outgoing') setState('ringing'); });
  session.on('accepted', () => setState('connecting'));
  session.on('confirmed', () => {
    const pc = session.connection;
    if (pc && !$('audio').srcObject) $('audio').srcObject = new MediaStream([pc.getReceivers()[0].track]);
    setState('in call');
    startCallClock();
    refreshControls();
  });
  session.on('hold', (e) => { setState(e.originator === 'local' ? 'on hold' : 'held by the other side'); refreshControls(); });
  session.on('unhold', () => { setState('in call'); refreshControls(); });
  session.on('muted', () => { log('microphone muted'); refreshControls(); });
  session.on('unmuted', () => { log('microphone on'); refreshControls(); });
  const over = (what) => (e) => {
    if (window.currentSession !== session) return;
    $('autoanswer-note').textContent = '';
    if (e.cause === CAUSE.noMedia) {
      showError('No microphone: the browser did not allow this page to use one. Allow the microphone for this site ' +
        '(the icon left of the address bar), check that one is plugged in, then call again.');
    }
    setState(what + ' (' + e.cause + ')');
    window.currentSession = null;
    $('audio').srcObject = null;
    stopCallClock();
    refreshControls();
  };
  session.on('ended', over('call ended'));
  session.on('failed', over('call failed'));
  session.on('newDTMF', (e) => { if (e.originator === 'remote') log('DTMF ' + e.dtmf.tone + ' from the other side'); });
  session.on('newInfo', (e) => {
    if (e.originator !== 'remote' || !e.info.contentType) return;
    if (e.info.contentType.split(';')[0].trim().toLowerCase() !== REMOTE_CONTROL) return;
    remoteControl(session, String(e.info.body || '').trim().toLowerCase());
  });
  refreshControls();
}

// Genesys answers or holds for the agent (TAnswerCall / THoldCall / TRetrieveCall from the agent desktop).
function remoteControl(session, event) {
  log('remote control: ' + event);
  if (window.currentSession !== session) return;
  if (event === 'talk') {
    if (!session.isEstablished()) answer('remote control talk');
    else if (session.isOnHold().local) session.unhold();
  } else if (event === 'hold') {
    if (session.isEstablished() && !session.isOnHold().local) session.hold();
  }
}

// The module decides auto-answer (Call-Info answer-after, when the box is ticked) and answers by itself.
function onIncoming({ session: s, answerAfter: after, autoAnswer: auto }) {
  if (window.currentSession) {
    log('second incoming call refused (busy): ' + identity(s));
    clearTimeout(s.__rtcgateAutoAnswer);
    s.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
    return;
  }
  attach(s);
  $('caller').textContent = identity(s);
  setState('incoming call');
  if (auto) $('autoanswer-note').textContent = after === 0 ? '(auto-answer)' : `(auto-answer in ${after} s)`;
  else $('answer').focus();
}

function onRegistrationFailed(cause) {
  if (cause === CAUSE.auth || cause === CAUSE.rejected) {
    status('registration refused', 'bad');
    showError('Wrong user or password: the gateway refused the registration. Check both and sign in again.');
    // JsSIP would try again with the same wrong password; stop here.
    signOut(false);
  } else if (cause === CAUSE.connection) {
    status('not connected', 'bad');
  } else {
    status('registration failed (' + cause + '); retrying', 'bad');
  }
}

function onDisconnected() {
  if (!client) return;
  const gw = $('server').value;
  if (everConnected) {
    status('connection lost; reconnecting', 'bad');
    showError('The connection to the gateway was lost. Reconnecting by itself; calls in progress continue if it is back ' +
      'within a few seconds.');
  } else if (sameOrigin(gw)) {
    // This page came from the gateway over HTTPS: its certificate is accepted, so the gateway is just not there.
    status('gateway unreachable', 'bad');
    showError(`The gateway ${gw} cannot be reached (not running, or a network or firewall problem). Retrying by itself.`);
  } else {
    status('gateway unreachable', 'bad');
    // A browser does not tell a page why a WebSocket failed before it opened: unreachable and a certificate the
    // browser does not accept look the same (close code 1006).
    showError(`Could not connect to the gateway ${gw}. Either it cannot be reached, or this browser does not accept its ` +
      'certificate yet.', true);
  }
}

async function signIn() {
  clearError();
  if (client) signOut(false);
  const user = $('user').value.trim();
  const gateway = $('server').value.trim();
  if (!user) { showError('Enter your user name.'); $('user').focus(); return; }
  if (!/^wss:\/\//i.test(gateway)) { showError('The gateway address must start with wss://'); $('server').focus(); return; }
  if (!navigator.mediaDevices || !window.RTCPeerConnection) {
    showError('This browser cannot make calls from this page (no WebRTC, or the page is not on https://).');
    return;
  }
  try { localStorage.setItem('rtcgate.user', user); localStorage.setItem('rtcgate.gateway', gateway); } catch { /* private mode */ }
  everConnected = false;
  client = new RtcgateClient({ gateway, user, password: $('password').value, autoAnswer: $('autoanswer').checked });
  window.client = client;
  client.addEventListener('log', (e) => log(e.detail.message));
  client.addEventListener('connected', () => { everConnected = true; clearError(); log('WebSocket connected'); status('registering'); });
  client.addEventListener('disconnected', onDisconnected);
  client.addEventListener('registered', () => { clearError(); status('registered as ' + user, 'ok'); });
  client.addEventListener('unregistered', () => status('not registered'));
  client.addEventListener('registrationFailed', (e) => onRegistrationFailed(e.detail.cause));
  client.addEventListener('incoming', (e) => onIncoming(e.detail));
  client.addEventListener('autoanswer', (e) => {
    if (e.detail.session !== window.currentSession) return;
    log('answering (auto-answer)');
    setState('answering');
    $('autoanswer-note').textContent = '';
  });
  status('connecting');
  refreshControls();
  await client.start();
}

function signOut(updateStatus = true) {
  if (window.currentSession) window.currentSession.terminate();
  if (client) client.stop();
  client = null;
  window.client = null;
  if (updateStatus) status('signed out');
  refreshControls();
}

async function placeCall() {
  const target = $('target').value.trim();
  if (!client || !client.ua || window.currentSession || !target) return;
  clearError();
  setState('calling');
  attach(await client.call(target));
}

function pressKey(tone) {
  const s = window.currentSession;
  if (s && s.isEstablished()) {
    // In-band RFC 4733 (JsSIP 'RFC2833': RTCDTMFSender) by default; SIP INFO (application/dtmf-relay, with the
    // duration) when the agent chose it or when the call negotiated no telephone-event (canInsertDTMF false).
    // rtcgate sends both to Genesys as RFC 4733 on Genesys's payload type (docs/media.md).
    const sender = s.connection && s.connection.getSenders().find((x) => x.track && x.track.kind === 'audio');
    const inband = !$('dtmf-info').checked && !!(sender && sender.dtmf && sender.dtmf.canInsertDTMF);
    s.sendDTMF(tone, { transportType: inband ? 'RFC2833' : 'INFO', duration: 160 });
    log('DTMF ' + tone + ' sent (' + (inband ? 'RFC 4733' : 'SIP INFO') + ')');
  } else if (!s) {
    $('target').value += tone;
  }
}

function blindTransfer() {
  const s = window.currentSession;
  const target = $('transfer-target').value.trim();
  if (!s || !s.isEstablished() || !target) return;
  setState('transferring to ' + target);
  // REFER on the call's dialog (RFC 3515); rtcgate sends it on to Genesys, whose NOTIFYs come back here.
  s.refer(target, { eventHandlers: {
    requestSucceeded: () => log('transfer: REFER accepted (202)'),
    requestFailed: (e) => {
      showError('The transfer to ' + target + ' was refused (' + (e.cause || 'failed') + '). The call goes on.');
      setState('in call');
    },
    trying: () => log('transfer: trying'),
    progress: () => log('transfer: ringing'),
    accepted: () => { log('transfer: accepted'); setState('transferred to ' + target); $('transfer-target').value = ''; },
    failed: (e) => {
      showError('The transfer to ' + target + ' failed (' + ((e && e.status_line && e.status_line.reason_phrase) || 'failed') + ').');
      setState('in call');
    },
  } });
}

// Setup.
$('server').value = (() => { try { return localStorage.getItem('rtcgate.gateway'); } catch { return null; } })() ||
  `wss://${location.host}`;
$('user').value = (() => { try { return localStorage.getItem('rtcgate.user'); } catch { return null; } })() || '';
$('login-form').addEventListener('submit', (e) => { e.preventDefault(); signIn(); });
$('logout').onclick = () => signOut();
$('autoanswer').onchange = () => { if (client) client.autoAnswer = $('autoanswer').checked; };
$('dtmf-info').checked = (() => { try { return localStorage.getItem('rtcgate.dtmf') === 'info'; } catch { return false; } })();
$('dtmf-info').onchange = () => {
  try { localStorage.setItem('rtcgate.dtmf', $('dtmf-info').checked ? 'info' : 'rfc4733'); } catch { /* private mode */ }
};
$('call').onclick = placeCall;
$('target').addEventListener('keydown', (e) => { if (e.key === 'Enter') placeCall(); });
$('answer').onclick = () => answer('Answer clicked');
$('reject').onclick = () => {
  const s = window.currentSession;
  if (s && !s.isEstablished()) s.terminate({ status_code: 603, reason_phrase: 'Decline' });
};
$('hangup').onclick = () => { if (window.currentSession) window.currentSession.terminate(); };
$('hold').onclick = () => {
  const s = window.currentSession;
  if (!s || !s.isEstablished()) return;
  if (s.isOnHold().local) s.unhold(); else s.hold();
};
$('mute').onclick = () => {
  const s = window.currentSession;
  if (!s || !s.isEstablished()) return;
  if (s.isMuted().audio) s.unmute({ audio: true }); else s.mute({ audio: true });
};
$('transfer').onclick = blindTransfer;
$('transfer-target').addEventListener('keydown', (e) => { if (e.key === 'Enter') blindTransfer(); });
for (const tone of KEYS) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = tone;
  b.className = 'dtmf' + (/[A-D]/.test(tone) ? ' letter' : '');
  b.dataset.tone = tone;
  b.setAttribute('aria-label', tone === '*' ? 'star' : tone === '#' ? 'pound' : tone);
  b.onclick = () => pressKey(tone);
  $('keypad').appendChild(b);
}
// In a call, digit keys typed anywhere but in a text field go out as DTMF.
document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
  const key = e.key.toUpperCase();
  if (window.currentSession && window.currentSession.isEstablished() && KEYS.includes(key)) {
    e.preventDefault();
    pressKey(key);
  }
});
refreshControls();
(document.getElementById($('user').value ? 'password' : 'user')).focus();

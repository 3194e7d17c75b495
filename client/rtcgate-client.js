// SPDX-License-Identifier: Apache-2.0
// rtcgate-client.js: the browser half of call setup, as an ES module around stock JsSIP (npm "jssip", unmodified).
// Bundle it with JsSIP (scripts/build-client.sh: esbuild) and load it with <script type="module">.
//
// What it adds to JsSIP (docs/network.md, "The browser side"):
// - ICE servers from rtcgate: GET <gateway>/rtcgate/ice-servers with the agent's digest credentials (or a signed
//   agent token), which returns the STUN/TURN URLs and short-lived TURN REST credentials; fetched again when half
//   their ttl is gone. Never a TURN secret in the page.
// - A cap on the browser's ICE gathering. JsSIP sends its offer or answer only when gathering is over, and a STUN or
//   TURN server that never answers keeps Chromium gathering for ~40 s. Rule: within one gathering round JsSIP goes
//   on (its icecandidate ready()) at the first relay candidate when the ICE servers include TURN (or the policy is
//   relay-only), else at the first server-reflexive one, and at the latest gatheringTimeoutMs (from rtcgate) after
//   the connection started gathering; with no candidate at all by then (so no ready() yet) an end-of-candidates
//   event on the connection lets JsSIP go on. Each round is reported as a "gathering" event
//   { reason: 'relay' | 'srflx' | 'timeout' | 'complete', elapsedMs, candidates }.
// - Reconnection and re-registration: JsSIP's own transport recovery (2-30 s backoff) re-registers after a reconnect;
//   a failed registration is retried with the same backoff.
// - Auto-answer: an incoming INVITE with Call-Info ...;answer-after=N (what Genesys sends for auto-answer, RFC 7462
//   style) is answered after N seconds when autoAnswer is on.
import JsSIP from 'jssip';

export const ICE_SERVERS_PATH = '/rtcgate/ice-servers';
const DEFAULT_GATHERING_TIMEOUT_MS = 1000;
// credentials 'omit': the digest is ours to answer. With credentials (the default for a same-origin fetch, as from
// the page rtcgate serves itself) a 401 makes the browser prompt for a user and password (Fetch standard, HTTP-network-
// or-cache fetch, the 401 step) and the fetch waits for that dialog; a headless browser waits forever.
const FETCH_OPTIONS = { cache: 'no-store', credentials: 'omit' };

// Seconds of the first Call-Info answer-after parameter, or null.
export function answerAfter(request) {
  for (const h of request.getHeaders('Call-Info')) {
    const m = /;\s*answer-after\s*=\s*(\d{1,6})\b/i.exec(h);
    if (m) return Number(m[1]);
  }
  return null;
}

function candidateType(candidate) {
  if (candidate.type) return candidate.type;
  const m = / typ (\w+)/.exec(candidate.candidate || '');
  return m ? m[1] : '';
}

function challengeParam(challenge, name) {
  const m = new RegExp(`\\b${name}=(?:"([^"]*)"|([^,\\s]*))`, 'i').exec(challenge);
  return m ? (m[1] !== undefined ? m[1] : m[2]) : '';
}

export class RtcgateClient extends EventTarget {
  // gateway: 'wss://host:port' (the WebSocket; the ICE servers come from https:// on the same host and port).
  // user/password: the agent's credentials, or token: a signed agent token. autoAnswer: honour answer-after.
  // iceTransportPolicy: 'all' (default) or 'relay' (TURN only). maxAnswerAfterS: larger answer-after values ring.
  constructor({ gateway, user, password = '', token = '', domain = 'rtcgate.invalid', autoAnswer = true,
    maxAnswerAfterS = 3600, iceTransportPolicy = 'all', registerExpires = 300 }) {
    super();
    this.gateway = gateway;
    this.user = user;
    this.password = password;
    this.token = token;
    this.domain = domain;
    this.autoAnswer = autoAnswer;
    this.maxAnswerAfterS = maxAnswerAfterS;
    this.iceTransportPolicy = iceTransportPolicy;
    this.registerExpires = registerExpires;
    this.ice = { iceServers: [], ttl: 0, gatheringTimeoutMs: DEFAULT_GATHERING_TIMEOUT_MS, fetchedAt: 0 };
    this.ua = null;
    this._nc = 0;
    this._retryTimer = null;
  }

  _emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  _log(message) { this._emit('log', { message }); }

  // "wss://host:port/path" -> "https://host:port": the endpoint is on the WebSocket's listener.
  _base() { const u = new URL(this.gateway.replace(/^ws/i, 'http')); return `${u.protocol}//${u.host}`; }

  // RFC 7616 3.4 with qop=auth and MD5 (JsSIP's own MD5: the only algorithm JsSIP speaks).
  _digest(challenge, uri) {
    const realm = challengeParam(challenge, 'realm');
    const nonce = challengeParam(challenge, 'nonce');
    const nc = (++this._nc).toString(16).padStart(8, '0');
    const cnonce = JsSIP.Utils.createRandomToken(12);
    const md5 = JsSIP.Utils.calculateMD5;
    const ha1 = md5(`${this.user}:${realm}:${this.password}`);
    const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${md5(`GET:${uri}`)}`);
    return `Digest username="${this.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=MD5, ` +
      `response="${response}", qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  }

  // Fetches the ICE servers; on any failure keeps the previous ones (or none) and the default cap.
  async refreshIceServers() {
    const url = this._base() + ICE_SERVERS_PATH;
    try {
      let res;
      if (this.token) {
        res = await fetch(url, { headers: { Authorization: `Bearer ${this.token}` }, ...FETCH_OPTIONS });
      } else {
        res = await fetch(url, FETCH_OPTIONS);
        if (res.status === 401) {
          // Both challenges arrive joined in one value: take the MD5 one.
          const all = res.headers.get('WWW-Authenticate') || '';
          const md5 = all.split(/,?\s*(?=Digest\s)/i).find((c) => /algorithm=MD5/i.test(c)) || '';
          this._nc = 0;
          res = await fetch(url, { headers: { Authorization: this._digest(md5, ICE_SERVERS_PATH) }, ...FETCH_OPTIONS });
        }
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = await res.json();
      this.ice = { iceServers: body.iceServers || [], ttl: Number(body.ttl) || 0,
        gatheringTimeoutMs: Number(body.gatheringTimeoutMs) || DEFAULT_GATHERING_TIMEOUT_MS, fetchedAt: Date.now() };
      this._emit('iceservers', { ...this.ice });
      this._log(`ICE servers from rtcgate: ${this.ice.iceServers.map((s) => [].concat(s.urls).join(' ')).join(' ') || 'none'}`);
    } catch (e) {
      this._log(`ICE servers not fetched (${e.message}); keeping ${this.ice.iceServers.length} server(s)`);
    }
    return this.ice;
  }

  async _freshIce() {
    const age = Date.now() - this.ice.fetchedAt;
    if (!this.ice.fetchedAt || (this.ice.ttl && age > this.ice.ttl * 500)) await this.refreshIceServers();
    return this.ice;
  }

  _pcConfig() {
    return { iceServers: this.ice.iceServers, iceTransportPolicy: this.iceTransportPolicy };
  }

  async start() {
    await this.refreshIceServers();
    const socket = new JsSIP.WebSocketInterface(this.gateway);
    const config = { sockets: [socket], uri: `sip:${this.user}@${this.domain}`, register_expires: this.registerExpires,
      connection_recovery_min_interval: 2, connection_recovery_max_interval: 30 };
    if (this.token) config.authorization_jwt = this.token; else config.password = this.password;
    this.ua = new JsSIP.UA(config);
    this.ua.on('connected', () => this._emit('connected', {}));
    this.ua.on('disconnected', () => { this._log('WebSocket down; JsSIP reconnects'); this._emit('disconnected', {}); });
    this.ua.on('registered', () => { clearTimeout(this._retryTimer); this._emit('registered', {}); });
    this.ua.on('unregistered', () => this._emit('unregistered', {}));
    this.ua.on('registrationFailed', (e) => {
      this._emit('registrationFailed', { cause: e.cause });
      // A transport error is JsSIP's to recover (it registers again once connected); anything else is retried here.
      if (e.cause !== JsSIP.C.causes.CONNECTION_ERROR && this.ua && this.ua.isConnected()) {
        clearTimeout(this._retryTimer);
        this._retryTimer = setTimeout(() => { if (this.ua) this.ua.register(); }, 5000);
      }
    });
    this.ua.on('newRTCSession', (e) => { if (e.originator === 'remote') this._onIncoming(e); });
    this.ua.start();
  }

  stop() {
    clearTimeout(this._retryTimer);
    if (this.ua) this.ua.stop();
    this.ua = null;
  }

  // The gathering cap (see the top of this file) for one JsSIP session, for every gathering round of its connection:
  // its "peerconnection" and "icecandidate" handlers. A round starts when the connection starts gathering (or at its
  // first candidate, if that is seen first).
  _gatheringCap() {
    const wantRelay = this.iceTransportPolicy === 'relay' ||
      this.ice.iceServers.some((s) => [].concat(s.urls).some((u) => /^turns?:/i.test(u)));
    let pc = null;
    let round = null;
    const begin = () => {
      const r = { ready: null, start: performance.now(), types: [], done: false, timer: null };
      r.timer = setTimeout(() => { if (round === r) finish('timeout'); }, this.ice.gatheringTimeoutMs);
      round = r;
    };
    const finish = (reason) => {
      if (!round || round.done) return;
      round.done = true;
      clearTimeout(round.timer);
      const detail = { reason, elapsedMs: Math.round(performance.now() - round.start), candidates: round.types.slice() };
      this._log(`ICE gathering ${reason === 'complete' ? 'complete' : `capped (${reason})`} after ${detail.elapsedMs} ms: ` +
        `${detail.candidates.join(',') || 'no candidates'}`);
      this._emit('gathering', detail);
      if (reason === 'complete') return;
      if (round.ready) round.ready();
      // No candidate at all yet (e.g. relay-only with a TURN server that never answers), so no ready() from JsSIP:
      // end-of-candidates is what JsSIP's own listener waits for, and it then goes on with the SDP as it is.
      else if (pc) pc.dispatchEvent(new RTCPeerConnectionIceEvent('icecandidate', { candidate: null }));
    };
    const peerconnection = (e) => {
      pc = e.peerconnection;
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'gathering' && (!round || round.done)) begin();
        else if (pc.iceGatheringState === 'complete') finish('complete');
      });
    };
    const icecandidate = (e) => {
      if (!round || (round.done && round.ready !== e.ready)) begin();
      if (!round.ready) round.ready = e.ready;
      if (round.done) return;
      const type = candidateType(e.candidate);
      round.types.push(type);
      if (type === 'relay' || (type === 'srflx' && !wantRelay)) finish(type);
    };
    return { peerconnection, icecandidate };
  }

  _sessionOptions(extra = {}) {
    return { mediaConstraints: { audio: true, video: false }, pcConfig: this._pcConfig(), ...extra };
  }

  // Places a call; resolves to the JsSIP RTCSession.
  async call(target, extra = {}) {
    await this._freshIce();
    const uri = /^sips?:/i.test(target) ? target : `sip:${target}@${this.domain}`;
    // ua.call() emits "peerconnection" before it returns: the cap goes in through eventHandlers, before the page's.
    const cap = this._gatheringCap();
    const handlers = { ...(extra.eventHandlers || {}) };
    for (const [event, capHandler] of Object.entries(cap)) {
      const page = handlers[event];
      handlers[event] = page ? (e) => { capHandler(e); page(e); } : capHandler;
    }
    return this.ua.call(uri, this._sessionOptions({ ...extra, eventHandlers: handlers }));
    return session;
  }

  async answer(session, extra = {}) {
    clearTimeout(session.__rtcgateAutoAnswer);
    if (session.direction !== 'incoming' || !session.isInProgress()) return;
    await this._freshIce();
    // An INVITE without SDP (Genesys MakeCall): JsSIP offers in its 200 and needs offerToReceiveAudio to offer audio.
    session.answer(this._sessionOptions({ rtcOfferConstraints: { offerToReceiveAudio: true }, ...extra }));
  }

  _onIncoming(e) {
    const session = e.session;
    // "peerconnection" comes with answer(), so handlers added now see it.
    const cap = this._gatheringCap();
    session.on('peerconnection', cap.peerconnection);
    session.on('icecandidate', cap.icecandidate);
    const after = answerAfter(e.request);
    const auto = this.autoAnswer && after !== null && after <= this.maxAnswerAfterS;
    this._emit('incoming', { session, request: e.request, answerAfter: after, autoAnswer: auto });
    if (!auto) return;
    this._log(`auto-answer requested: answer-after=${after}`);
    session.__rtcgateAutoAnswer = setTimeout(() => {
      if (!session.isInProgress()) return;
      this._emit('autoanswer', { session, answerAfter: after });
      this.answer(session);
    }, after * 1000);
    session.on('ended', () => clearTimeout(session.__rtcgateAutoAnswer));
    session.on('failed', () => clearTimeout(session.__rtcgateAutoAnswer));
  }
}

export default RtcgateClient;

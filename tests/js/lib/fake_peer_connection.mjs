// SPDX-License-Identifier: Apache-2.0
// Node has no WebRTC. JsSIP's and SIP.js's signalling only need an RTCPeerConnection that produces and accepts
// SDP, so a media-less stand-in is enough to exercise INVITE/ACK/BYE with the real libraries (no media flows).
export const FAKE_SDP = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:sha-256 ' + Array(32).fill('AB').join(':'), 'a=setup:actpass',
  'a=mid:0', 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n');

export class FakePeerConnection extends EventTarget {
  constructor() {
    super();
    this.signalingState = 'stable';
    this.iceGatheringState = 'complete';
    this.iceConnectionState = 'new';
    this.connectionState = 'new';
    this.localDescription = null;
    this.remoteDescription = null;
  }
  async createOffer() { return { type: 'offer', sdp: FAKE_SDP }; }
  async createAnswer() { return { type: 'answer', sdp: FAKE_SDP.replace('a=setup:actpass', 'a=setup:active') }; }
  async setLocalDescription(d) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d) {
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  getSenders() { return []; }
  getReceivers() { return []; }
  getLocalStreams() { return []; }
  getRemoteStreams() { return []; }
  addTrack() {}
  close() { this.signalingState = 'closed'; }
}

// Installs the stand-in where JsSIP looks for it (window.RTCPeerConnection).
export function installFakePeerConnection() {
  globalThis.RTCPeerConnection = FakePeerConnection;
  globalThis.window = globalThis;
  globalThis.RTCSessionDescription = class { constructor(init) { Object.assign(this, init); } };
}

// SPDX-License-Identifier: Apache-2.0
// Proves the end-to-end tests' audio method before any gateway is involved: Chromium's fake microphone plays a
// 440 Hz WAV, the tone crosses a local RTCPeerConnection pair (Opus, DTLS-SRTP), and the WebAudio detector finds
// 440 Hz on the receiving side. If this fails, an e2e audio failure says nothing about rtcgate.
'use strict';
const path = require('path');
const { launchBrowser, serveFiles, TONE_DETECTOR } = require(path.join(__dirname, '../js/lib/browser'));

(async () => {
  const site = await serveFiles({ 'index.html': '<!doctype html><title>rtcgate tone self-test</title>' });
  const browser = await launchBrowser({ toneHz: 440 });
  const { context } = browser;
  const close = async () => { await browser.close(); await site.close(); };
  const deadline = setTimeout(() => { console.error('timeout'); close().then(() => process.exit(1)); }, 60000);
  try {
    const page = await context.newPage();
    await page.goto(site.url);
    await page.evaluate(TONE_DETECTOR);
    const result = await page.evaluate(async () => {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      const a = new RTCPeerConnection(), b = new RTCPeerConnection();
      a.onicecandidate = e => e.candidate && b.addIceCandidate(e.candidate);
      b.onicecandidate = e => e.candidate && a.addIceCandidate(e.candidate);
      const remote = new Promise(r => { b.ontrack = e => r(e.streams[0] || new MediaStream([e.track])); });
      mic.getTracks().forEach(t => a.addTrack(t, mic));
      await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
      const local = await window.__rtcgateTone.detect(mic, 1500);
      const received = await window.__rtcgateTone.detect(await remote, 3000);
      return { local, received, state: b.connectionState };
    });
    console.log(JSON.stringify(result));
    const ok = Math.abs(result.local.hz - 440) <= 10 && Math.abs(result.received.hz - 440) <= 10;
    console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
    clearTimeout(deadline);
    await close();
    process.exit(ok ? 0 : 1);
  } catch (e) {
    console.error(e);
    clearTimeout(deadline);
    await close();
    process.exit(1);
  }
})();

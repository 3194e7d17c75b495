// SPDX-License-Identifier: Apache-2.0
// The rtcgate configuration the browser end-to-end tests share: everything on loopback (ports 0), agent 1001 /
// demo-1001 with DN 1001, SIPp as Genesys on `sippPort`, host candidates on 127.0.0.0/8.
'use strict';

// rtpPortMin: by default a range of this run's own, outside the default 20000-29999 that the component tests'
// daemons use and below the ephemeral ports (call_e2e.js says why); the ICE range follows it (the loader refuses
// overlapping ranges, and ranges too small for max_calls: 100 RTP ports hold 50 calls). wss: more keys of the WSS
// listener (", k: v"); security: more keys of `security` (", k: v"); extra: further top-level YAML lines.
function loopbackGatewayConfig({ sippPort, rtpPortMin = 30000 + 2 * Math.floor(Math.random() * 1300), wss = '',
  security = '', extra = '' }) {
  return `listeners:
  admin: {address: 127.0.0.1, port: 0}
  wss: [{address: 127.0.0.1, port: 0${wss}}]
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: ${sippPort}}]
agents: [{user: "1001", password: demo-1001, dn: "1001"}]
media: {workers: 1, rtp_address: 127.0.0.1, rtp_port_min: ${rtpPortMin}, rtp_port_max: ${rtpPortMin + 99}, ice_port_min: ${
  rtpPortMin + 100}, ice_port_max: ${rtpPortMin + 199}}
ice: {candidates: {allow_loopback: true, allow_cidrs: [127.0.0.0/8]}}
security: {max_calls: 50${security}}
${extra}`;
}

module.exports = { loopbackGatewayConfig };

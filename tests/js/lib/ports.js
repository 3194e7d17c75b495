// SPDX-License-Identifier: Apache-2.0
// Ports for the end-to-end tests' child processes.
'use strict';
const dgram = require('dgram');

// A port for SIPp (which takes a number, not a socket), below the kernel's ephemeral range so that no other
// socket's bind(0) can take it between this check and SIPp's bind; chosen at random, retried if in use.
function freeUdpPort(attempt = 0) {
  return new Promise((resolve, reject) => {
    const port = 10000 + Math.floor(Math.random() * 2500);  // the C++ tests' single-port region (tests/support)
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      if (attempt >= 50) reject(new Error('no free UDP port'));
      else freeUdpPort(attempt + 1).then(resolve, reject);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(port)));
  });
}

module.exports = { freeUdpPort };

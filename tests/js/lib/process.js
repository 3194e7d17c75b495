// SPDX-License-Identifier: Apache-2.0
// Child processes for the end-to-end tests and the demo: output captured, exit awaited, always stoppable by PID.
'use strict';
const { spawn } = require('child_process');

function startProcess(name, cmd, args, opts = {}, onOutput = null) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  child.name = name;
  child.out = '';
  const onData = (d) => {
    child.out += d;
    if (onOutput) onOutput(d);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return child;
}

// Resolves with pred()'s first truthy value, polling every 20 ms; rejects after `ms`.
function waitFor(pred, ms, what) {
  return new Promise((resolve, reject) => {
    const until = Date.now() + ms;
    const tick = () => {
      const v = pred();
      if (v) return resolve(v);
      if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

module.exports = { startProcess, waitFor };

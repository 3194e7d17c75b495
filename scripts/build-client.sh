#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bundles client/rtcgate-client.js with stock JsSIP (tests/js/node_modules, `npm ci` there; scripts/setup.sh does it)
# into one ES module a page loads with <script type="module">: import { RtcgateClient } from './rtcgate-client.js'.
# Usage: scripts/build-client.sh [output file]   (default build/client/rtcgate-client.js)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/client/rtcgate-client.js}
mkdir -p "$(dirname "$out")"
node -e '
const [root, out] = process.argv.slice(1);
require(root + "/tests/js/node_modules/esbuild").buildSync({
  entryPoints: [root + "/client/rtcgate-client.js"], nodePaths: [root + "/tests/js/node_modules"],
  bundle: true, format: "esm", minify: true, outfile: out, logLevel: "error",
});' "$root" "$out"
echo "$out"

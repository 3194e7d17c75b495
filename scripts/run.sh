#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what is missing, build, and start the local demo: rtcgate on its embedded default config, SIPp as a
# stand-in for Genesys (1 kHz tone), and the softphone page, served by rtcgate at https://127.0.0.1:8443/. Ctrl-C stops
# everything.
# With a config file as first argument, runs rtcgate alone on that file instead (foreground).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
bin="${RTCGATE_BUILD_DIR:-$root/build}/src/rtcgate"
if [ $# -gt 0 ]; then
  exec "$bin" --config "$1"
fi
exec node "$root/demo/demo.js" "$bin"

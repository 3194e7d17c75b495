#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what is missing, build, and run rtcgate in the foreground on its embedded local demo config
# (or the config file given as first argument). Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
if [ $# -gt 0 ]; then
  exec "${RTCGATE_BUILD_DIR:-$root/build}/src/rtcgate" --config "$1"
fi
exec "${RTCGATE_BUILD_DIR:-$root/build}/src/rtcgate"

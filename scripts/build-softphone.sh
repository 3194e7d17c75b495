#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The softphone page as rtcgate serves it (listeners.wss[].web_root, docs/softphone.md): web/softphone/* and the
# client module bundled with stock JsSIP (scripts/build-client.sh) in one directory.
# Usage: scripts/build-softphone.sh [output directory]   (default build/softphone: the embedded default's web_root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/softphone}
mkdir -p "$out"
cp "$root"/web/softphone/index.html "$root"/web/softphone/softphone.js "$root"/web/softphone/softphone.css "$out"/
"$root/scripts/build-client.sh" "$out/rtcgate-client.js" >/dev/null
echo "$out"

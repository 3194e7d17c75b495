#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the side-by-side anchor for benchmarks/anchor/ (issue 14): Kamailio with its WebSocket and TLS modules and
# rtpengine (userspace only), all Debian 12 packages. Only when asked: never called from scripts/setup.sh or CI.
# The packages' own services are stopped and disabled: benchmarks/anchor/run.sh starts both on loopback itself.
set -euo pipefail
packages=(kamailio kamailio-websocket-modules kamailio-tls-modules rtpengine-daemon openssl curl python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup-anchor: all packages present"
  exit 0
fi
echo "setup-anchor: installing ${missing[*]}"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the packages' postinst must not start kamailio/rtpengine system services on their default ports.
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 755 "$policy"
  made_policy=yes
fi
trap '[ "$made_policy" = yes ] && "${as_root[@]}" rm -f "$policy"' EXIT
"${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q
"${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" </dev/null
echo "setup-anchor: done ($(kamailio -v 2>/dev/null | head -1); $(rtpengine --version 2>&1 | head -1))"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the .deb into a fresh Debian 12 minbase chroot (debootstrap; root and deb.debian.org needed) and checks
# what dpkg and the maintainer scripts did: dependencies resolve, the rtcgate user and /var/lib/rtcgate exist, the
# config is root:rtcgate 0640 and a conffile, the daemon starts as rtcgate with a WSS listener (the dlopen'ed
# libwebsockets-evlib-glib plugin), an edited config survives a reinstall, purge removes everything.
# Not part of ctest (network, root, ~1-2 min). Usage: scripts/deb_install_check.sh [DEB]  (default build/pkg/*.deb)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deb=${1:-$(ls "$root"/build/pkg/rtcgate_*.deb | head -n1)}
chroot_dir=${RTCGATE_DEB_CHROOT:-$root/build/debroot}
if [ ! -x "$chroot_dir/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap missing (apt-get install debootstrap)"; exit 77; }
  debootstrap --variant=minbase bookworm "$chroot_dir" http://deb.debian.org/debian >/dev/null
fi
cat /etc/resolv.conf > "$chroot_dir/etc/resolv.conf"
cp "$deb" "$chroot_dir/tmp/rtcgate.deb"
in_root() { chroot "$chroot_dir" /bin/sh -c "$1"; }
fail=0
expect() {  # description, shell test run in the chroot
  if in_root "$2" >/dev/null 2>&1; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
in_root 'export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends /tmp/rtcgate.deb >/dev/null'
expect "rtcgate user" 'getent passwd rtcgate'
expect "/var/lib/rtcgate owned by rtcgate, 0750" '[ "$(stat -c %U:%a /var/lib/rtcgate)" = rtcgate:750 ]'
expect "config root:rtcgate 0640" '[ "$(stat -c %U:%G:%a /etc/rtcgate/rtcgate.yaml)" = root:rtcgate:640 ]'
expect "config is a conffile" 'grep -qx /etc/rtcgate/rtcgate.yaml /var/lib/dpkg/info/rtcgate.conffiles'
expect "unit ExecStart" 'grep -qx "ExecStart=/usr/bin/rtcgate --config /etc/rtcgate/rtcgate.yaml" /usr/lib/systemd/system/rtcgate.service'
expect "check-config as rtcgate" 'su -s /bin/sh rtcgate -c "rtcgate --check-config /etc/rtcgate/rtcgate.yaml"'
# The daemon with a WSS listener (ports 0) as the rtcgate user: READY means lws found its GLib plugin.
in_root 'cat > /tmp/start.yaml <<YAML
listeners:
  wss: [{address: 127.0.0.1, port: 0}]
  admin: {address: 127.0.0.1, port: 0}
upstream:
  sip_bind: {address: 127.0.0.1, port: 0}
  servers: [{host: 127.0.0.1, port: 5999}]
media: {workers: 1}
YAML
chmod 0644 /tmp/start.yaml'
expect "daemon starts with WSS as rtcgate" 'su -s /bin/sh rtcgate -c "timeout -s TERM 3 rtcgate --config /tmp/start.yaml 2>/tmp/start.log"; grep -q "ready: SIP toward Genesys" /tmp/start.log && grep -q "rtcgate stopped" /tmp/start.log'
in_root 'echo "# local edit" >> /etc/rtcgate/rtcgate.yaml; DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold /tmp/rtcgate.deb >/dev/null 2>&1'
expect "edited config kept on reinstall" '[ "$(tail -n1 /etc/rtcgate/rtcgate.yaml)" = "# local edit" ]'
in_root 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q rtcgate >/dev/null 2>&1'
expect "purge removes binary, config, state" '! ls /usr/bin/rtcgate /etc/rtcgate /var/lib/rtcgate'
exit $fail

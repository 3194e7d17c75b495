#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds Debian 12's own libsrtp2 source package (2.5.0, Debian's patches applied) with OpenSSL crypto instead of
# NSS, as a static library in a private prefix that CMake links (docs/adr/0008-libsrtp2-with-openssl.md).
# Idempotent: does nothing when the prefix already holds the build. The system's apt configuration is not changed:
# deb-src entries mirroring its deb entries live in a private apt state directory under build-deps/.
#   scripts/build-libsrtp2.sh [PREFIX]      default PREFIX: <repo>/build-deps/libsrtp2-openssl
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$root/build-deps/libsrtp2-openssl}
stamp="$prefix/.rtcgate-libsrtp2-openssl"
if [ -f "$stamp" ] && [ -f "$prefix/lib/libsrtp2.a" ]; then
  echo "libsrtp2 (OpenSSL): present in $prefix ($(cat "$stamp"))"
  exit 0
fi

work=$root/build-deps/libsrtp2-src
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/apt/sources.list.d" "$work/apt/cache/archives/partial"
# deb-src twins of the system's deb entries (deb822 .sources files and one-line .list files).
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  sed -E 's/^Types:.*/Types: deb-src/' "$f" > "$work/apt/sources.list.d/$(basename "$f")"
done
: > "$work/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  sed -nE 's/^deb[[:space:]]+/deb-src /p' "$f" >> "$work/apt/sources.list"
done
apt_opts=(-o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts="$work/apt/sources.list.d"
  -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache" -o Debug::NoLocking=1
  -o APT::Sandbox::User=root -q)
apt-get "${apt_opts[@]}" update </dev/null >/dev/null
# The same version as Debian's binary package when apt knows it, so only the crypto backend differs.
version=$(dpkg-query -W -f='${Version}' libsrtp2-dev 2>/dev/null || true)
(cd "$work" && apt-get "${apt_opts[@]}" source "libsrtp2${version:+=$version}" </dev/null >/dev/null)
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'libsrtp2-*' | head -1)
[ -n "$src" ] || { echo "build-libsrtp2: apt-get source libsrtp2 unpacked nothing in $work" >&2; exit 1; }
cd "$src"
./configure --enable-openssl --disable-pcap --prefix="$prefix" CFLAGS="-O2 -g -fPIC" >"$work/configure.log" 2>&1 ||
  { tail -20 "$work/configure.log" >&2; exit 1; }
make -j"${RTCGATE_JOBS:-2}" libsrtp2.a >"$work/make.log" 2>&1 || { tail -20 "$work/make.log" >&2; exit 1; }
make install >>"$work/make.log" 2>&1
grep -q '^#define OPENSSL 1' crypto/include/config.h 2>/dev/null || grep -q 'OPENSSL 1' config.h ||
  { echo "build-libsrtp2: configure did not select OpenSSL" >&2; exit 1; }
echo "$(basename "$src") ${version:-unknown-debian-version} --enable-openssl" > "$stamp"
rm -rf "$work"
echo "libsrtp2 (OpenSSL): built into $prefix ($(cat "$stamp"))"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what rtcgate needs to build, run and test on Debian 12. Idempotent; no questions asked.
set -euo pipefail

packages=(
  # build (dpkg-dev: `apt-get source` for scripts/build-libsrtp2.sh)
  cmake g++ make pkg-config dpkg-dev
  libglib2.0-dev libnice-dev libsrtp2-dev libssl-dev libsofia-sip-ua-dev libsofia-sip-ua-glib-dev
  libopus-dev libspandsp-dev libwebsockets-dev libyaml-cpp-dev libspdlog-dev
  # admin API JSON and rtcgatectl's HTTP client (docs/adr/0009-admin-api-json-and-http-client.md)
  libjson-glib-dev libcurl4-openssl-dev
  # runtime plugin: without it lws_create_context() fails in GLib mode
  libwebsockets-evlib-glib
  # tests
  libgtest-dev libgmock-dev libbenchmark-dev sip-tester coturn chromium iproute2 openssl curl
  # scripts/config_reference.py (ctest config_reference)
  python3 python3-yaml
  # the network lab (tests/js/lib/netlab.js): nftables NAT inside its namespaces
  nftables
  # scale-out lab (ctest e2e_scaleout, docs/scale-out.md): the balancers in front of two nodes
  haproxy kamailio
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer's runtime
  clang libclang-rt-14-dev
)
# The machine's own Node.js/npm are used when present (they may not come from Debian's packages).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
  echo "setup: all Debian packages present"
fi

# promtool (`promtool check metrics` in the e2e call tests, which skip it when absent). Debian ships it only inside
# the `prometheus` package (19 MB download), whose install would also enable a Prometheus server: only the promtool
# binary is taken out of the package, into /usr/local/bin.
if ! command -v promtool >/dev/null 2>&1; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  tmp=$(mktemp -d)
  # Not fatal: without promtool the e2e call tests skip only that check.
  if (cd "$tmp" && { apt-get download -q prometheus || { "${as_root[@]}" apt-get update -q && apt-get download -q prometheus; }; } &&
      dpkg-deb -x prometheus_*.deb x) </dev/null; then
    "${as_root[@]}" install -m 0755 "$tmp/x/usr/bin/promtool" /usr/local/bin/promtool
    echo "setup: promtool installed from Debian's prometheus package"
  else
    echo "setup: promtool could not be installed; the e2e call tests will skip promtool check metrics"
  fi
  rm -rf "$tmp"
fi

# Node modules for the browser-side tests (JsSIP, SIP.js, playwright-core driving Debian's chromium).
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$root/tests/js/node_modules/jssip" ] || [ "$root/tests/js/package-lock.json" -nt "$root/tests/js/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci in tests/js"
  (cd "$root/tests/js" && npm ci --no-audit --no-fund </dev/null)
fi

# libsrtp2 with OpenSSL crypto, built from Debian's own source package into build-deps/ (docs/adr/0008). Without it
# CMake links Debian's NSS-based libsrtp2 and says so.
"$root/scripts/build-libsrtp2.sh" || echo "setup: WARNING: scripts/build-libsrtp2.sh failed; building with Debian's libsrtp2 (NSS)" >&2

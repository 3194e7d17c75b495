# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/lib/bench_daemon.sh and benchmarks/capacity.sh: the start of a loopback daemon's config.

# The listeners and upstream of a loopback daemon (ports from $wss_port, $admin_port, $sip_port, $upstream_port),
# then `agents:` for the caller to continue.
config_head() {
  cat <<YAML
listeners:
  wss: [{address: 127.0.0.1, port: $wss_port}]
  admin: {address: 127.0.0.1, port: $admin_port}
upstream:
  sip_bind: {address: 127.0.0.1, port: $sip_port}
  servers: [{host: 127.0.0.1, port: $upstream_port}]
agents:
YAML
}

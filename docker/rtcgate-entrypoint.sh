#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The image's entrypoint under docker compose: writes the mounted config template with the TURN REST secret
# (/run/secrets/turn_secret, shared with coturn) in place of @TURN_SECRET@ to /run/rtcgate/rtcgate.yaml (0600,
# the rtcgate user's), then runs rtcgate on it. Without a template, rtcgate runs on /etc/rtcgate/rtcgate.yaml.
set -eu
template=${RTCGATE_CONFIG_TEMPLATE:-/etc/rtcgate/rtcgate.compose.yaml}
secret_file=${RTCGATE_TURN_SECRET_FILE:-/run/secrets/turn_secret}
config=/etc/rtcgate/rtcgate.yaml
if [ -f "$template" ]; then
  [ -r "$secret_file" ] || { echo "rtcgate-entrypoint: cannot read $secret_file (compose secret turn_secret)" >&2; exit 1; }
  secret=$(tr -d '\r\n' < "$secret_file")
  case $secret in
    *[!A-Za-z0-9._~+/=-]*|'') echo "rtcgate-entrypoint: $secret_file: use letters, digits and ._~+/=- only" >&2; exit 1 ;;
  esac
  umask 077
  config=${RTCGATE_RENDER_DIR:-/run/rtcgate}/rtcgate.yaml
  sed "s|@TURN_SECRET@|$secret|g" "$template" > "$config.new"
  mv "$config.new" "$config"
fi
exec rtcgate --config "$config" "$@"

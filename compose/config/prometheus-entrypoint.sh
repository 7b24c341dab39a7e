#!/bin/sh
# Writes the agent's scrape target (targets/agent.json, file_sd) from the environment, then
# runs Prometheus with the given arguments. prometheus.yml cannot read environment variables,
# and file_sd keeps that file identical in the container and on the host (tests run it so).
#
#   AGENT_ADDRESS  127.0.0.1   where Prometheus reaches the agent (host network: the server)
#   AGENT_PORT     8443
#   AGENT_SCHEME   https       http only for an agent on loopback without TLS
#   FLYPACK        flypack     label for the target (the agent's own flypack label wins)
#   PROMETHEUS_TARGETS_DIR  /etc/prometheus/targets
#   PROMETHEUS_BIN          /bin/prometheus
set -eu

address=${AGENT_ADDRESS:-127.0.0.1}
port=${AGENT_PORT:-8443}
scheme=${AGENT_SCHEME:-https}
flypack=${FLYPACK:-flypack}
dir=${PROMETHEUS_TARGETS_DIR:-/etc/prometheus/targets}
bin=${PROMETHEUS_BIN:-/bin/prometheus}

fail() {
    echo "prometheus-entrypoint: $1 (set it in compose/.env; see compose/README.md)" >&2
    exit 64
}

# Only plain values: they are written into JSON unescaped.
case $address in
    '' | *[!A-Za-z0-9.:_-]*) fail "AGENT_ADDRESS='$address' is not a host name or IP address" ;;
esac
case $address in
    *:*) address="[$address]" ;;   # IPv6 literal
esac
case $port in
    '' | *[!0-9]*) fail "AGENT_PORT='$port' is not a port number" ;;
esac
[ "$port" -ge 1 ] && [ "$port" -le 65535 ] || fail "AGENT_PORT='$port' is not in 1..65535"
case $scheme in
    http | https) ;;
    *) fail "AGENT_SCHEME='$scheme' must be https (or http for a loopback agent without TLS)" ;;
esac
case $flypack in
    '' | *[!A-Za-z0-9._-]*) fail "FLYPACK='$flypack' may hold only letters, digits, '.', '_', '-'" ;;
esac

mkdir -p "$dir"
printf '[{"targets": ["%s:%s"], "labels": {"__scheme__": "%s", "flypack": "%s"}}]\n' \
    "$address" "$port" "$scheme" "$flypack" > "$dir/agent.json.tmp"
mv "$dir/agent.json.tmp" "$dir/agent.json"   # atomic: file_sd never reads half a file

exec "$bin" "$@"

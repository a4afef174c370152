#!/usr/bin/env bash
# Run a command inside a private network namespace made for it: loopback plus a veth pair with 10.77.0.1/24 and a
# default route, so Chromium gathers WebRTC host candidates while no traffic can leave the machine.
# Usage: tools/netns.sh COMMAND [ARGS...]   (needs root; elsewhere it runs the command as it is, with a warning)
set -euo pipefail
if [ "${ASKNOSTR_NETNS:-}" = "1" ]; then
  exec "$@"
fi
if [ "${1:-}" = "--inside" ]; then
  shift
  ip link set lo up
  ip link add v0 type veth peer name v1
  ip addr add 10.77.0.1/24 dev v0
  ip link set v0 up
  ip link set v1 up
  ip route add default dev v0
  export ASKNOSTR_NETNS=1
  exec "$@"
fi
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
  exec unshare -n "$0" --inside "$@"
fi
echo "warning: not root (or no unshare/ip): running without a private network namespace; WebRTC tests skip" >&2
exec "$@"

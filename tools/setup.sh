#!/usr/bin/env bash
# Set-up shared by `make run` and `make test`: venv, npm packages, vendored runtime. Idempotent, and quick when
# nothing changed. With --browser it also makes sure a Chromium is installed (Debian package) for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ] || [ constraints.txt -nt .venv/.installed ]; then
  echo "== installing Python packages"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
  touch .venv/.installed
fi
if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  echo "== installing npm packages (package-lock.json)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi
.venv/bin/python tools/vendor.py

if [ "${1:-}" = "--browser" ]; then
  if ! command -v chromium >/dev/null && [ ! -x /usr/bin/chromium ]; then
    echo "== installing Debian chromium for the browser tests"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  # the tests' simulated internet: a TURN server (coturn's turnserver), the NAT routers' iptables, and the TLS
  # reverse proxy of the public deployment (caddy); the tests run them, not the system's services
  if ! command -v turnserver >/dev/null || ! command -v iptables >/dev/null || ! command -v caddy >/dev/null; then
    echo "== installing Debian coturn, iptables and caddy for the network tests"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq coturn iptables caddy >/dev/null
  fi
  # a fleet of Bridges shares PostgreSQL (the tests start their own server from its programs)
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "== installing Debian postgresql for the fleet tests"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
fi

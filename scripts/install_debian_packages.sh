#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (python-socketio for interop, Chromium for the
# browser test, redis-server for the cluster tests, which start their own instance on a free port,
# redis-tools for redis-cli, which makes a Redis Cluster of three of them; python3-redis and
# python3-kombu with rabbitmq-server for the python-socketio cluster tests, which start their own
# broker on a free port).
# Skips what is installed already, so it is cheap to run every time.
set -euo pipefail

PACKAGES=(python3-socketio python3-aiohttp python3-websocket python3-requests chromium redis-server redis-tools openssl
  python3-redis python3-kombu rabbitmq-server)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  echo "Installing Debian packages: ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

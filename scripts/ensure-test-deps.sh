#!/usr/bin/env bash
# Installs the real servers the tests run against (PostgreSQL, Redis, Chromium, plus openssl) when they are missing.
# Idempotent: on a machine that has them, it only checks.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v openssl >/dev/null 2>&1 || need+=(openssl) # TLS Redis tests make their own certificates
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  echo "test dependencies present: redis-server, redis-cli, openssl, postgresql, chromium"
  exit 0
fi

echo "installing test dependencies: ${need[*]} (apt-get)..."
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to apt-get install ${need[*]}; install them yourself and re-run" >&2; exit 1; }
  sudo_cmd="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"

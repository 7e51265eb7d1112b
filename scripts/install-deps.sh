#!/usr/bin/env bash
# Installs the Debian packages sessiond needs to build, test and benchmark, if any are missing.
set -euo pipefail
packages=(redis-server redis-tools libhiredis-dev pkg-config openssl wrk curl python3 docker-compose)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Installs the Debian packages sessiond needs to build, test and benchmark, if any are missing.
set -euo pipefail
packages=(redis-server redis-tools libhiredis-dev pkg-config openssl wrk curl python3 docker-compose nginx)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
# Packages must not start their services (nginx would listen on port 80 of every interface): the
# tests start what they need on 127.0.0.1 themselves.
policy=/usr/sbin/policy-rc.d
added_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && added_policy=true
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
if $added_policy; then $sudo rm -f "$policy"; fi

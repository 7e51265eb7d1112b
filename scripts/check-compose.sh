#!/usr/bin/env bash
# Validates docker-compose.yml (no Docker engine runs here): Debian's docker-compose parses and
# checks it with a throwaway keys file and dummy keys.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker-compose >/dev/null || { echo "docker-compose is not installed (apt-get install docker-compose)" >&2; exit 1; }
created=0
if [ ! -f deploy/api-keys ]; then cp deploy/api-keys.example deploy/api-keys; created=1; fi
LOGIN_API_KEY=check ORDERS_API_KEY=check docker-compose -f docker-compose.yml config -q
status=$?
[ $created -eq 1 ] && rm -f deploy/api-keys
[ $status -eq 0 ] && echo "docker-compose.yml: valid"
exit $status

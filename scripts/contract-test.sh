#!/usr/bin/env bash
# Contract test: schemathesis (from PyPI, pinned) generates requests from docs/openapi.json as served
# by a running sessiond and checks every response against the document (status codes, bodies,
# headers, 405 for undeclared methods, no 5xx). Fixed seed, so a run is repeatable.
# Called by scripts/test.sh with Redis on $REDIS_URL (default redis://127.0.0.1:6399).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check "schemathesis==4.32.5" 2>&1 | grep -v "Running pip as the 'root' user" || true
swift build --product sessiond >/dev/null
mkdir -p .run/contract
key="contract-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
echo "contract sessions:read,sessions:create,sessions:write,sessions:admin $key" > .run/contract/keys
.build/debug/sessiond --listen 127.0.0.1:8096 --redis-url "${REDIS_URL:-redis://127.0.0.1:6399}" \
  --api-keys-file .run/contract/keys --key-prefix contract: > .run/contract/sessiond.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8096/readyz >/dev/null && break; sleep 0.1; done
python3 -m schemathesis.cli run http://127.0.0.1:8096/openapi.json -H "Authorization: Bearer $key" \
  --checks all --max-examples 100 --workers 2 --seed 59853836729701813668379139890606886682 --no-color

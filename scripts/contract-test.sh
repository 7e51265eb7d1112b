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
echo "contract sessions:read,sessions:create,sessions:write,sessions:admin,tokens:issue,tokens:introspect $key" > .run/contract/keys
# Token routes on too, so that their contract is exercised.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out .run/contract/signing.pem 2>/dev/null
chmod 600 .run/contract/signing.pem .run/contract/keys
echo "contract-k1 ES256 2026-01-01T00:00:00Z - signing.pem" > .run/contract/signing-keys
.build/debug/sessiond --listen 127.0.0.1:8096 --redis-url "${REDIS_URL:-redis://127.0.0.1:6399}" \
  --api-keys-file .run/contract/keys --key-prefix contract: --signing-keys-file .run/contract/signing-keys \
  --token-issuer http://sessiond.contract --token-audiences orders > .run/contract/sessiond.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8096/readyz >/dev/null && break; sleep 0.1; done
python3 -m schemathesis.cli --config-file scripts/schemathesis.toml run http://127.0.0.1:8096/openapi.json -H "Authorization: Bearer $key" \
  --checks all --max-examples 100 --workers 2 --seed 59853836729701813668379139890606886682 --no-color

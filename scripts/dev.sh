#!/usr/bin/env bash
# The run command: installs what is missing, starts Redis on 127.0.0.1:6379 if none answers there,
# builds, writes development API keys (.run/dev-api-keys) and runs, until Ctrl-C:
#   sessiond            http://127.0.0.1:8080
#   example login       http://127.0.0.1:8081   (demo users alice/wonderland, bob/builder)
#   example orders      http://127.0.0.1:8082   (greets the signed-in user)
#   nginx gateway       http://127.0.0.1:8090   (/login, /orders: the cookie becomes a JWT; deploy/nginx)
# Access tokens are on with a development signing key (.run/dev-signing/, generated once).
# Override sessiond settings with SESSIOND_* variables (see `.build/debug/sessiond --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
redis_port=${REDIS_PORT:-6379}
if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
  scripts/redis.sh start "$redis_port"
fi
swift build --product sessiond
swift build --product sessionctl
swift build --product example-login
swift build --product example-orders
mkdir -p .run
keys=.run/dev-api-keys
secret() { echo "$1-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"; }
# Regenerated when missing or from before sessions:create (v1 keys were shorter than sessiond now accepts).
if [ ! -s "$keys" ] || ! grep -q "tokens:issue" "$keys"; then
  {
    echo "# NAME SCOPES SECRET (development keys; see README)"
    echo "dev sessions:read,sessions:create,sessions:write,sessions:admin,tokens:issue,tokens:introspect $(secret dev)"
    echo "login sessions:read,sessions:create,sessions:write $(secret login)"
    echo "orders sessions:read,tokens:introspect $(secret orders)"
    echo "gateway tokens:issue $(secret gateway)"
  } > "$keys"
  chmod 600 "$keys"
fi
key() { awk -v name="$1" '$1 == name { print $3 }' "$keys"; }
export SESSIOND_API_KEYS_FILE=${SESSIOND_API_KEYS_FILE:-$keys}
# A development signing key, generated once (production: see docs/tokens.md for rotation).
signing=.run/dev-signing
if [ ! -s "$signing/signing-keys" ]; then
  mkdir -p "$signing" && chmod 700 "$signing"
  .build/debug/sessionctl keys generate --kid "dev-$(date -u +%Y%m%d%H%M%S)" --sign-from 2026-01-01T00:00:00Z \
    --directory "$signing" > "$signing/signing-keys"
fi
export SESSIOND_SIGNING_KEYS_FILE=${SESSIOND_SIGNING_KEYS_FILE:-$signing/signing-keys}
export SESSIOND_TOKEN_ISSUER=${SESSIOND_TOKEN_ISSUER:-http://127.0.0.1:8080}
export SESSIOND_TOKEN_AUDIENCES=${SESSIOND_TOKEN_AUDIENCES:-orders}
export SESSIOND_TOKEN_CLAIMS=${SESSIOND_TOKEN_CLAIMS:-name}
export SESSIOND_REDIS_URL=${SESSIOND_REDIS_URL:-redis://127.0.0.1:$redis_port}
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.build/debug/sessiond "$@" & pids+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8080/healthz >/dev/null && break; sleep 0.1; done
# The login service authenticates with OAuth client credentials, orders with its static key.
SESSIOND_URL=http://127.0.0.1:8080 LOGIN_CLIENT_ID=login LOGIN_CLIENT_SECRET=$(key login) .build/debug/example-login & pids+=($!)
SESSIOND_URL=http://127.0.0.1:8080 SESSIOND_API_KEY=$(key orders) TOKEN_ISSUER=$SESSIOND_TOKEN_ISSUER \
  .build/debug/example-orders & pids+=($!)
# The gateway: deploy/nginx/gateway.conf rendered for loopback.
gateway=$(pwd)/.run/dev-gateway
mkdir -p "$gateway"
echo "proxy_set_header Authorization \"Bearer $(key gateway)\";" > "$gateway/gateway-key.conf"
chmod 600 "$gateway/gateway-key.conf"
sed -e "s|@LISTEN@|127.0.0.1:8090|; s|@RUN@|$gateway|g; s|@SESSIOND@|127.0.0.1:8080|; s|@ORDERS@|127.0.0.1:8082|" \
  -e "s|@LOGIN@|127.0.0.1:8081|; s|@GATEWAY_KEY@|$gateway/gateway-key.conf|" deploy/nginx/gateway.conf > "$gateway/nginx.conf"
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$gateway" -c "$gateway/nginx.conf" -g 'daemon off;' & pids+=($!)
cat <<MSG

sessiond on http://127.0.0.1:8080, login on :8081, orders on :8082, the nginx gateway on :8090 (Ctrl-C stops all).
Development API key with all scopes (for curl and sessionctl):
  export SESSIOND_API_KEY=$(key dev) SESSIONCTL_API_KEY=$(key dev)

MSG
wait

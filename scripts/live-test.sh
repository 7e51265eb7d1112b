#!/usr/bin/env bash
# Live tests: starts the debug sessiond on 127.0.0.1:8097 (and a router-only twin on :8098) against the Redis at $REDIS_URL
# (default redis://127.0.0.1:6399) and runs Tests/live/test_live.py against the process.
# Called by scripts/test.sh after `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product sessiond >/dev/null
# An independent JOSE implementation to check sessiond's tokens against (pinned).
python3 -m pip install -q --disable-pip-version-check "PyJWT[crypto]==2.10.1" "authlib==1.6.5" "requests>=2.31" 2>&1 | grep -v "Running pip as the 'root' user" || true
mkdir -p .run/live
key="live-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
writer_key="writer-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
gateway_key="gateway-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
reader_secret="rd:%2B+$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
{
  echo "live sessions:read,sessions:create,sessions:write,sessions:admin,tokens:issue,tokens:introspect $key"
  echo "writer sessions:read,sessions:write $writer_key   # no sessions:create: a create is 403"
  echo "gateway tokens:issue $gateway_key"
  echo "reader sessions:read $reader_secret   # an OAuth client whose secret has : % +"
} > .run/live/keys
chmod 600 .run/live/keys
# Signing keys: key A now; the token tests rotate to B by rewriting this file and sending SIGHUP.
rm -rf .run/live/signing && mkdir -p .run/live/signing && chmod 700 .run/live/signing
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out .run/live/signing/live-a.pem 2>/dev/null
openssl genpkey -algorithm ed25519 -out .run/live/signing/live-b.pem 2>/dev/null
chmod 600 .run/live/signing/*.pem
echo "live-a ES256 2026-01-01T00:00:00Z - live-a.pem" > .run/live/signing/keys
issuer=http://sessiond.live
tokens=(--signing-keys-file .run/live/signing/keys --token-issuer $issuer --token-audiences orders,billing --token-claims name --jwks-max-age 2)
log=.run/live/sessiond.log
.build/debug/sessiond --listen 127.0.0.1:8097 --redis-url "${REDIS_URL:-redis://127.0.0.1:6399}" \
  --api-keys-file .run/live/keys --key-prefix live: --request-read-timeout 2 --idle-connection-timeout 3 "${tokens[@]}" > "$log" 2>&1 &
pid=$!
# The same service answering everything through the router, for the fast-path parity test; it
# trusts X-Forwarded-For from loopback, as a replica behind a load balancer would from the LB.
.build/debug/sessiond --listen 127.0.0.1:8098 --redis-url "${REDIS_URL:-redis://127.0.0.1:6399}" \
  --api-keys-file .run/live/keys --key-prefix live: --fast-path false --trusted-proxies 127.0.0.1,::1 "${tokens[@]}" \
  > .run/live/sessiond-router.log 2>&1 &
router_pid=$!
# Both again over a Redis that is not there (nothing listens on port 1): 503 parity.
.build/debug/sessiond --listen 127.0.0.1:8099 --redis-url redis://127.0.0.1:1 \
  --api-keys-file .run/live/keys > .run/live/sessiond-down.log 2>&1 &
down_pid=$!
.build/debug/sessiond --listen 127.0.0.1:8100 --redis-url redis://127.0.0.1:1 \
  --api-keys-file .run/live/keys --fast-path false "${tokens[@]}" > .run/live/sessiond-down-router.log 2>&1 &
down_router_pid=$!
# sessiond over the loopback cluster (CLUSTER_URL; test.sh starts it with scripts/redis-lab.sh).
cluster_url=${CLUSTER_URL:?CLUSTER_URL is not set: start scripts/redis-lab.sh cluster start, or run scripts/test.sh}
.build/debug/sessiond --listen 127.0.0.1:8102 --redis-url "$cluster_url" --api-keys-file .run/live/keys \
  > .run/live/sessiond-cluster.log 2>&1 &
cluster_pid=$!
sentinel_url=${SENTINEL_URL:?SENTINEL_URL is not set: start scripts/redis-lab.sh sentinel start, or run scripts/test.sh}
.build/debug/sessiond --listen 127.0.0.1:8103 --redis-url "$sentinel_url" --api-keys-file .run/live/keys \
  > .run/live/sessiond-sentinel.log 2>&1 &
sentinel_pid=$!
# The example services, against the live sessiond, and a login service whose sessiond has no Redis.
swift build --product example-login --product example-orders >/dev/null
# login uses OAuth client credentials (the key's name and secret), orders the static key: both paths stay exercised.
SESSIOND_URL=http://127.0.0.1:8097 LOGIN_CLIENT_ID=live LOGIN_CLIENT_SECRET=$key LOGIN_LISTEN=127.0.0.1:8181 \
  .build/debug/example-login > .run/live/login.log 2>&1 &
login_pid=$!
SESSIOND_URL=http://127.0.0.1:8097 SESSIOND_API_KEY=$key ORDERS_LISTEN=127.0.0.1:8182 TOKEN_ISSUER=$issuer \
  .build/debug/example-orders > .run/live/orders.log 2>&1 &
orders_pid=$!
SESSIOND_URL=http://127.0.0.1:8099 SESSIOND_API_KEY=$key LOGIN_LISTEN=127.0.0.1:8183 \
  .build/debug/example-login > .run/live/login-down.log 2>&1 &
login_down_pid=$!
# nginx (Debian's) as the gateway in front of the examples: deploy/nginx/gateway.conf rendered for loopback.
mkdir -p .run/live/nginx
echo "proxy_set_header Authorization \"Bearer $gateway_key\";" > .run/live/nginx/gateway-key.conf
chmod 600 .run/live/nginx/gateway-key.conf
run_dir=$(pwd)/.run/live/nginx
sed -e "s|@LISTEN@|127.0.0.1:8190|; s|@RUN@|$run_dir|g; s|@SESSIOND@|127.0.0.1:8097|; s|@ORDERS@|127.0.0.1:8182|" \
  -e "s|@LOGIN@|127.0.0.1:8181|; s|@GATEWAY_KEY@|$run_dir/gateway-key.conf|" deploy/nginx/gateway.conf > .run/live/nginx/nginx.conf
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx_bin" -p "$run_dir" -c "$run_dir/nginx.conf" -g 'daemon off;' > .run/live/nginx/stdout.log 2>&1 &
nginx_pid=$!
trap 'kill $pid $router_pid $down_pid $down_router_pid $login_pid $orders_pid $login_down_pid $cluster_pid $sentinel_pid $nginx_pid 2>/dev/null || true' EXIT
for port in 8181 8182 8183 8190; do
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
done
for port in 8099 8100; do
  for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:$port/healthz && break; sleep 0.1; done
done
for port in 8097 8098 8102 8103; do
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
done
# The token tests first: the last of test_live.py stops the sessiond on 8097.
SESSIOND_PORT=8097 REPLICA_PORT=8098 SESSIOND_PID=$pid REPLICA_PID=$router_pid API_KEY=$key GATEWAY_KEY=$gateway_key \
  NO_TOKENS_PORT=8099 DOWN_PORT=8100 GATEWAY_PORT=8190 ORDERS_PORT=8182 ISSUER=$issuer SIGNING_DIR=.run/live/signing \
  LOGS=".run/live/sessiond.log .run/live/sessiond-router.log .run/live/sessiond-down-router.log .run/live/nginx/access.log .run/live/orders.log" \
  REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6399}" python3 Tests/live/test_tokens.py
SESSIOND_PORT=8097 REPLICA_PORT=8098 SESSIOND_PID=$pid REPLICA_PID=$router_pid API_KEY=$key READER_SECRET=$reader_secret \
  KEYS_FILE=.run/live/keys DOWN_PORT=8100 LOGIN_PORT=8181 REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6399}" \
  LOGS=".run/live/sessiond.log .run/live/sessiond-router.log .run/live/login.log .run/live/orders.log" \
  python3 Tests/live/test_oauth.py
SESSIOND_PORT=8097 ROUTER_PORT=8098 SESSIOND_PID=$pid ROUTER_PID=$router_pid API_KEY=$key WRITER_KEY=$writer_key \
  SESSIOND_LOG=$log ROUTER_LOG=.run/live/sessiond-router.log KEYS_FILE=.run/live/keys DOWN_PORT=8099 DOWN_ROUTER_PORT=8100 \
  LOGIN_PORT=8181 ORDERS_PORT=8182 LOGIN_DOWN_PORT=8183 CLUSTER_PORT=8102 SENTINEL_PORT=8103 READ_TIMEOUT=2 IDLE_TIMEOUT=3 \
  python3 Tests/live/test_live.py

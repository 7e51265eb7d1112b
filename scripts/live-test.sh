#!/usr/bin/env bash
# Live tests: starts the debug sessiond on 127.0.0.1:8097 (and a router-only twin on :8098) against the Redis at $REDIS_URL
# (default redis://127.0.0.1:6399) and runs Tests/live/test_live.py against the process.
# Called by scripts/test.sh after `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product sessiond >/dev/null
mkdir -p .run/live
key="live-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
writer_key="writer-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
{
  echo "live sessions:read,sessions:create,sessions:write,sessions:admin $key"
  echo "writer sessions:read,sessions:write $writer_key   # no sessions:create: a create is 403"
} > .run/live/keys
chmod 600 .run/live/keys
log=.run/live/sessiond.log
.build/debug/sessiond --listen 127.0.0.1:8097 --redis-url "${REDIS_URL:-redis://127.0.0.1:6399}" \
  --api-keys-file .run/live/keys --key-prefix live: --request-read-timeout 2 --idle-connection-timeout 3 > "$log" 2>&1 &
pid=$!
# The same service answering everything through the router, for the fast-path parity test.
.build/debug/sessiond --listen 127.0.0.1:8098 --redis-url "${REDIS_URL:-redis://127.0.0.1:6399}" \
  --api-keys-file .run/live/keys --key-prefix live: --fast-path false > .run/live/sessiond-router.log 2>&1 &
router_pid=$!
# Both again over a Redis that is not there (nothing listens on port 1): 503 parity.
.build/debug/sessiond --listen 127.0.0.1:8099 --redis-url redis://127.0.0.1:1 \
  --api-keys-file .run/live/keys > .run/live/sessiond-down.log 2>&1 &
down_pid=$!
.build/debug/sessiond --listen 127.0.0.1:8100 --redis-url redis://127.0.0.1:1 \
  --api-keys-file .run/live/keys --fast-path false > .run/live/sessiond-down-router.log 2>&1 &
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
SESSIOND_URL=http://127.0.0.1:8097 SESSIOND_API_KEY=$key LOGIN_LISTEN=127.0.0.1:8181 \
  .build/debug/example-login > .run/live/login.log 2>&1 &
login_pid=$!
SESSIOND_URL=http://127.0.0.1:8097 SESSIOND_API_KEY=$key ORDERS_LISTEN=127.0.0.1:8182 \
  .build/debug/example-orders > .run/live/orders.log 2>&1 &
orders_pid=$!
SESSIOND_URL=http://127.0.0.1:8099 SESSIOND_API_KEY=$key LOGIN_LISTEN=127.0.0.1:8183 \
  .build/debug/example-login > .run/live/login-down.log 2>&1 &
login_down_pid=$!
trap 'kill $pid $router_pid $down_pid $down_router_pid $login_pid $orders_pid $login_down_pid $cluster_pid $sentinel_pid 2>/dev/null || true' EXIT
for port in 8181 8182 8183; do
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
done
for port in 8099 8100; do
  for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:$port/healthz && break; sleep 0.1; done
done
for port in 8097 8098 8102 8103; do
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
done
SESSIOND_PORT=8097 ROUTER_PORT=8098 SESSIOND_PID=$pid ROUTER_PID=$router_pid API_KEY=$key WRITER_KEY=$writer_key \
  SESSIOND_LOG=$log ROUTER_LOG=.run/live/sessiond-router.log KEYS_FILE=.run/live/keys DOWN_PORT=8099 DOWN_ROUTER_PORT=8100 \
  LOGIN_PORT=8181 ORDERS_PORT=8182 LOGIN_DOWN_PORT=8183 CLUSTER_PORT=8102 SENTINEL_PORT=8103 READ_TIMEOUT=2 IDLE_TIMEOUT=3 \
  python3 Tests/live/test_live.py

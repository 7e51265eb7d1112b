#!/usr/bin/env bash
# sessiond benchmark, all in one run on this machine: wrk against GET /v1/session, GET /healthz and
# POST /v1/sessions, redis-benchmark GET, purge timing, Redis memory per session, and resolve with
# 1,000 vs 1,000,000 sessions stored, a large PATCH. Release build, default settings (log level info);
# Redis on 127.0.0.1:6400; sessiond on :8090 (a --fast-path false twin on :8093, a log-level warning
# twin on :8094, side by side).
# Also SessionClient (one process, 50 tasks) vs wrk, and the near-cache hit cost.
# Takes about 10 minutes. ROUNDS (default 3) and DURATION (default 8s) tune it; QUICK=1 stops after
# the throughput part.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product sessiond >/dev/null
swift build -c release --scratch-path .build-release --product ClientBenchmark >/dev/null
scripts/redis.sh start 6400 >/dev/null
scripts/redis.sh start 6401 >/dev/null
mkdir -p .run/bench
key="bench-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
echo "bench sessions:read,sessions:create,sessions:write,sessions:admin $key" > .run/bench/keys
chmod 600 .run/bench/keys
# Every sessiond runs with the defaults users run (log level info: one access line per request),
# its log written to a file as stderr would be.
.build-release/release/sessiond --listen 127.0.0.1:8090 \
  --redis-url redis://127.0.0.1:6400 --api-keys-file .run/bench/keys --max-sessions-per-user 2000 \
  > .run/bench/sessiond.log 2>&1 &
pid=$!
# The same service with the fast path off (everything through the router), for side-by-side rows.
.build-release/release/sessiond --listen 127.0.0.1:8093 \
  --redis-url redis://127.0.0.1:6400 --api-keys-file .run/bench/keys --max-sessions-per-user 2000 --fast-path false \
  > .run/bench/sessiond-router.log 2>&1 &
pid_router=$!
# The same service at log level warning (no access log), for the side-by-side cost of the access log.
SESSIOND_LOG_LEVEL=warning .build-release/release/sessiond --listen 127.0.0.1:8094 \
  --redis-url redis://127.0.0.1:6400 --api-keys-file .run/bench/keys --max-sessions-per-user 2000 \
  > .run/bench/sessiond-quiet.log 2>&1 &
pid_quiet=$!
# A second sessiond over a second Redis holds the 1,000,000-session data set.
.build-release/release/sessiond --listen 127.0.0.1:8092 \
  --redis-url redis://127.0.0.1:6401 --api-keys-file .run/bench/keys > .run/bench/sessiond-large.log 2>&1 &
pid_large=$!
trap 'kill $pid $pid_large $pid_router $pid_quiet 2>/dev/null; wait $pid $pid_large $pid_router $pid_quiet 2>/dev/null; scripts/redis.sh stop 6400; scripts/redis.sh stop 6401' EXIT
for port in 8090 8092 8093 8094; do
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
done
CLIENT_BENCH=.build-release/release/ClientBenchmark API_KEY=$key SESSIOND_PORT=8090 REDIS_PORT=6400 \
  SESSIOND_PORT_LARGE=8092 REDIS_PORT_LARGE=6401 SESSIOND_PORT_ROUTER=8093 SESSIOND_PORT_QUIET=8094 \
  SESSIOND_PID=$pid SESSIOND_PID_ROUTER=$pid_router SESSIOND_PID_QUIET=$pid_quiet WORK_DIR=.run/bench python3 Benchmarks/service/service_bench.py

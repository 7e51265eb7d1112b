#!/usr/bin/env bash
# Access-token benchmark, all in one run: resolve vs the session → token exchange (ES256, EdDSA) and
# forward-auth, resolve against the previous release side by side, and TokenVerifier's cached and
# uncached check. Release builds, default settings (log level info); Redis on 127.0.0.1:6402;
# sessiond on :8120 (ES256), :8121 (EdDSA) and, when BASE_SESSIOND names a sessiond binary built from
# an earlier commit, :8122 (e.g. git worktree add ../base v0.2 && (cd ../base && swift build -c release));
# BASE_LABEL names it in the report (e.g. "v0.2").
# ROUNDS (default 3) and DURATION (default 8s) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product sessiond >/dev/null
swift build -c release --scratch-path .build-release --product TokenBenchmark >/dev/null
scripts/redis.sh start 6402 >/dev/null
mkdir -p .run/bench-tokens && chmod 700 .run/bench-tokens
key="bench-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
echo "bench sessions:read,sessions:create,sessions:write,sessions:admin,tokens:issue,tokens:introspect $key" > .run/bench-tokens/keys
chmod 600 .run/bench-tokens/keys
rm -f .run/bench-tokens/*.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out .run/bench-tokens/es.pem 2>/dev/null
openssl genpkey -algorithm ed25519 -out .run/bench-tokens/ed.pem 2>/dev/null
chmod 600 .run/bench-tokens/*.pem
echo "bench-es ES256 2026-01-01T00:00:00Z - es.pem" > .run/bench-tokens/es-keys
echo "bench-ed EdDSA 2026-01-01T00:00:00Z - ed.pem" > .run/bench-tokens/ed-keys
common=(--redis-url redis://127.0.0.1:6402 --api-keys-file .run/bench-tokens/keys --max-sessions-per-user 2000
  --token-issuer https://sessiond.bench --token-audiences orders)
.build-release/release/sessiond --listen 127.0.0.1:8120 "${common[@]}" --signing-keys-file .run/bench-tokens/es-keys \
  > .run/bench-tokens/sessiond-es.log 2>&1 &
pids=($!)
.build-release/release/sessiond --listen 127.0.0.1:8121 "${common[@]}" --signing-keys-file .run/bench-tokens/ed-keys \
  > .run/bench-tokens/sessiond-ed.log 2>&1 &
pids+=($!)
ports=(8120 8121)
base_env=()
if [ -n "${BASE_SESSIOND:-}" ]; then
  # An earlier sessiond knows no tokens:* scope: the same key without them.
  echo "bench sessions:read,sessions:create,sessions:write,sessions:admin $key" > .run/bench-tokens/base-keys
  chmod 600 .run/bench-tokens/base-keys
  "$BASE_SESSIOND" --listen 127.0.0.1:8122 --redis-url redis://127.0.0.1:6402 --api-keys-file .run/bench-tokens/base-keys \
    --max-sessions-per-user 2000 > .run/bench-tokens/sessiond-base.log 2>&1 &
  pids+=($!)
  ports+=(8122)
  base_env=(SESSIOND_PORT_BASE=8122 SESSIOND_PID_BASE=${pids[2]})
fi
trap 'kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; scripts/redis.sh stop 6402' EXIT
for port in "${ports[@]}"; do
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
done
env "${base_env[@]}" TOKEN_BENCH=.build-release/release/TokenBenchmark API_KEY=$key SESSIOND_PORT=8120 SESSIOND_PORT_EDDSA=8121 \
  SESSIOND_PID=${pids[0]} SESSIOND_PID_EDDSA=${pids[1]} REDIS_PORT=6402 WORK_DIR=.run/bench-tokens python3 Benchmarks/service/token_bench.py

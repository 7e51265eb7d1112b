#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway Redis on 127.0.0.1:6399 and a loopback
# Redis Cluster (scripts/redis-lab.sh), runs every test (unit, integration against the real Redis,
# the session store's suites again against the cluster, live tests against a running sessiond, the
# docker-compose file check) and stops what it started.
# Integration tests need Redis and fail (never skip) when it is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v swift >/dev/null || { echo "swift is not on PATH (Swift 6.2+ required)" >&2; exit 1; }
scripts/redis.sh start 6399
scripts/redis-lab.sh cluster start
trap 'scripts/redis.sh stop 6399; scripts/redis-lab.sh cluster stop' EXIT
export SESSIOND_TEST_REDIS_URL=redis://127.0.0.1:6399
export SESSIOND_TEST_CLUSTER_URL=redis+cluster://127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102
swift build --build-tests
swift test --skip-build "$@"
# The session store's suites once more, over the cluster.
SESSIOND_TEST_REDIS_URL=$SESSIOND_TEST_CLUSTER_URL swift test --skip-build --filter 'RedisSessionRepositoryTests|KeyLifetimeTests'
REDIS_URL=$SESSIOND_TEST_REDIS_URL CLUSTER_URL=$SESSIOND_TEST_CLUSTER_URL scripts/live-test.sh
REDIS_URL=$SESSIOND_TEST_REDIS_URL scripts/contract-test.sh
scripts/check-compose.sh

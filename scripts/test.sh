#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway Redis on 127.0.0.1:6399, a loopback
# Redis Cluster and a Sentinel set-up (scripts/redis-lab.sh), runs every test (unit, integration
# against the real Redis, the session store's suites again over the cluster and over Sentinel, live
# tests against running sessiond processes, the fast failover drills, the docker-compose file check)
# and stops what it started.
# Integration tests need Redis and fail (never skip) when it is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v swift >/dev/null || { echo "swift is not on PATH (Swift 6.2+ required)" >&2; exit 1; }
scripts/redis.sh start 6399
scripts/redis-lab.sh cluster start
scripts/redis-lab.sh sentinel start
trap 'scripts/redis.sh stop 6399; scripts/redis-lab.sh cluster stop; scripts/redis-lab.sh sentinel stop' EXIT
export SESSIOND_TEST_REDIS_URL=redis://127.0.0.1:6399
export SESSIOND_TEST_CLUSTER_URL=redis+cluster://127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102
export SESSIOND_TEST_SENTINEL_URL=redis+sentinel://127.0.0.1:26480,127.0.0.1:26481,127.0.0.1:26482/sessiond
swift build --build-tests
if [ "$#" -gt 0 ]; then
  swift test --skip-build "$@"
else
  # Suites that bound waits by the wall clock (timeouts, failover budgets, idle deadlines that a
  # resolve must slide in time) run on their own, one test at a time: in the parallel run 240 tests
  # share 2 cores and a task can start seconds late, which says nothing about the code under test.
  TIMED='\.(ClientHardeningTests|SessionClientTests|RedisClientIntegrationTests|ClusterRoutingTests|DurableLogoutTests|RedisOutageTests|RedisSessionRepositoryTests|RevocationCacheTests)/'
  swift test --skip-build --skip "$TIMED"
  swift test --skip-build --no-parallel --filter "$TIMED"
fi
# The session store's suites (sessions, OAuth counters, the revocation cache over pub/sub) once
# more over the cluster, and once more over Sentinel.
SESSIOND_TEST_REDIS_URL=$SESSIOND_TEST_CLUSTER_URL swift test --skip-build --filter 'RedisSessionRepositoryTests|KeyLifetimeTests|RedisOAuthStateStoreTests|RevocationCacheTests'
SESSIOND_TEST_REDIS_URL=$SESSIOND_TEST_SENTINEL_URL swift test --skip-build --filter 'RedisSessionRepositoryTests|KeyLifetimeTests|RedisOAuthStateStoreTests|RevocationCacheTests'
REDIS_URL=$SESSIOND_TEST_REDIS_URL CLUSTER_URL=$SESSIOND_TEST_CLUSTER_URL SENTINEL_URL=$SESSIOND_TEST_SENTINEL_URL scripts/live-test.sh
REDIS_URL=$SESSIOND_TEST_REDIS_URL scripts/contract-test.sh
# Failover drills under load (they start labs of their own, so the test labs stop first).
scripts/redis-lab.sh cluster stop; scripts/redis-lab.sh sentinel stop
scripts/drills.sh ci
scripts/check-compose.sh

#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway Redis on 127.0.0.1:6399,
# runs every test (unit, integration against the real Redis, live tests against a running sessiond,
# the docker-compose file check) and stops what it started.
# Integration tests need Redis and fail (never skip) when it is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v swift >/dev/null || { echo "swift is not on PATH (Swift 6.2+ required)" >&2; exit 1; }
scripts/redis.sh start 6399
trap 'scripts/redis.sh stop 6399' EXIT
export SESSIOND_TEST_REDIS_URL=redis://127.0.0.1:6399
swift build --build-tests
swift test --skip-build "$@"
REDIS_URL=$SESSIOND_TEST_REDIS_URL scripts/live-test.sh
REDIS_URL=$SESSIOND_TEST_REDIS_URL scripts/contract-test.sh
scripts/check-compose.sh

#!/usr/bin/env bash
# The run command: installs what is missing, starts Redis on 127.0.0.1:6379 if none answers there,
# builds sessiond, writes a development API key (printed below) and runs sessiond on 127.0.0.1:8080
# in the foreground. Ctrl-C stops it. Override with SESSIOND_* variables (see `sessiond --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
redis_port=${REDIS_PORT:-6379}
if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
  scripts/redis.sh start "$redis_port"
fi
swift build --product sessiond
mkdir -p .run
keys=.run/dev-api-keys
if [ ! -s "$keys" ]; then
  secret="dev-$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  printf '# name scopes secret\ndev sessions:read,sessions:write,sessions:admin %s\n' "$secret" > "$keys"
  chmod 600 "$keys"
fi
secret=$(awk '$1 == "dev" { print $3 }' "$keys")
echo "sessiond: development API key (all scopes): $secret"
echo "  export SESSIOND_API_KEY=$secret"
export SESSIOND_API_KEYS_FILE=${SESSIOND_API_KEYS_FILE:-$keys}
export SESSIOND_REDIS_URL=${SESSIOND_REDIS_URL:-redis://127.0.0.1:$redis_port}
exec .build/debug/sessiond "$@"

#!/usr/bin/env bash
# Start or stop a throwaway redis-server on 127.0.0.1 for development and tests.
#   scripts/redis.sh start [PORT]   (default 6399) — no persistence, daemonized, state under .run/
#   scripts/redis.sh stop  [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-start}
port=${2:-6399}
dir=".run/redis-$port"
case "$action" in
  start)
    command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
    if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
      echo "redis already answering on 127.0.0.1:$port"; exit 0
    fi
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --dir "$PWD/$dir" --pidfile "$PWD/$dir/redis.pid" --logfile "$PWD/$dir/redis.log"
    for _ in $(seq 1 50); do
      redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && { echo "redis started on 127.0.0.1:$port"; exit 0; }
      sleep 0.1
    done
    echo "redis did not start on 127.0.0.1:$port; see $dir/redis.log" >&2; exit 1 ;;
  stop)
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop [PORT]" >&2; exit 2 ;;
esac

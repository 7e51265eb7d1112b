#!/usr/bin/env bash
# A Redis Cluster and a Sentinel set-up on loopback, for tests, drills and benchmarks.
#   scripts/redis-lab.sh cluster start|stop    6 nodes on 127.0.0.1:7100-7105: 3 primaries, 3 replicas,
#                                              cluster-node-timeout 1000 ms, full coverage not required
#   scripts/redis-lab.sh sentinel start|stop   primary 127.0.0.1:6480, replicas :6481 :6482,
#                                              sentinels :26480-26482 watching master "sessiond"
# `start` returns when every node agrees on the topology and every replication link is up; `stop`
# kills what `start` started, by pid. State lives under .run/lab/.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:?usage: $0 cluster|sentinel start|stop}
action=${2:?usage: $0 cluster|sentinel start|stop}
lab=.run/lab/$what
command -v redis-server >/dev/null || { echo "redis-server is not installed (scripts/install-deps.sh)" >&2; exit 1; }

wait_for() { # description, command…: retries for 20 s
  local description=$1; shift
  for _ in $(seq 1 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "redis-lab: timed out waiting for $description" >&2; return 1
}

node() { # port dir extra-args…
  local port=$1 dir=$2; shift 2
  mkdir -p "$dir"
  # repl-diskless-sync-delay 0: a new primary starts a replica's sync at once instead of waiting 5 s for
  # more replicas (Redis 7's default); with min-replicas-to-write that wait would block writes after a failover.
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --repl-diskless-sync-delay 0 \
    --dir "$PWD/$dir" --pidfile "$PWD/$dir/redis.pid" --logfile "$PWD/$dir/redis.log" \
    --enable-debug-command local "$@"
  wait_for "redis on $port" redis-cli -p "$port" ping
}

stop_all() {
  [ -d "$lab" ] || return 0
  for pidfile in "$lab"/*/redis.pid "$lab"/*/sentinel.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -CONT "$pid" 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$lab"
}

cluster_agrees() { # every node: state ok, 3 shards each with one online primary holding slots and one online replica
  for port in 7100 7101 7102 7103 7104 7105; do
    redis-cli -p $port cluster info | grep -q 'cluster_state:ok' || return 1
    [ "$(redis-cli -p $port cluster shards | grep -c '^slots$' || true)" -ge 3 ] || return 1
    # Every node of every shard healthy (replicas report "loading" until their first sync is done).
    [ "$(redis-cli -p $port cluster shards | grep -c '^online$' || true)" -eq 6 ] || return 1
    online_primaries=$(redis-cli -p $port cluster nodes | grep -v fail | grep -c master || true)
    [ "$online_primaries" -eq 3 ] || return 1
    [ "$(redis-cli -p $port cluster nodes | grep -c 'slave' || true)" -eq 3 ] || return 1
  done
  for port in 7100 7101 7102 7103 7104 7105; do
    if redis-cli -p $port info replication | grep -q 'role:slave'; then
      redis-cli -p $port info replication | grep -q 'master_link_status:up' || return 1
    fi
  done
}

sentinel_agrees() {
  for port in 26480 26481 26482; do
    [ "$(redis-cli -p $port sentinel get-master-addr-by-name sessiond | head -1)" = "127.0.0.1" ] || return 1
    redis-cli -p $port sentinel master sessiond | grep -A1 '^num-other-sentinels$' | tail -1 | grep -q '^2$' || return 1
    redis-cli -p $port sentinel master sessiond | grep -A1 '^num-slaves$' | tail -1 | grep -q '^2$' || return 1
  done
  for port in 6481 6482; do redis-cli -p $port info replication | grep -q 'master_link_status:up' || return 1; done
}

case "$what/$action" in
  cluster/start)
    stop_all
    for port in 7100 7101 7102 7103 7104 7105; do
      node $port "$lab/$port" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
        --cluster-require-full-coverage no
    done
    redis-cli --cluster create 127.0.0.1:7100 127.0.0.1:7101 127.0.0.1:7102 127.0.0.1:7103 127.0.0.1:7104 127.0.0.1:7105 \
      --cluster-replicas 1 --cluster-yes >"$lab/create.log" 2>&1
    wait_for "the cluster to agree" cluster_agrees
    echo "cluster up: redis+cluster://127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102" ;;
  sentinel/start)
    stop_all
    # min-replicas-to-write 1: a primary cut off from its replicas (a stale one after a failover)
    # refuses writes about a second later instead of acknowledging logouts that the failover then loses.
    for port in 6480 6481 6482; do
      extra=(--min-replicas-to-write 1 --min-replicas-max-lag 1)
      [ $port = 6480 ] || extra+=(--replicaof 127.0.0.1 6480)
      node $port "$lab/$port" "${extra[@]}"
    done
    for port in 26480 26481 26482; do
      dir="$lab/s$port"; mkdir -p "$dir"
      cat > "$dir/sentinel.conf" <<CONF
port $port
bind 127.0.0.1
daemonize yes
pidfile $PWD/$dir/sentinel.pid
logfile $PWD/$dir/sentinel.log
dir $PWD/$dir
sentinel monitor sessiond 127.0.0.1 6480 2
sentinel down-after-milliseconds sessiond 1000
sentinel failover-timeout sessiond 5000
sentinel parallel-syncs sessiond 2
CONF
      redis-server "$dir/sentinel.conf" --sentinel
      wait_for "sentinel on $port" redis-cli -p $port ping
    done
    wait_for "the sentinels to agree" sentinel_agrees
    echo "sentinel up: redis+sentinel://127.0.0.1:26480,127.0.0.1:26481,127.0.0.1:26482/sessiond" ;;
  */stop)
    stop_all ;;
  *) echo "usage: $0 cluster|sentinel start|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Side-by-side GET benchmark: RedisWire (50 tasks) vs redis-benchmark -t get -c 50 -n 200000,
# alternating ROUNDS times against one redis-server on 127.0.0.1:6400. Prints medians and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product RedisBenchmark >/dev/null
bin=.build-release/release/RedisBenchmark
scripts/redis.sh start 6400 >/dev/null
trap 'scripts/redis.sh stop 6400' EXIT
redis-cli -p 6400 set key:__rand_int__ xxx >/dev/null
ours=(); theirs=(); ours50=(); ours99=(); theirs50=(); theirs99=()
for round in $(seq 1 "$rounds"); do
  line=$(redis-benchmark -p 6400 -t get -c 50 -n 200000 --csv | tail -1 | tr -d '"')
  theirs+=("$(echo "$line" | cut -d, -f2)"); theirs50+=("$(echo "$line" | cut -d, -f5)"); theirs99+=("$(echo "$line" | cut -d, -f7)")
  line=$("$bin" --url redis://127.0.0.1:6400 --tasks 50 --requests 200000 --pool "${POOL:-2}")
  ours+=("$(echo "$line" | cut -d, -f2)"); ours50+=("$(echo "$line" | cut -d, -f3)"); ours99+=("$(echo "$line" | cut -d, -f4)")
  echo "round $round: redis-benchmark ${theirs[-1]} req/s, RedisWire ${ours[-1]} req/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mt=$(median "${theirs[@]}"); mo=$(median "${ours[@]}")
echo
echo "| client (50 concurrent) | req/s (median of $rounds) | p50 ms | p99 ms |"
echo "|---|---|---|---|"
echo "| redis-benchmark -t get -c 50 -n 200000 | $mt | $(median "${theirs50[@]}") | $(median "${theirs99[@]}") |"
echo "| RedisWire, 50 tasks, pool ${POOL:-2} | $mo | $(median "${ours50[@]}") | $(median "${ours99[@]}") |"
echo
awk -v a="$mo" -v b="$mt" 'BEGIN { printf "ratio RedisWire / redis-benchmark: %.2fx\n", a / b }'

#!/usr/bin/env bash
# Redis modes, side by side in one run (release build, default settings):
#  1. resolve throughput of one sessiond binary over one Redis node vs over a 3-primary cluster
#     (wrk, alternating rounds; CPU per request of sessiond and of all Redis processes);
#  2. the cost of durable logout: p50/p99 of DELETE /v1/session over the Sentinel set-up's primary
#     with --revocation-replicas 0 (no WAIT), auto (1 replica) and 2.
# Uses 127.0.0.1:6400 and the loopback labs (scripts/redis-lab.sh). ROUNDS (3) and DURATION (8s) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product sessiond >/dev/null
mkdir -p .run/bench-modes
key="bench-$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
echo "bench sessions:read,sessions:create,sessions:write,sessions:admin $key" > .run/bench-modes/keys
chmod 600 .run/bench-modes/keys
scripts/redis.sh start 6400 >/dev/null
scripts/redis-lab.sh cluster start >/dev/null
scripts/redis-lab.sh sentinel start >/dev/null
bin=.build-release/release/sessiond
pids=()
start() { # port url flags…
  local port=$1 url=$2; shift 2
  $bin --listen 127.0.0.1:$port --redis-url "$url" --api-keys-file .run/bench-modes/keys "$@" > .run/bench-modes/sessiond-$port.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && return; sleep 0.1; done
  echo "sessiond on $port not ready" >&2; exit 1
}
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; scripts/redis.sh stop 6400; scripts/redis-lab.sh cluster stop; scripts/redis-lab.sh sentinel stop' EXIT
start 8120 redis://127.0.0.1:6400
start 8121 redis+cluster://127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102
start 8122 redis+sentinel://127.0.0.1:26480,127.0.0.1:26481,127.0.0.1:26482/sessiond --revocation-replicas 0
start 8123 redis+sentinel://127.0.0.1:26480,127.0.0.1:26481,127.0.0.1:26482/sessiond
start 8124 redis+sentinel://127.0.0.1:26480,127.0.0.1:26481,127.0.0.1:26482/sessiond --revocation-replicas 2 --revocation-policy strict
API_KEY=$key WORK_DIR=.run/bench-modes PID_SINGLE=${pids[0]} PID_CLUSTER=${pids[1]} python3 - <<'PY'
import http.client, json, os, re, statistics, subprocess, time
KEY = os.environ["API_KEY"]; WORK = os.environ["WORK_DIR"]
ROUNDS = int(os.environ.get("ROUNDS", "3")); DURATION = os.environ.get("DURATION", "8s")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def redis_pids(ports):
    return [int(re.search(r"process_id:(\d+)", subprocess.run(["redis-cli", "-p", str(p), "info", "server"], capture_output=True, text=True).stdout).group(1)) for p in ports]
def create(port, n, prefix):
    conn = http.client.HTTPConnection("127.0.0.1", port); tokens = []
    for i in range(n):
        conn.request("POST", "/v1/sessions", json.dumps({"user_id": f"{prefix}-{i}", "data": {"v": "x" * 40}}), {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
        r = conn.getresponse(); body = r.read(); assert r.status == 201, body
        tokens.append(json.loads(body)["token"])
    return tokens
def wrk(port, tokens_file, pid, redis):
    before = (cpu(pid), sum(cpu(p) for p in redis))
    out = subprocess.run(["wrk", "-t2", "-c50", f"-d{DURATION}", "-s", "Benchmarks/service/resolve.lua", f"http://127.0.0.1:{port}/v1/session"],
                         capture_output=True, text=True, env={**os.environ, "TOKENS_FILE": tokens_file}, check=True).stdout
    assert "Non-2xx" not in out, out
    total = int(re.search(r"(\d+) requests in", out).group(1))
    after = (cpu(pid), sum(cpu(p) for p in redis))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), (after[0] - before[0]) * 1e6 / total, (after[1] - before[1]) * 1e6 / total
files = {}
for port, name in ((8120, "single"), (8121, "cluster")):
    files[port] = os.path.join(WORK, f"tokens-{name}.txt")
    open(files[port], "w").write("\n".join(create(port, 1000, name)) + "\n")
single_redis, cluster_redis = redis_pids([6400]), redis_pids([7100, 7101, 7102, 7103, 7104, 7105])
rows = {8120: [], 8121: []}
for _ in range(ROUNDS):
    rows[8120].append(wrk(8120, files[8120], int(os.environ["PID_SINGLE"]), single_redis))
    rows[8121].append(wrk(8121, files[8121], int(os.environ["PID_CLUSTER"]), cluster_redis))
med = lambda xs: statistics.median(xs)
print("| resolve (wrk -c50, 1,000 sessions, medians of %d alternating rounds) | req/s | sessiond CPU µs/req | Redis CPU µs/req |" % ROUNDS)
print("|---|---|---|---|")
for port, name in ((8120, "one Redis node"), (8121, "3-primary cluster (6 nodes)")):
    print(f"| {name} | {med([r[0] for r in rows[port]]):,.0f} | {med([r[1] for r in rows[port]]):.1f} | {med([r[2] for r in rows[port]]):.1f} |")
ratio = med([r[0] for r in rows[8121]]) / med([r[0] for r in rows[8120]])
print(f"\n- cluster / one node: **{ratio:.2f}×** (target ≥ 0.8×)\n")
# Durable logout: DELETE latency, one connection, 2,000 logouts each, alternating blocks.
print("| DELETE /v1/session over the Sentinel primary (2 replicas), 2,000 logouts | p50 ms | p99 ms |")
print("|---|---|---|")
lat = {8122: [], 8123: [], 8124: []}
tokens = {port: create(port, 2000, f"logout-{port}") for port in lat}
conns = {port: http.client.HTTPConnection("127.0.0.1", port) for port in lat}
for block in range(20):
    for port in lat:
        for token in tokens[port][block * 100:(block + 1) * 100]:
            t = time.perf_counter()
            conns[port].request("DELETE", "/v1/session", None, {"Authorization": f"Bearer {KEY}", "X-Session-Token": token})
            r = conns[port].getresponse(); r.read(); assert r.status == 200
            lat[port].append((time.perf_counter() - t) * 1000)
for port, name in ((8122, "`--revocation-replicas 0` (no WAIT)"), (8123, "`auto` (WAIT 1, the default)"), (8124, "`2 --revocation-policy strict` (WAIT 2)")):
    xs = sorted(lat[port])
    print(f"| {name} | {xs[len(xs) // 2]:.3f} | {xs[int(len(xs) * 0.99)]:.3f} |")
PY

#!/usr/bin/env python3
"""sessiond benchmark driver: run by scripts/bench-service.sh with sessiond and Redis already up.

Everything is measured in one run on one machine; rounds alternate so drift hits all sides alike.
Prints a Markdown report on stdout.
"""
import http.client, json, os, re, resource, statistics, subprocess, sys, time

HOST, PORT = "127.0.0.1", int(os.environ.get("SESSIOND_PORT", "8090"))
REDIS_PORT = os.environ.get("REDIS_PORT", "6400")
KEY = os.environ["API_KEY"]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = os.environ.get("DURATION", "8s")
WORK = os.environ.get("WORK_DIR", ".run/bench")
os.makedirs(WORK, exist_ok=True)


def redis(*args, port=None):
    return subprocess.run(["redis-cli", "-p", port or REDIS_PORT, *args], capture_output=True, text=True, check=True).stdout.strip()


def used_memory():
    return int(re.search(r"used_memory:(\d+)", redis("info", "memory")).group(1))


def create_sessions(count, user_for=lambda i: f"user-{i}", data_bytes=40, port=None):
    conn = http.client.HTTPConnection(HOST, port or PORT)
    tokens = []
    body_data = "x" * data_bytes
    for i in range(count):
        body = json.dumps({"user_id": user_for(i), "data": {"v": body_data}})
        conn.request("POST", "/v1/sessions", body, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
        response = conn.getresponse()
        payload = response.read()
        assert response.status == 201, (response.status, payload[:200])
        tokens.append(json.loads(payload)["token"])
    conn.close()
    return tokens


PIDS = {int(p): int(os.environ[v]) for p, v in [(os.environ.get("SESSIOND_PORT", "8090"), "SESSIOND_PID"),
                                                 (os.environ.get("SESSIOND_PORT_ROUTER", "0"), "SESSIOND_PID_ROUTER"),
                                                 (os.environ.get("SESSIOND_PORT_QUIET", "0"), "SESSIOND_PID_QUIET")] if v in os.environ}


def process_cpu(pid):
    """CPU seconds (user + system) a process has used."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CPU:
    """CPU per request of sessiond, Redis and the load generator over one measured run."""
    def __init__(self, port):
        self.pid = PIDS.get(port or PORT)
        self.redis_pid = int(re.search(r"process_id:(\d+)", redis("info", "server")).group(1))
        self.start = (process_cpu(self.pid) if self.pid else 0.0, process_cpu(self.redis_pid), children_cpu())

    def per_request(self, requests):
        end = (process_cpu(self.pid) if self.pid else 0.0, process_cpu(self.redis_pid), children_cpu())
        return {name: (after - before) * 1e6 / requests for name, before, after in zip(("sessiond", "redis", "load"), self.start, end)}


def wrk(path, script=None, connections=50, duration=DURATION, env=None, port=None):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency"]
    if script:
        command += ["-s", script]
    command.append(f"http://{HOST}:{port or PORT}{path}")
    cpu = CPU(port)
    output = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", output)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    if errors:
        sys.exit(f"wrk {path}: {errors} non-2xx responses: the benchmark would be measuring errors\n{output}")
    total = int(re.search(r"(\d+) requests in", output).group(1))
    return rps, pct(50), pct(99), cpu.per_request(total)


def redis_benchmark():
    line = subprocess.run(["redis-benchmark", "-p", REDIS_PORT, "-t", "get", "-c", "50", "-n", "200000", "--csv"],
                          capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    fields = [f.strip('"') for f in line.split(",")]
    return float(fields[1]), float(fields[4]), float(fields[6])


def med(values):
    return statistics.median(values)


def table(rows):
    out = ["| what (50 connections) | req/s (median) | p50 ms | p99 ms |", "|---|---|---|---|"]
    for name, samples in rows:
        out.append(f"| {name} | {med([s[0] for s in samples]):,.0f} | {med([s[1] for s in samples]):.3f} | {med([s[2] for s in samples]):.3f} |")
    return "\n".join(out)


class Report(list):
    """Prints each line as soon as it is known, so a long run shows progress."""
    def append(self, line):
        print(line, flush=True)
        super().append(line)


def main():
    report = Report()
    redis("flushall")
    tokens = create_sessions(1000)
    tokens_file = os.path.join(WORK, "tokens.txt")
    with open(tokens_file, "w") as f:
        f.write("\n".join(tokens) + "\n")
    env = {"TOKENS_FILE": tokens_file, "API_KEY": KEY}
    script_dir = os.path.dirname(os.path.abspath(__file__))

    router_port = int(os.environ.get("SESSIOND_PORT_ROUTER", "0"))
    quiet_port = int(os.environ.get("SESSIOND_PORT_QUIET", "0"))
    health, resolve, rb, resolve_router, resolve_quiet = [], [], [], [], []
    for _ in range(ROUNDS):
        health.append(wrk("/healthz"))
        resolve.append(wrk("/v1/session", os.path.join(script_dir, "resolve.lua"), env=env))
        rb.append(redis_benchmark())
        if router_port:
            resolve_router.append(wrk("/v1/session", os.path.join(script_dir, "resolve.lua"), env=env, port=router_port))
        if quiet_port:
            resolve_quiet.append(wrk("/v1/session", os.path.join(script_dir, "resolve.lua"), env=env, port=quiet_port))
    creates, creates_router = [], []
    for round_index in range(ROUNDS):
        creates.append(wrk("/v1/sessions", os.path.join(script_dir, "create.lua"), duration="5s",
                           env={**env, "RUN_ID": f"c{round_index}", "DATA_BYTES": "200"}))
        if router_port:
            creates_router.append(wrk("/v1/sessions", os.path.join(script_dir, "create.lua"), duration="5s",
                                      env={**env, "RUN_ID": f"cr{round_index}", "DATA_BYTES": "200"}, port=router_port))
    # The thin client: one process, 50 tasks, against the same endpoint, alternating with wrk.
    client_bin = os.environ.get("CLIENT_BENCH")
    client_rows, wrk_rows, hits, client_cpu = [], [], [], []
    if client_bin:
        for _ in range(ROUNDS):
            wrk_rows.append(wrk("/v1/session", os.path.join(script_dir, "resolve.lua"), env=env))
            cpu = CPU(PORT)
            line = subprocess.run([client_bin, "--url", f"http://{HOST}:{PORT}", "--key", KEY, "--tokens", tokens_file,
                                   "--tasks", "50", "--seconds", DURATION.rstrip("s")], capture_output=True, text=True, check=True).stdout.strip()
            _, rps, hit_us = line.split(",")
            client_rows.append(float(rps))
            client_cpu.append(cpu.per_request(float(rps) * float(DURATION.rstrip("s"))))
            hits.append(float(hit_us))
    r, h, b, c = med([x[0] for x in resolve]), med([x[0] for x in health]), med([x[0] for x in rb]), med([x[0] for x in creates])
    report.append("### Throughput and latency (1,000 sessions stored)\n")
    rows = [("GET /healthz (HTTP floor, served by the router)", health), ("GET /v1/session (resolve, fast path)", resolve),
            ("redis-benchmark -t get -c 50 -n 200000", rb), ("POST /v1/sessions (create, 200 B data, fast path)", creates)]
    if router_port:
        rows += [("GET /v1/session through the router (--fast-path false)", resolve_router),
                 ("POST /v1/sessions through the router (--fast-path false)", creates_router)]
    if quiet_port:
        rows += [("GET /v1/session at log level warning (no access log)", resolve_quiet)]
    report.append(table(rows))
    report.append("")
    report.append(f"- resolve / healthz: **{r / h:.2f}×** (target ≥ 0.75×)")
    report.append(f"- resolve / redis-benchmark GET: **{r / b:.2f}×** (target ≥ 0.40×)")
    report.append(f"- resolve p99: **{med([x[2] for x in resolve]):.2f} ms** (target ≤ 5 ms)")
    report.append(f"- create / resolve: **{c / r:.2f}×** (target ≥ 0.5×)")
    if quiet_port:
        q = med([x[0] for x in resolve_quiet])
        report.append(f"- resolve at the default log level (info, access log on) / at warning, same binary: **{r / q:.2f}×** (target ≥ 0.95×); "
                      f"resolve / redis-benchmark GET at warning: {q / b:.2f}×")
    if router_port:
        rr, cr = med([x[0] for x in resolve_router]), med([x[0] for x in creates_router])
        report.append(f"- fast path / router, same binary and Redis: resolve **{r / rr:.2f}×**, create **{c / cr:.2f}×**")
    if client_rows:
        w = med([x[0] for x in wrk_rows])
        report.append(f"- SessionClient, one process, 50 tasks: **{med(client_rows):,.0f}** resolves/s vs wrk -c 50 {w:,.0f} → "
                      f"**{med(client_rows) / w:.2f}×** (target ≥ 0.8×)")
        report.append(f"- SessionClient near-cache hit: **{med(hits):.2f} µs** median (target ≤ 2 µs)")
    report.append("")
    report.append("### CPU per request (µs, medians; sessiond and Redis from /proc, the load generator from rusage)\n")
    report.append("| what | sessiond | Redis | load generator |")
    report.append("|---|---|---|---|")
    cpu_rows = [("GET /healthz (router)", health), ("GET /v1/session (fast path)", resolve),
                ("POST /v1/sessions (fast path)", creates)]
    if router_port:
        cpu_rows += [("GET /v1/session (router)", resolve_router), ("POST /v1/sessions (router)", creates_router)]
    if quiet_port:
        cpu_rows += [("GET /v1/session (fast path, log level warning)", resolve_quiet)]
    for name, samples in cpu_rows:
        report.append(f"| {name} | {med([x[3]['sessiond'] for x in samples]):.1f} | {med([x[3]['redis'] for x in samples]):.1f} | "
                      f"{med([x[3]['load'] for x in samples]):.1f} (wrk) |")
    if client_rows:
        report.append(f"| GET /v1/session (fast path), wrk rounds of the client comparison | {med([x[3]['sessiond'] for x in wrk_rows]):.1f} | "
                      f"{med([x[3]['redis'] for x in wrk_rows]):.1f} | {med([x[3]['load'] for x in wrk_rows]):.1f} (wrk) |")
        report.append(f"| GET /v1/session (fast path) from SessionClient | {med([x['sessiond'] for x in client_cpu]):.1f} | "
                      f"{med([x['redis'] for x in client_cpu]):.1f} | {med([x['load'] for x in client_cpu]):.1f} (client process) |")
    if os.environ.get("QUICK"):
        return

    # Purge of a user with 1,000 sessions.
    purge_ms = []
    for round_index in range(5):
        create_sessions(1000, user_for=lambda i: f"bulk-{round_index}")
        conn = http.client.HTTPConnection(HOST, PORT)
        started = time.perf_counter()
        conn.request("DELETE", f"/v1/users/bulk-{round_index}/sessions", headers={"Authorization": f"Bearer {KEY}"})
        response = conn.getresponse()
        payload = json.loads(response.read())
        purge_ms.append((time.perf_counter() - started) * 1000)
        assert payload["destroyed"] == 1000, payload
        conn.close()
    report.append(f"- purge of a user with 1,000 sessions: **{med(purge_ms):.1f} ms** median of 5 (target ≤ 50 ms)")

    # Memory per session vs a plain SET of a key and value of the same sizes, at 1 and 10 sessions per user.
    def session_memory(per_user):
        redis("flushall")
        redis("config", "set", "save", "")
        base = used_memory()
        count = 100_000
        # Exact count: 100,000 creates through the API, 200 bytes of data each.
        conn = http.client.HTTPConnection(HOST, PORT)
        data = "x" * 192
        for i in range(count):
            body = '{"user_id":"mem-%d","data":{"v":"%s"}}' % (i // per_user, data)
            conn.request("POST", "/v1/sessions", body, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
            response = conn.getresponse(); response.read()
            assert response.status == 201
        conn.close()
        per_session = (used_memory() - base) / count
        sample_key = ""
        while ":s:" not in sample_key:
            sample_key = redis("randomkey")
        return per_session, len(sample_key)

    def set_memory(key_length):
        redis("flushall")
        base = used_memory()
        count = 100_000
        with open(os.path.join(WORK, "set.resp"), "wb") as f:
            value = b"v" * 200
            for i in range(count):
                key = (b"k" * (key_length - 8)) + b"%08d" % i
                f.write(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$4\r\n3600\r\n" % (len(key), key, len(value), value))
        with open(os.path.join(WORK, "set.resp"), "rb") as f:
            subprocess.run(["redis-cli", "-p", REDIS_PORT, "--pipe"], stdin=f, capture_output=True, check=True)
        return (used_memory() - base) / count

    for per_user, target in ((1, "≤ 1.6×"), (10, "≤ 1.40×")):
        session_bytes, key_length = session_memory(per_user)
        set_bytes = set_memory(key_length)
        report.append(f"- Redis memory per session, {per_user} per user (100,000 sessions, 200 B data): **{session_bytes:.0f} B** vs "
                      f"plain `SET key value EX` ({key_length}-byte key, 200-byte value): {set_bytes:.0f} B → "
                      f"**{session_bytes / set_bytes:.2f}×** (target {target})")

    # PATCH: a merge patch of about 64 KiB (the default body limit) against about 16 KiB of data (the
    # default data limit): every 2nd data member replaced, thousands of members deleted.
    redis("flushall")
    conn = http.client.HTTPConnection(HOST, PORT)
    data = {f"member-{i:04d}": "v" * 8 for i in range(600)}
    body = json.dumps({"user_id": "patcher", "data": data}, separators=(",", ":"))
    conn.request("POST", "/v1/sessions", body, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    response = conn.getresponse()
    token = json.loads(response.read())["token"]
    patch_members = {f"member-{i:04d}": "w" * 8 for i in range(0, 600, 2)}
    index = 0
    while len(json.dumps(patch_members, separators=(",", ":"))) < 64_800:
        patch_members[f"gone-{index:05d}-xxxxxx"] = None
        index += 1
    patch = json.dumps(patch_members, separators=(",", ":"))
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        conn.request("PATCH", "/v1/session", patch, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/merge-patch+json",
                                                     "X-Session-Token": token})
        response = conn.getresponse(); payload = response.read()
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status == 200, (response.status, payload[:200])
    conn.close()
    report.append(f"- PATCH of {len(patch) / 1024:.1f} KiB ({len(patch_members):,} members) against {len(json.dumps(data, separators=(',', ':'))) / 1024:.1f} KiB "
                  f"of data ({len(data)} members): **{med(timings):.2f} ms** median of 20 (one request at a time, through the router)")

    # Resolve with 1,000 vs 1,000,000 sessions stored: two Redis servers, each behind its own
    # sessiond, measured in alternating rounds so machine noise hits both alike.
    large_port = int(os.environ["SESSIOND_PORT_LARGE"])
    large_redis = os.environ["REDIS_PORT_LARGE"]
    redis("flushall")
    redis("flushall", port=large_redis)
    small_file, large_file = os.path.join(WORK, "small.txt"), os.path.join(WORK, "large.txt")
    with open(small_file, "w") as f:
        f.write("\n".join(create_sessions(1000)) + "\n")
    with open(large_file, "w") as f:
        f.write("\n".join(create_sessions(1000, port=large_port)) + "\n")
    target = 1_000_000
    # Records are written by the create script (server clock, checksums), so the API creates them.
    while int(redis("dbsize", port=large_redis)) < target * 2:  # a record and a user index per session
        wrk("/v1/sessions", os.path.join(script_dir, "create.lua"), duration="20s", connections=50, port=large_port,
            env={**env, "RUN_ID": f"fill{time.time_ns()}", "DATA_BYTES": "40"})
    stored = int(redis("dbsize", port=large_redis)) // 2
    time.sleep(10)  # let Redis finish rehashing the grown keyspace
    few, many = [], []
    for _ in range(ROUNDS):
        few.append(wrk("/v1/session", os.path.join(script_dir, "resolve.lua"), env={**env, "TOKENS_FILE": small_file}))
        many.append(wrk("/v1/session", os.path.join(script_dir, "resolve.lua"), env={**env, "TOKENS_FILE": large_file}, port=large_port))
    f_rps, m_rps = med([x[0] for x in few]), med([x[0] for x in many])
    report.append(f"- resolve with 1,000 sessions stored: {f_rps:,.0f} req/s; with {stored:,} stored: {m_rps:,.0f} req/s "
                  f"(medians of {ROUNDS} alternating rounds) → difference **{abs(m_rps - f_rps) / f_rps * 100:.1f} %** (target within 10 %)")

if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Failover drills: sessiond under a mixed load of ~50 concurrent callers (resolve, create, destroy,
purge) while Redis fails over. Run by scripts/drills.sh, which starts the loopback labs and sessiond.

Counts, per drill:
  wrong answers  a 200 for a destroyed or purged session, or for another caller's session
  other errors   any answer but 200/201/404/503 (and any failed connection to sessiond)
  outage         the longest stretch without a successful create after the fault
Prints one Markdown table row per drill and exits non-zero when a drill misses its pass mark.
"""
import base64, hashlib, http.client, json, os, random, subprocess, sys, threading, time

HOST = "127.0.0.1"
KEY = os.environ["API_KEY"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, ".run", "lab")
CALLERS = int(os.environ.get("CALLERS", "50"))


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True).stdout.strip()


def pid_of(kind, port):
    return int(open(os.path.join(LAB, kind, str(port), "redis.pid")).read().strip())


# --- Cluster slot of a user's sessions (the {tag} of its keys) -------------------------------------
def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def slot_of_user(user):
    tag = base64.urlsafe_b64encode(hashlib.sha256(b"slot:" + user.encode()).digest()).decode()[:4]
    return crc16(tag.encode()) % 16384


def cluster_owners(port=7100):
    """slot ranges → primary port, from CLUSTER SLOTS."""
    out = subprocess.run(["redis-cli", "-p", str(port), "--json", "cluster", "slots"], capture_output=True, text=True).stdout
    try:
        return [(int(r[0]), int(r[1]), int(r[2][1])) for r in json.loads(out)]
    except Exception:
        lines = redis_cli(port, "cluster", "slots").split("\n")
        return []


def owner_of(slot, owners):
    for start, end, port in owners:
        if start <= slot <= end:
            return port
    return None


# --- Load ------------------------------------------------------------------------------------------
class Load:
    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.wrong, self.errors, self.unavailable, self.requests = [], [], 0, 0
        self.create_ok = []  # (time, user)
        self.errors_by_user = {}
        self.final = {}  # user → the tokens it still holds (acknowledged creates, not logged out)
        self.threads = [threading.Thread(target=self.caller, args=(i,), daemon=True) for i in range(CALLERS)]

    def request(self, conn, method, path, body=None, token=None):
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        if token:
            headers["X-Session-Token"] = token
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        return response.status, response.read()

    def note(self, user, status, what):
        with self.lock:
            self.requests += 1
            if status == 503:
                self.unavailable += 1
            elif status not in (200, 201, 404):
                self.errors.append((time.monotonic(), user, what, status))
                self.errors_by_user[user] = self.errors_by_user.get(user, 0) + 1

    def caller(self, index):
        user = f"drill-{index}-{random.randrange(1 << 30)}"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        live, dead = [], []
        rng = random.Random(index)
        while not self.stop.is_set():
            try:
                action = rng.random()
                if action < 0.3 or not live:
                    status, body = self.request(conn, "POST", "/v1/sessions", json.dumps({"user_id": user}))
                    self.note(user, status, "create")
                    if status == 201:
                        live.append(json.loads(body)["token"])
                        with self.lock:
                            self.create_ok.append((time.monotonic(), user))
                elif action < 0.75:
                    token = rng.choice(live)
                    status, body = self.request(conn, "GET", "/v1/session", token=token)
                    self.note(user, status, "resolve")
                    if status == 200 and json.loads(body)["user_id"] != user:
                        with self.lock:
                            self.wrong.append(("foreign session", user))
                elif action < 0.85:
                    status, body = self.request(conn, "GET", f"/v1/users/{user}/sessions")
                    self.note(user, status, "list")
                elif action < 0.93:
                    token = live.pop(rng.randrange(len(live)))
                    status, _ = self.request(conn, "DELETE", "/v1/session", token=token)
                    self.note(user, status, "destroy")
                    (dead if status == 200 else live).append(token)
                else:
                    status, _ = self.request(conn, "DELETE", f"/v1/users/{user}/sessions")
                    self.note(user, status, "purge")
                    if status == 200:
                        dead.extend(live)
                        live = []
                # Every acknowledged logout must stay a logout.
                if dead and rng.random() < 0.3:
                    token = rng.choice(dead)
                    status, _ = self.request(conn, "GET", "/v1/session", token=token)
                    self.note(user, status, "resolve-dead")
                    if status == 200:
                        with self.lock:
                            self.wrong.append(("revoked session answered", user))
            except (OSError, http.client.HTTPException) as error:
                with self.lock:
                    self.errors.append((time.monotonic(), user, "connection", str(error)))
                conn.close()
                conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        with self.lock:
            self.final[user] = list(live)

    def start(self):
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def longest_gap_after(self, since, users=None):
        times = sorted(t for t, u in self.create_ok if t >= since - 0.5 and (users is None or u in users))
        gaps = [b - a for a, b in zip(times, times[1:])]
        return max(gaps) if gaps else float("inf")


def wait_ready(port, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"sessiond on {port} never became ready")


# --- Drills ----------------------------------------------------------------------------------------
def run(name, port, fault, settle=6.0, before=2.0):
    wait_ready(port)
    load = Load(port)
    load.start()
    time.sleep(before)
    fault_at = time.monotonic()
    detail = fault()
    time.sleep(settle)
    load.finish()
    return load, fault_at, detail


def drill_cluster_failover(port):
    owners = cluster_owners()
    primary = owners[0][2]
    replica = next(int(line.split()[1].split(":")[1].split("@")[0]) for line in redis_cli(primary, "cluster", "nodes").split("\n") if "slave" in line
                   and line.split()[3] == redis_cli(primary, "cluster", "myid"))
    load, at, _ = run("cluster-failover", port, lambda: redis_cli(replica, "cluster", "failover"))
    errors = len(load.errors) + load.unavailable
    return dict(drill="`CLUSTER FAILOVER` of a primary", wrong=len(load.wrong), errors=len(load.errors), unavailable=load.unavailable,
                outage=load.longest_gap_after(at), requests=load.requests, passed=errors == 0 and not load.wrong,
                mark="no errors at all")


def drill_write_pause(port):
    """A primary holds its writers for 800 ms (`CLIENT PAUSE 800 WRITE`, what a graceful `CLUSTER
    FAILOVER` does while its replica catches up, here longer than the 250 ms command timeout)."""
    owners = cluster_owners()
    primary = owners[0][2]
    load, at, _ = run("write-pause", port, lambda: redis_cli(primary, "client", "pause", "800", "write"), settle=4.0)
    errors = len(load.errors) + load.unavailable
    return dict(drill="`CLIENT PAUSE 800 WRITE` on a cluster primary", wrong=len(load.wrong), errors=len(load.errors),
                unavailable=load.unavailable, outage=load.longest_gap_after(at), requests=load.requests,
                passed=errors == 0 and not load.wrong, mark="no errors at all")


def drill_cluster_kill(port):
    owners = cluster_owners()
    victim = owners[0][2]
    def fault():
        os.kill(pid_of("cluster", victim), 9)
    load, at, _ = run("cluster-kill", port, fault, settle=8.0)
    # Users whose slot another shard serves must see no errors at all; the outage is that of the
    # users on the killed primary's shard.
    involved = [u for u in set(u for _, u in load.create_ok) if owner_of(slot_of_user(u), owners) == victim]
    outage = load.longest_gap_after(at, users=set(involved))
    uninvolved_errors = sum(n for u, n in load.errors_by_user.items() if u not in involved)
    passed = outage <= 3.5 and not load.wrong and uninvolved_errors == 0 and not load.errors
    return dict(drill="`kill -9` a cluster primary", wrong=len(load.wrong), errors=len(load.errors), unavailable=load.unavailable,
                outage=outage, requests=load.requests, passed=passed,
                mark="writes back ≤ 3.5 s, uninvolved shards no errors, 0 wrong", extra=f"uninvolved-shard errors {uninvolved_errors}")


def sentinel_primary():
    return int(redis_cli(26480, "sentinel", "get-master-addr-by-name", "sessiond").split("\n")[1])


def drill_sentinel_failover(port):
    load, at, _ = run("sentinel-failover", port, lambda: redis_cli(26480, "sentinel", "failover", "sessiond"))
    outage = load.longest_gap_after(at)
    passed = outage <= 3.0 and not load.wrong and not load.errors
    return dict(drill="`SENTINEL FAILOVER`", wrong=len(load.wrong), errors=len(load.errors), unavailable=load.unavailable,
                outage=outage, requests=load.requests, passed=passed, mark="back ≤ 3 s, 0 wrong", detail=load.wrong[:5])


def drill_sentinel_kill(port):
    victim = sentinel_primary()
    load, at, _ = run("sentinel-kill", port, lambda: os.kill(pid_of("sentinel", victim), 9), settle=8.0)
    outage = load.longest_gap_after(at)
    passed = outage <= 3.0 and not load.wrong and not load.errors
    return dict(drill="`kill -9` the Sentinel primary", wrong=len(load.wrong), errors=len(load.errors), unavailable=load.unavailable,
                outage=outage, requests=load.requests, passed=passed, mark="back ≤ 3 s, 0 wrong")


def drill_stop_cont(port):
    victim = sentinel_primary()
    pid = pid_of("sentinel", victim)
    def fault():
        os.kill(pid, 19)  # SIGSTOP
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sentinel_primary() == victim:
            time.sleep(0.1)
        os.kill(pid, 18)  # SIGCONT: the stale primary is back, still calling itself master for a while
    load, at, _ = run("stop-cont", port, fault, settle=6.0)
    passed = not load.wrong and not load.errors
    return dict(drill="`kill -STOP` the primary, fail over, `kill -CONT`", wrong=len(load.wrong), errors=len(load.errors),
                unavailable=load.unavailable, outage=load.longest_gap_after(at), requests=load.requests, passed=passed,
                mark="0 sessions come back")


def drill_destroy_then_failover(port, rounds, policy):
    """Destroy a session, kill -9 the primary at once, wait for the new one: is the session back?"""
    back = 0
    for round_index in range(rounds):
        wait_ready(port)
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        tokens = []
        for _ in range(20):
            conn.request("POST", "/v1/sessions", json.dumps({"user_id": f"dtf-{round_index}"}), headers)
            r = conn.getresponse(); body = r.read()
            if r.status == 201:
                tokens.append(json.loads(body)["token"])
        acknowledged = []
        victim = sentinel_primary()
        for token in tokens:
            conn.request("DELETE", "/v1/session", None, {**headers, "X-Session-Token": token})
            r = conn.getresponse(); r.read()
            if r.status == 200:
                acknowledged.append(token)
        os.kill(pid_of("sentinel", victim), 9)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and sentinel_primary() == victim:
            time.sleep(0.1)
        time.sleep(1.0)
        for token in acknowledged:
            for _ in range(50):
                try:
                    conn.request("GET", "/v1/session", None, {**headers, "X-Session-Token": token})
                    r = conn.getresponse(); r.read()
                except (OSError, http.client.HTTPException):
                    conn = http.client.HTTPConnection(HOST, port, timeout=10)
                    continue
                if r.status != 503:
                    break
                time.sleep(0.1)
            if r.status == 200:
                back += 1
        # Bring the killed node back as a replica for the next round.
        restart_sentinel_node(victim)
    return back


def restart_sentinel_node(port):
    directory = os.path.join(LAB, "sentinel", str(port))
    primary = sentinel_primary()
    subprocess.run(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "yes",
                    "--dir", directory, "--pidfile", os.path.join(directory, "redis.pid"), "--logfile", os.path.join(directory, "redis.log"),
                    "--replicaof", "127.0.0.1", str(primary)], check=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if "master_link_status:up" in redis_cli(port, "info", "replication"):
            return
        time.sleep(0.1)


def handle_of(token):
    digest = base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).decode()
    return token[:4] + digest[:32]


def drill_reshard(port):
    """Move 2,000 slots from one primary to another (`redis-cli --cluster reshard`) under load: every
    acknowledged create must still be listed, and no index entry may point at nothing."""
    ids = {}
    for line in redis_cli(7100, "cluster", "nodes").split("\n"):
        fields = line.split()
        if "master" in fields[2] and "fail" not in fields[2]:
            ids[int(fields[1].split(":")[1].split("@")[0])] = fields[0]
    source, target = ids[cluster_owners()[0][2]], next(i for p, i in ids.items() if p != cluster_owners()[0][2])
    def fault():
        subprocess.run(["redis-cli", "--cluster", "reshard", "127.0.0.1:7100", "--cluster-from", source, "--cluster-to", target,
                        "--cluster-slots", "2000", "--cluster-yes"], capture_output=True, text=True, check=True)
    load, at, _ = run("reshard", port, fault, settle=2.0)
    missing = 0
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    for user, tokens in load.final.items():
        conn.request("GET", f"/v1/users/{user}/sessions", None, {"Authorization": f"Bearer {KEY}"})
        r = conn.getresponse(); listed = {s["handle"] for s in json.loads(r.read())["sessions"]}
        missing += sum(1 for t in tokens if handle_of(t) not in listed)
    dangling = 0
    for node in (7100, 7101, 7102, 7103, 7104, 7105):
        if "role:master" not in redis_cli(node, "info", "replication"):
            continue
        for index in filter(None, redis_cli(node, "--scan", "--pattern", "sessiond:{*}:u:*").split("\n")):
            prefix = index.split("}:u:")[0] + "}:s:"
            for member in filter(None, redis_cli(node, "zrange", index, "0", "-1").split("\n")):
                if redis_cli(node, "exists", prefix + member) != "1":
                    dangling += 1
    passed = missing == 0 and dangling == 0 and not load.wrong and not load.errors
    return dict(drill="resharding 2,000 slots (`redis-cli --cluster reshard`) during creates, lists and purges", wrong=len(load.wrong),
                errors=len(load.errors), unavailable=load.unavailable, outage=load.longest_gap_after(at), requests=load.requests,
                passed=passed, mark="every acknowledged create listed, no index entry pointing at nothing",
                extra=f"{missing} acknowledged sessions missing from lists, {dangling} dangling index entries")


def row(result):
    extra = f"; {result['extra']}" if result.get("extra") else ""
    return (f"| {result['drill']} | {result['requests']:,} | {result['wrong']} | {result['errors']} | {result['unavailable']} | "
            f"{result['outage']:.2f} s | {'pass' if result['passed'] else 'FAIL'} ({result['mark']}{extra}) |")


if __name__ == "__main__":
    drill = sys.argv[1]
    port = int(sys.argv[2])
    if drill == "destroy-then-failover":
        rounds = int(os.environ.get("ROUNDS", "20"))
        back = drill_destroy_then_failover(port, rounds, os.environ.get("POLICY", "strict"))
        policy = os.environ.get("POLICY", "strict")
        passed = back == 0 or policy != "strict"
        print(f"| destroy then immediate `kill -9` of the primary, {rounds} rounds × 20 sessions, `--revocation-policy {policy}` | "
              f"{rounds * 20} logouts | {back} came back | – | – | – | {'pass' if passed else 'FAIL'} "
              f"({'0 come back' if policy == 'strict' else 'reported'}) |")
        sys.exit(0 if passed else 1)
    result = {"cluster-failover": drill_cluster_failover, "cluster-kill": drill_cluster_kill,
              "sentinel-failover": drill_sentinel_failover, "sentinel-kill": drill_sentinel_kill,
              "stop-cont": drill_stop_cont, "reshard": drill_reshard, "write-pause": drill_write_pause}[drill](port)
    print(row(result))
    if os.environ.get("VERBOSE"):
        print(result, file=sys.stderr)
    sys.exit(0 if result["passed"] else 1)

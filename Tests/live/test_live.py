#!/usr/bin/env python3
"""Live tests against a running sessiond process (started by scripts/live-test.sh):
hostile connections, framing errors, descriptor leaks, graceful shutdown, and logs free of tokens.

Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import http.client, json, os, signal, socket, threading, time
import harness  # Tests/live/harness.py

HOST = "127.0.0.1"
PORT = int(os.environ["SESSIOND_PORT"])
PID = int(os.environ["SESSIOND_PID"])
KEY = os.environ["API_KEY"]
ROUTER_PORT = int(os.environ["ROUTER_PORT"])  # the same service with --fast-path false
IDLE_TIMEOUT = float(os.environ.get("IDLE_TIMEOUT", "3"))
LOG = os.environ["SESSIOND_LOG"]
READ_TIMEOUT = float(os.environ.get("READ_TIMEOUT", "2"))
WRITER_KEY = os.environ["WRITER_KEY"]  # sessions:read,sessions:write, no sessions:create
ROUTER_LOG = os.environ["ROUTER_LOG"]
ROUTER_PID = int(os.environ["ROUTER_PID"])
KEYS_FILE = os.environ["KEYS_FILE"]
DOWN_PORT = int(os.environ["DOWN_PORT"])  # fast path over a Redis that is not there
DOWN_ROUTER_PORT = int(os.environ["DOWN_ROUTER_PORT"])  # router over a Redis that is not there
DEFAULT_READ_TIMEOUT = 10.0  # the router twin runs with every default
LOGIN_PORT = int(os.environ["LOGIN_PORT"])  # example login service over the live sessiond
ORDERS_PORT = int(os.environ["ORDERS_PORT"])  # example orders service over the live sessiond
CLUSTER_PORT = int(os.environ["CLUSTER_PORT"])  # sessiond over the loopback Redis Cluster
SENTINEL_PORT = int(os.environ["SENTINEL_PORT"])  # sessiond over the loopback Sentinel set-up
LOGIN_DOWN_PORT = int(os.environ["LOGIN_DOWN_PORT"])  # example login service whose sessiond has no Redis
issued_tokens = []


def request(method, path, body=None, headers=None, port=None):
    conn = http.client.HTTPConnection(HOST, port or PORT, timeout=5)
    all_headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body, all_headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, payload


def create(user="live"):
    status, payload = request("POST", "/v1/sessions", json.dumps({"user_id": user, "data": {"k": "v"}}))
    assert status == 201, status
    token = json.loads(payload)["token"]
    issued_tokens.append(token)
    return token


def raw(data, wait=2.0):
    """Sends raw bytes, returns what the server sent back before closing or the wait ran out."""
    s = socket.create_connection((HOST, PORT), timeout=wait)
    s.sendall(data)
    received = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
    except socket.timeout:
        pass
    s.close()
    return received


def test_slowloris_connection_is_closed_while_healthy_traffic_flows():
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    closed_after = None
    latencies = []
    while time.monotonic() - started < READ_TIMEOUT * 4:
        try:
            s.sendall(b"X")  # one header byte at a time: never idle, never complete
        except OSError:
            closed_after = time.monotonic() - started
            break
        t = time.monotonic()
        status, _ = request("GET", "/healthz")
        latencies.append(time.monotonic() - t)
        assert status == 200
        s.settimeout(0.3)
        try:
            if s.recv(1) == b"":
                closed_after = time.monotonic() - started
                break
        except socket.timeout:
            pass
        except OSError:
            closed_after = time.monotonic() - started
            break
    s.close()
    assert closed_after is not None, "slowloris connection was never closed"
    assert closed_after < READ_TIMEOUT + 1.5, closed_after
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.05, latencies


def test_content_length_with_transfer_encoding_is_rejected():
    reply = raw(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
                b"\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"0\r\n\r\n")
    assert b" 201 " not in reply, reply[:200]
    assert reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply[:200]


def test_oversized_headers_are_rejected():
    reply = raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
    assert b" 200 " not in reply, reply[:200]


def test_garbage_leaves_the_process_up():
    for junk in [b"\x00\xff" * 1000, b"GET / HTTP/9.9\r\n\r\n", b"\r\n\r\n\r\n", b"POST /v1/sessions HTTP/1.1\r\nContent-Length: -1\r\n\r\n"]:
        raw(junk, wait=0.5)
    assert request("GET", "/healthz")[0] == 200


def test_descriptors_do_not_leak_under_a_connect_storm():
    def fds():
        return len(os.listdir(f"/proc/{PID}/fd"))
    request("GET", "/healthz")
    before = fds()
    for i in range(1500):
        s = socket.create_connection((HOST, PORT))
        if i % 3 == 0:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request, then gone
        elif i % 3 == 1:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.close()
    time.sleep(1.0)
    after = fds()
    assert after - before < 20, (before, after)
    assert request("GET", "/healthz")[0] == 200


def test_tokens_never_reach_the_log():
    token = create("log-check")
    request("GET", "/v1/session", headers={"X-Session-Token": token})
    request("GET", "/v1/session", headers={"X-Session-Token": token + "x"})
    request("POST", "/v1/session/rotate", headers={"X-Session-Token": token})
    time.sleep(0.2)
    with open(LOG, encoding="utf-8", errors="replace") as f:
        text = f.read()
    assert "http.route=/v1/session" in text, "request lines missing from the log"
    for issued in issued_tokens:
        assert issued not in text and issued[4:20] not in text


def responses(data, count, port=None, wait=5.0):
    """Sends raw bytes on one connection and parses `count` responses: [(status, headers, body)]."""
    s = socket.create_connection((HOST, port or PORT), timeout=wait)
    s.sendall(data)
    buffer, parsed = b"", []
    while len(parsed) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = s.recv(65536)
            assert chunk, f"connection closed after {len(parsed)} responses: {buffer[:200]!r}"
            buffer += chunk
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(buffer) < length:
            chunk = s.recv(65536)
            assert chunk, "connection closed inside a body"
            buffer += chunk
        parsed.append((int(lines[0].split()[1]), headers, buffer[:length]))
        buffer = buffer[length:]
    s.close()
    return parsed


def http_request(method, path, headers, body=b""):
    lines = [f"{method} {path} HTTP/1.1", "Host: x"] + [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_fast_path_and_router_answer_alike():
    token = create("parity")
    auth = {"Authorization": f"Bearer {KEY}"}
    json_type = {"Content-Type": "application/json"}
    cases = [
        ("GET", "/v1/session", {**auth, "X-Session-Token": token}, b""),
        ("GET", "/v1/session", {**auth, "Cookie": f"a=b; __Host-sid={token}"}, b""),
        ("GET", "/v1/session", {**auth, "X-Session-Token": token[:-1] + ("A" if token[-1] != "A" else "B")}, b""),
        ("GET", "/v1/session", {**auth, "X-Session-Token": "short"}, b""),
        ("GET", "/v1/session", {"Authorization": "Bearer nope-nope-nope-nope", "X-Session-Token": token}, b""),
        ("GET", "/v1/session", {"X-Session-Token": token}, b""),
        ("POST", "/v1/sessions", {**auth, **json_type}, b'{"user_id":"parity","data":[1]}'),
        ("POST", "/v1/sessions", {**auth, **json_type}, b'{"user_id":'),
        ("POST", "/v1/sessions", {**auth, **json_type}, b'{"user_id":"parity","extra":1}'),
        ("POST", "/v1/sessions", {**auth, **json_type}, b'{"user_id":"parity","data":{"big":"' + b"x" * 17000 + b'"}}'),
        ("POST", "/v1/sessions", {**auth, "Content-Type": "text/plain"}, b'{"user_id":"parity"}'),
    ]
    for method, path, headers, body in cases:
        fast = responses(http_request(method, path, headers, body), 1)[0]
        router = responses(http_request(method, path, headers, body), 1, port=ROUTER_PORT)[0]
        assert fast[0] == router[0], (method, headers, fast, router)
        for name in ("content-type", "cache-control", "etag", "www-authenticate"):
            assert fast[1].get(name) == router[1].get(name), (name, fast[1], router[1])
        if fast[0] == 200:  # the resolve slid last_seen_at: compare everything else
            f, r = json.loads(fast[2]), json.loads(router[2])
            for field in ("handle", "user_id", "data", "created_at", "expires_at", "version", "metadata"):
                assert f[field] == r[field], field
        else:
            assert fast[2] == router[2], (fast, router)
    # A successful create: same shape from both.
    for port in (PORT, ROUTER_PORT):
        status, headers, body = responses(http_request("POST", "/v1/sessions", {**auth, **json_type}, b'{"user_id":"parity"}'), 1, port=port)[0]
        assert status == 201 and headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
        assert set(json.loads(body)) == {"token", "session", "set_cookie"}


def test_pipelined_requests_are_answered_in_order():
    token = create("pipeline")
    auth = {"Authorization": f"Bearer {KEY}"}
    batch = b"".join([
        http_request("GET", "/v1/session", {**auth, "X-Session-Token": token}),          # fast path
        http_request("GET", "/healthz", {}),                                              # router
        http_request("GET", "/v1/session", {**auth, "X-Session-Token": "malformed"}),     # router 404
        http_request("POST", "/v1/sessions", {**auth, "Content-Type": "application/json"}, b'{"user_id":"pipeline"}'),
        http_request("GET", "/v1/users/pipeline/sessions", auth),                          # router
        http_request("GET", "/v1/session", {**auth, "X-Session-Token": token}),          # fast path
    ] * 3)
    got = responses(batch, 18)
    assert [status for status, _, _ in got] == [200, 200, 404, 201, 200, 200] * 3, [g[0] for g in got]
    assert json.loads(got[1][2]) == {"status": "ok"}
    assert json.loads(got[0][2])["user_id"] == "pipeline"
    assert "sessions" in json.loads(got[4][2])


def test_connection_close_and_http10_are_honoured_on_the_fast_path():
    token = create("close")
    for data in [
        http_request("GET", "/v1/session", {"Authorization": f"Bearer {KEY}", "X-Session-Token": token, "Connection": "close"}),
        f"GET /v1/session HTTP/1.0\r\nAuthorization: Bearer {KEY}\r\nX-Session-Token: {token}\r\n\r\n".encode(),
    ]:
        reply = raw(data, wait=3.0)  # returns once the server closes (or after 3 s)
        assert b" 200 " in reply.split(b"\r\n")[0], reply[:100]
        assert reply.endswith(b"}"), reply[-50:]


def test_idle_connections_close_but_busy_fast_path_connections_stay():
    token = create("idle")
    idle = socket.create_connection((HOST, PORT), timeout=IDLE_TIMEOUT * 3)
    busy = http.client.HTTPConnection(HOST, PORT, timeout=5)
    started = time.monotonic()
    while time.monotonic() - started < IDLE_TIMEOUT * 2:
        busy.request("GET", "/v1/session", headers={"Authorization": f"Bearer {KEY}", "X-Session-Token": token})
        response = busy.getresponse()
        response.read()
        assert response.status == 200
        time.sleep(0.2)
    busy.close()
    idle.settimeout(IDLE_TIMEOUT * 2)
    assert idle.recv(1) == b"", "the idle connection was not closed"
    idle.close()


def test_sigterm_lets_the_request_in_flight_finish():
    body = json.dumps({"user_id": "graceful", "data": {}}).encode()
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:5])
    time.sleep(0.2)
    os.kill(PID, signal.SIGTERM)
    time.sleep(0.3)
    s.sendall(body[5:])
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk or b"\r\n\r\n" in reply and b"}" in reply:
            reply += chunk
            break
        reply += chunk
    s.close()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
    for _ in range(50):
        try:
            os.kill(PID, 0)
        except ProcessLookupError:
            break
        try:
            if os.waitpid(PID, os.WNOHANG) != (0, 0):
                break
        except ChildProcessError:
            pass
        time.sleep(0.1)
    stat = open(f"/proc/{PID}/stat").read().split() if os.path.exists(f"/proc/{PID}/stat") else ["", "", "X"]
    assert stat[2] in ("Z", "X"), f"sessiond still running after SIGTERM (state {stat[2]})"


def compare(fast, router, context):
    """Status, headers that matter and body of a fast-path answer equal the router's."""
    assert fast[0] == router[0], (context, fast, router)
    for name in ("content-type", "cache-control", "etag", "www-authenticate", "connection", "retry-after"):
        assert fast[1].get(name) == router[1].get(name), (context, name, fast[1], router[1])
    assert fast[2] == router[2], (context, fast, router)


def test_parity_forbidden_scopes_and_redis_down():
    token = create("parity-403")
    writer = {"Authorization": f"Bearer {WRITER_KEY}"}
    auth = {"Authorization": f"Bearer {KEY}"}
    json_type = {"Content-Type": "application/json"}
    # 403: a key with sessions:write but not sessions:create may not mint a session.
    for port_pair in ((PORT, ROUTER_PORT), (DOWN_PORT, DOWN_ROUTER_PORT)):
        request_bytes = http_request("POST", "/v1/sessions", {**writer, **json_type}, b'{"user_id":"not-mine"}')
        fast = responses(request_bytes, 1, port=port_pair[0])[0]
        router = responses(request_bytes, 1, port=port_pair[1])[0]
        assert fast[0] == 403, fast
        compare(fast, router, "403 create")
    # 503 with Redis down, on both paths, for resolve and create.
    for method, path, headers, body in [
        ("GET", "/v1/session", {**auth, "X-Session-Token": token}, b""),
        ("POST", "/v1/sessions", {**auth, **json_type}, b'{"user_id":"down"}'),
    ]:
        fast = responses(http_request(method, path, headers, body), 1, port=DOWN_PORT)[0]
        router = responses(http_request(method, path, headers, body), 1, port=DOWN_ROUTER_PORT)[0]
        assert fast[0] == 503, fast
        compare(fast, router, f"503 {method} {path}")


def read_until_closed(sock, wait):
    sock.settimeout(wait)
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received, True
            received += chunk
    except socket.timeout:
        return received, False


def test_parity_http10_and_connection_close():
    token = create("parity-http10")
    head = f"GET /v1/session HTTP/1.0\r\nAuthorization: Bearer {KEY}\r\nX-Session-Token: {token}\r\n"
    results = {}
    for name, port in (("fast", PORT), ("router", ROUTER_PORT)):
        # HTTP/1.0 without keep-alive: one answer, then the server closes.
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall((head + "\r\n").encode())
        plain, closed = read_until_closed(s, 3)
        s.close()
        assert closed and b" 200 " in plain.split(b"\r\n")[0], (name, plain[:120])
        # HTTP/1.0 with keep-alive: the answer says so and the connection stays for a second request.
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall((head + "Connection: keep-alive\r\n\r\n").encode() * 2)
        kept, closed = read_until_closed(s, 1.0)
        s.close()
        assert kept.count(b"HTTP/1.") == 2, (name, kept[:300])
        # Connection: close, then a pipelined create in the same packet: the create must not run.
        user = f"pipelined-after-close-{name}-{time.monotonic_ns()}"
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall(http_request("GET", "/v1/session", {"Authorization": f"Bearer {KEY}", "X-Session-Token": token, "Connection": "close"})
                  + http_request("POST", "/v1/sessions", {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
                                 json.dumps({"user_id": user}).encode()))
        closing, closed = read_until_closed(s, 3)
        s.close()
        assert closed and closing.count(b"HTTP/1.") == 1, (name, closing[:300])
        time.sleep(0.2)
        status, payload = request("GET", f"/v1/users/{user}/sessions")
        assert status == 200 and json.loads(payload)["sessions"] == [], (name, payload)
        def heads(raw_reply):
            parsed = []
            for part in raw_reply.split(b"HTTP/1.")[1:]:
                lines = part.split(b"\r\n\r\n")[0].decode().split("\r\n")
                fields = dict((l.split(":", 1)[0].lower(), l.split(":", 1)[1].strip()) for l in lines[1:])
                parsed.append((lines[0].split()[1], fields.get("connection"), fields.get("content-type")))
            return parsed
        results[name] = (heads(plain), heads(kept), heads(closing))
    assert results["fast"] == results["router"], results


def log_lines(path, marker):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line for line in f if marker in line]


def fields_of(line):
    """The key=value fields of a log line, without the timestamp and the message."""
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def metric(port, name, labels):
    status, body = request("GET", "/metrics", port=port)
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_parity_log_lines_and_metrics():
    token = create("parity-log")
    auth = {"Authorization": f"Bearer {KEY}", "X-Session-Token": token}
    labels = {"method": "GET", "route": "/v1/session", "status": "200"}
    count = "sessiond_http_request_duration_seconds_count"
    before = {port: metric(port, count, labels) for port in (PORT, ROUTER_PORT)}
    for port in (PORT, ROUTER_PORT):
        for _ in range(3):
            assert responses(http_request("GET", "/v1/session", auth), 1, port=port)[0][0] == 200
    time.sleep(0.5)
    for port in (PORT, ROUTER_PORT):
        assert metric(port, count, labels) - before[port] == 3, (port, before[port], metric(port, count, labels))
    fast_lines = [fields_of(l) for l in log_lines(LOG, "http.route=/v1/session ") if "http.status=200" in l]
    router_lines = [fields_of(l) for l in log_lines(ROUTER_LOG, "http.route=/v1/session ") if "http.status=200" in l]
    assert fast_lines and router_lines
    fast, router = fast_lines[-1], router_lines[-1]
    assert set(fast) == set(router), (fast, router)
    for name in ("http.method", "http.route", "http.status", "caller"):
        assert fast[name] == router[name], (name, fast, router)
    # Hummingbird's ids (router) do not zero-pad their random half: up to 32 hex digits; the fast path's always 32.
    assert len(fast["hb.request.id"]) == 32 and 17 <= len(router["hb.request.id"]) <= 32, (fast, router)
    assert all(c in "0123456789abcdef" for c in fast["hb.request.id"] + router["hb.request.id"]), (fast, router)
    ids = [l["hb.request.id"] for l in fast_lines[-3:]]
    assert len(set(ids)) == 3, ids


def test_a_create_whose_client_hangs_up_is_still_logged_and_counted():
    labels = {"method": "POST", "route": "/v1/sessions", "status": "201"}
    count = "sessiond_http_request_duration_seconds_count"
    for port, path in ((PORT, LOG), (ROUTER_PORT, ROUTER_LOG)):
        before_metric = metric(port, count, labels)
        before_lines = len(log_lines(path, "http.route=/v1/sessions "))
        user = f"hangup-{port}-{time.monotonic_ns()}"
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall(http_request("POST", "/v1/sessions", {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
                               json.dumps({"user_id": user}).encode()))
        s.close()  # gone before the answer
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and metric(port, count, labels) == before_metric:
            time.sleep(0.1)
        assert metric(port, count, labels) == before_metric + 1, port
        # The access log is written in batches every few milliseconds.
        while time.monotonic() < deadline and len(log_lines(path, "http.route=/v1/sessions ")) == before_lines:
            time.sleep(0.05)
        assert len(log_lines(path, "http.route=/v1/sessions ")) == before_lines + 1, port
        status, payload = request("GET", f"/v1/users/{user}/sessions")
        assert len(json.loads(payload)["sessions"]) == 1, payload


def test_slow_request_heads_are_cut_off_at_the_read_timeout():
    """A head that arrives one line per second after an idle spell: closed at its read deadline,
    with the default timeouts (the router twin) and with short ones."""
    results = {}
    def probe(port, read_timeout):
        s = socket.create_connection((HOST, port), timeout=30)
        time.sleep(1.5)  # idle first: the connection's timer is set for the idle timeout
        start = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        closed_after = None
        s.settimeout(1.0)
        while time.monotonic() - start < read_timeout + 6:
            try:
                if s.recv(1) == b"":
                    closed_after = time.monotonic() - start
                    break
            except socket.timeout:
                pass
            except OSError:
                closed_after = time.monotonic() - start
                break
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed_after = time.monotonic() - start
                break
        s.close()
        results[port] = closed_after
    threads = [threading.Thread(target=probe, args=args) for args in ((ROUTER_PORT, DEFAULT_READ_TIMEOUT), (PORT, READ_TIMEOUT))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for port, read_timeout in ((ROUTER_PORT, DEFAULT_READ_TIMEOUT), (PORT, READ_TIMEOUT)):
        assert results[port] is not None, f"port {port}: never closed"
        assert read_timeout - 0.5 <= results[port] <= read_timeout + 1.5, (port, results[port])


def test_sighup_reloads_the_keys_without_dropping_a_request():
    new_key = "rotated-" + os.urandom(24).hex()
    original = open(KEYS_FILE).read()
    stop = threading.Event()
    failures, served = [], [0]
    def load():
        conn = http.client.HTTPConnection(HOST, PORT, timeout=5)
        while not stop.is_set():
            conn.request("GET", "/healthz")
            r = conn.getresponse(); r.read()
            conn.request("GET", "/v1/users/sighup/sessions", headers={"Authorization": f"Bearer {KEY}"})
            r = conn.getresponse(); r.read()
            if r.status != 200:
                failures.append(r.status)
            served[0] += 1
        conn.close()
    worker = threading.Thread(target=load)
    worker.start()
    try:
        # Add a key: it works after SIGHUP, the old ones keep working throughout.
        assert request("GET", "/v1/users/sighup/sessions", headers={"Authorization": f"Bearer {new_key}"})[0] == 401
        with open(KEYS_FILE, "w") as f:
            f.write(original + f"rotated sessions:read,sessions:admin {new_key}\n")
        os.kill(PID, signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if request("GET", "/v1/users/sighup/sessions", headers={"Authorization": f"Bearer {new_key}"})[0] == 200:
                break
            time.sleep(0.1)
        assert request("GET", "/v1/users/sighup/sessions", headers={"Authorization": f"Bearer {new_key}"})[0] == 200
        # The fast path reads the same keys: a resolve with the new key is answered there too.
        token = create("sighup")
        status, _ = request("GET", "/v1/session", headers={"Authorization": f"Bearer {new_key}", "X-Session-Token": token})
        assert status == 200, status
        # A bad file (a short secret) is refused: the keys in force stay, and the log says why.
        with open(KEYS_FILE, "w") as f:
            f.write(original + "broken sessions:admin short\n")
        os.kill(PID, signal.SIGHUP)
        time.sleep(1.0)
        assert request("GET", "/v1/users/sighup/sessions", headers={"Authorization": f"Bearer {new_key}"})[0] == 200
        assert any("API keys file refused" in l and "at least 32 characters" in l for l in log_lines(LOG, "API keys")), "no refusal logged"
    finally:
        with open(KEYS_FILE, "w") as f:
            f.write(original)
        os.kill(PID, signal.SIGHUP)
        time.sleep(0.5)
        stop.set()
        worker.join()
    assert request("GET", "/v1/users/sighup/sessions", headers={"Authorization": f"Bearer {new_key}"})[0] == 401
    assert request("GET", "/v1/session", headers={"Authorization": f"Bearer {new_key}", "X-Session-Token": create("sighup")})[0] == 401
    assert served[0] > 10 and failures == [], (served[0], failures)


def example(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    conn.request(method, path, body, headers or {})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, dict((k.lower(), v) for k, v in response.getheaders()), payload


def test_examples_teach_the_safe_pattern():
    credentials = json.dumps({"username": "alice", "password": "wonderland"})
    # Login refuses anything but JSON: a cross-site form can send urlencoded or text/plain, not JSON.
    for content_type, body in [("application/x-www-form-urlencoded", "username=alice&password=wonderland"),
                               ("text/plain", credentials), (None, credentials)]:
        status, headers, _ = example(LOGIN_PORT, "POST", "/login", body, {"Content-Type": content_type} if content_type else {})
        assert status == 415 and "set-cookie" not in headers, (content_type, status)
    status, headers, _ = example(LOGIN_PORT, "POST", "/login", credentials, {"Content-Type": "application/json"})
    assert status == 200, status
    cookie = headers["set-cookie"].split(";")[0]
    assert example(ORDERS_PORT, "GET", "/orders", headers={"Cookie": cookie})[0] == 200
    # Logout uses sessiond's clearing cookie, and the session is gone everywhere.
    status, headers, _ = example(LOGIN_PORT, "POST", "/logout", headers={"Cookie": cookie})
    assert status == 204, status
    assert headers["set-cookie"].startswith("__Host-sid=;") and "Max-Age=0" in headers["set-cookie"], headers
    assert example(ORDERS_PORT, "GET", "/orders", headers={"Cookie": cookie})[0] == 401
    # A logout sessiond cannot confirm is reported, and the cookie is kept so the user can retry.
    status, headers, payload = example(LOGIN_DOWN_PORT, "POST", "/logout", headers={"Cookie": cookie})
    assert status == 503 and "set-cookie" not in headers, (status, headers, payload)
    assert json.loads(payload)["error"]["code"] == "logout_failed"


def test_sessiond_over_the_cluster():
    """The whole flow over a 3-primary cluster: users spread over every shard."""
    def spread():
        # Keys landed on every primary (and their replicas).
        import subprocess
        counts = [int(subprocess.run(["redis-cli", "-p", str(port), "dbsize"], capture_output=True, text=True).stdout.strip() or 0)
                  for port in (7100, 7101, 7102, 7103, 7104, 7105)]
        assert sum(1 for c in counts if c > 0) >= 3, counts
    whole_flow(CLUSTER_PORT, "cluster", before_destroying=spread)


def test_sessiond_over_sentinel():
    """The whole flow over the Sentinel set-up's primary."""
    whole_flow(SENTINEL_PORT, "sentinel")


def whole_flow(port, name, before_destroying=lambda: None):
    CLUSTER_PORT = port
    users = [f"{name}-user-{i}-{time.monotonic_ns()}" for i in range(24)]
    tokens = {}
    for user in users:
        tokens[user] = []
        for _ in range(2):
            status, payload = request("POST", "/v1/sessions", json.dumps({"user_id": user, "data": {"u": user}}), port=CLUSTER_PORT)
            assert status == 201, (status, payload)
            tokens[user].append(json.loads(payload)["token"])
    for user in users:
        status, payload = request("GET", "/v1/session", headers={"X-Session-Token": tokens[user][0]}, port=CLUSTER_PORT)
        assert status == 200 and json.loads(payload)["user_id"] == user, (status, payload)
        status, payload = request("POST", "/v1/session/rotate", headers={"X-Session-Token": tokens[user][1]}, port=CLUSTER_PORT)
        assert status == 200, (status, payload)
        tokens[user][1] = json.loads(payload)["token"]
        status, payload = request("GET", f"/v1/users/{user}/sessions", port=CLUSTER_PORT)
        assert status == 200 and len(json.loads(payload)["sessions"]) == 2, payload
    before_destroying()
    for user in users[:12]:
        status, payload = request("DELETE", f"/v1/users/{user}/sessions", port=CLUSTER_PORT)
        assert status == 200 and json.loads(payload)["destroyed"] == 2, payload
        for token in tokens[user]:
            assert request("GET", "/v1/session", headers={"X-Session-Token": token}, port=CLUSTER_PORT)[0] == 404
    for user in users[12:]:
        for token in tokens[user]:
            status, payload = request("DELETE", "/v1/session", headers={"X-Session-Token": token}, port=CLUSTER_PORT)
            assert status == 200 and json.loads(payload)["destroyed"] is True, payload
    assert request("GET", "/readyz", port=CLUSTER_PORT)[0] == 200


TESTS = [
    test_sessiond_over_the_cluster,
    test_sessiond_over_sentinel,
    test_examples_teach_the_safe_pattern,
    test_parity_forbidden_scopes_and_redis_down,
    test_parity_http10_and_connection_close,
    test_parity_log_lines_and_metrics,
    test_a_create_whose_client_hangs_up_is_still_logged_and_counted,
    test_slow_request_heads_are_cut_off_at_the_read_timeout,
    test_sighup_reloads_the_keys_without_dropping_a_request,
    test_slowloris_connection_is_closed_while_healthy_traffic_flows,
    test_content_length_with_transfer_encoding_is_rejected,
    test_oversized_headers_are_rejected,
    test_garbage_leaves_the_process_up,
    test_descriptors_do_not_leak_under_a_connect_storm,
    test_tokens_never_reach_the_log,
    test_fast_path_and_router_answer_alike,
    test_pipelined_requests_are_answered_in_order,
    test_connection_close_and_http10_are_honoured_on_the_fast_path,
    test_idle_connections_close_but_busy_fast_path_connections_stay,
    test_sigterm_lets_the_request_in_flight_finish,  # last: it stops the server
]

if __name__ == "__main__":
    harness.run("live", TESTS)

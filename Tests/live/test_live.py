#!/usr/bin/env python3
"""Live tests against a running sessiond process (started by scripts/live-test.sh):
hostile connections, framing errors, descriptor leaks, graceful shutdown, and logs free of tokens.

Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import http.client, json, os, signal, socket, sys, threading, time, traceback

HOST = "127.0.0.1"
PORT = int(os.environ["SESSIOND_PORT"])
PID = int(os.environ["SESSIOND_PID"])
KEY = os.environ["API_KEY"]
LOG = os.environ["SESSIOND_LOG"]
READ_TIMEOUT = float(os.environ.get("READ_TIMEOUT", "2"))
issued_tokens = []


def request(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=5)
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


TESTS = [
    test_slowloris_connection_is_closed_while_healthy_traffic_flows,
    test_content_length_with_transfer_encoding_is_rejected,
    test_oversized_headers_are_rejected,
    test_garbage_leaves_the_process_up,
    test_descriptors_do_not_leak_under_a_connect_storm,
    test_tokens_never_reach_the_log,
    test_sigterm_lets_the_request_in_flight_finish,  # last: it stops the server
]

if __name__ == "__main__":
    passed = failed = 0
    for test in TESTS:
        try:
            test()
            passed += 1
            print(f"ok   {test.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {test.__name__}")
            traceback.print_exc()
    print(f"live: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

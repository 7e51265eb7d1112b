#!/usr/bin/env python3
"""Live tests of OAuth 2.0 client credentials against two running sessiond replicas sharing one
Redis (8097 fast path, 8098 router), one whose Redis is down, and the example login service (which
authenticates with client credentials). An independent OAuth client library (Authlib) obtains and
uses a token. Started by scripts/live-test.sh; prints 'N passed, N failed'.
"""
import base64, http.client, json, os, signal, subprocess, time, urllib.parse
import harness  # Tests/live/harness.py

from authlib.integrations.requests_client import OAuth2Session

HOST = "127.0.0.1"
PORT = int(os.environ["SESSIOND_PORT"])
REPLICA_PORT = int(os.environ["REPLICA_PORT"])
PIDS = [int(os.environ["SESSIOND_PID"]), int(os.environ["REPLICA_PID"])]
KEY = os.environ["API_KEY"]  # key "live", all scopes
READER_NAME, READER_SECRET = "reader", os.environ["READER_SECRET"]  # sessions:read only; secret has : % +
KEYS_FILE = os.environ["KEYS_FILE"]
DOWN_PORT = int(os.environ["DOWN_PORT"])
LOGIN_PORT = int(os.environ["LOGIN_PORT"])
REDIS_PORT = urllib.parse.urlparse(os.environ["REDIS_URL"]).port or 6379
LOGS = os.environ["LOGS"].split()
seen_tokens = []


def call(method, path, body=None, headers=None, port=None):
    conn = http.client.HTTPConnection(HOST, port or PORT, timeout=10)
    conn.request(method, path, body, headers or {})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, dict((k.lower(), v) for k, v in response.getheaders()), payload


def basic(client_id, secret):
    pair = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
    return "Basic " + base64.b64encode(pair.encode()).decode()


def token_request(client_id, secret, body="grant_type=client_credentials", port=None, headers=None):
    return call("POST", "/oauth2/token", body, {"Authorization": basic(client_id, secret),
                                                 "Content-Type": "application/x-www-form-urlencoded", **(headers or {})}, port=port)


def mint(client_id, secret, scope=None, port=None):
    body = "grant_type=client_credentials" + (f"&scope={urllib.parse.quote(scope)}" if scope else "")
    status, headers, payload = token_request(client_id, secret, body, port=port)
    assert status == 200, (status, payload)
    assert headers["cache-control"] == "no-store" and headers["pragma"] == "no-cache", headers
    token = json.loads(payload)["access_token"]
    seen_tokens.append(token)
    return token


def bearer(token, extra=None):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(extra or {})}


def create_session(user):
    status, _, payload = call("POST", "/v1/sessions", json.dumps({"user_id": user}), bearer(KEY))
    assert status == 201, (status, payload)
    return json.loads(payload)["token"]


def log_lines(path, marker):
    with open(path) as f:
        return [line for line in f if marker in line]


def test_an_independent_oauth_client_obtains_and_uses_a_token():
    # Authlib sends client_secret_basic without RFC 6749's form-urlencoding; sessiond accepts both
    # spellings (the RFC one is tested below with the same secret, which has ':', '%' and '+').
    session = OAuth2Session(READER_NAME, READER_SECRET, token_endpoint_auth_method="client_secret_basic")
    token = session.fetch_token(f"http://{HOST}:{PORT}/oauth2/token", grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["expires_in"] == 600 and token["scope"] == "sessions:read", token
    seen_tokens.append(token["access_token"])
    session_token = create_session("oauth-interop")
    response = session.get(f"http://{HOST}:{PORT}/v1/session", headers={"X-Session-Token": session_token})
    assert response.status_code == 200 and response.json()["user_id"] == "oauth-interop", response.text
    # The reader's token lacks sessions:admin and sessions:create.
    assert session.get(f"http://{HOST}:{REPLICA_PORT}/v1/users/oauth-interop/sessions").status_code == 403
    response = session.post(f"http://{HOST}:{PORT}/v1/sessions", json={"user_id": "x"})
    assert response.status_code == 403, response.status_code
    # The metadata document points a generic client at every endpoint.
    assert mint(READER_NAME, READER_SECRET)  # the RFC spelling, by hand
    status, _, payload = call("GET", "/.well-known/oauth-authorization-server")
    metadata = json.loads(payload)
    assert status == 200 and metadata["grant_types_supported"] == ["client_credentials"], metadata
    assert metadata["token_endpoint"].endswith("/oauth2/token") and metadata["jwks_uri"].endswith("/.well-known/jwks.json")


def test_a_token_caller_gets_the_same_answers_and_log_lines_on_the_fast_path_and_the_router():
    token = mint("live", KEY, scope="sessions:read")
    session_token = create_session("oauth-parity")
    marker = f"oauth-parity-{time.monotonic_ns()}"
    answers = []
    for port in (PORT, REPLICA_PORT):
        status, headers, payload = call("GET", "/v1/session", headers={**bearer(token), "X-Session-Token": session_token, "X-Marker": marker}, port=port)
        answers.append((status, json.loads(payload)["handle"]))
    assert answers[0] == answers[1] and answers[0][0] == 200, answers
    # A create by a token caller (the fast path takes it too) and a create the token's scope lacks.
    creator = mint("live", KEY, scope="sessions:create")
    creates = []
    for port in (PORT, REPLICA_PORT):
        status, headers, payload = call("POST", "/v1/sessions", json.dumps({"user_id": "oauth-parity"}), bearer(creator), port=port)
        creates.append((status, sorted(json.loads(payload)), headers.get("cache-control")))
        status, headers, payload = call("POST", "/v1/sessions", json.dumps({"user_id": "oauth-parity"}), bearer(token), port=port)
        creates.append((status, json.loads(payload)["error"]["code"], headers.get("cache-control")))
    assert creates[0] == creates[2] and creates[1] == creates[3], creates
    assert creates[0][0] == 201 and creates[1][:2] == (403, "forbidden"), creates
    time.sleep(0.5)
    for path in LOGS[:2]:
        lines = [line for line in open(path) if "http.route=/v1/session " in line and "http.status=200" in line]
        assert any("caller=live " in line for line in lines[-20:]), f"{path}: no line names the token's client"


def clear_counters():
    for key in subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "--scan", "--pattern", "live:oauth:f:*"], capture_output=True, text=True).stdout.split():
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "DEL", key], capture_output=True)


def test_the_eleventh_failure_answers_429_on_a_second_replica_too():
    clear_counters()  # a fresh window: every failure below is this test's
    try:
        for attempt in range(10):
            status, headers, payload = token_request("live", f"wrong-secret-{attempt}-0123456789abcdefghijkl", port=PORT)
            assert status == 401 and json.loads(payload)["error"] == "invalid_client", (attempt, status, payload)
            assert headers["www-authenticate"] == 'Basic realm="sessiond"'
        # The right secret, on the other replica: the shared counter says no.
        status, headers, payload = token_request("live", KEY, port=REPLICA_PORT)
        assert status == 429 and json.loads(payload)["error"] == "too_many_requests", (status, payload)
        assert 1 <= int(headers["retry-after"]) <= 60, headers
        # Every counter has a TTL, and none names the client or the address.
        keys = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "--scan", "--pattern", "live:oauth:f:*"], capture_output=True, text=True).stdout.split()
        assert keys and all("live:oauth:f:" in k and "127.0.0.1" not in k and "live" not in k[len("live:oauth:f:"):] for k in keys), keys
        for key in keys:
            ttl = int(subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "PTTL", key], capture_output=True, text=True).stdout)
            assert 0 < ttl <= 60_000, (key, ttl)
    finally:
        # Lift the lock-out so that the tests after this one (all from 127.0.0.1) can authenticate.
        clear_counters()


def test_behind_a_trusted_proxy_one_attacker_does_not_lock_out_the_others():
    # The router replica trusts X-Forwarded-For from loopback (--trusted-proxies), as a replica behind
    # a load balancer would; the fast-path replica trusts nobody. Counters are shared in Redis.
    clear_counters()
    def attempt(client_id, secret, forwarded_for, port):
        return token_request(client_id, secret, port=port, headers={"X-Forwarded-For": forwarded_for})[0]
    try:
        # Ten guesses from one client, each for another client id: only its address counter fills.
        for guess in range(10):
            assert attempt(f"guess-{guess}", "wrong-0123456789abcdefghijklmnopq", "203.0.113.7", REPLICA_PORT) == 401
        assert attempt("live", KEY, "203.0.113.7", REPLICA_PORT) == 429
        # A forged entry left of the proxy's does not move the attacker to a fresh counter.
        assert attempt("live", KEY, "198.51.100.9, 203.0.113.7", REPLICA_PORT) == 429
        # Another client behind the same proxy, and the replica that counts the TCP peer: not locked out.
        assert attempt("live", KEY, "198.51.100.9", REPLICA_PORT) == 200
        assert attempt("live", KEY, "203.0.113.7", PORT) == 200
        # A sessiond that trusts no proxy ignores the header: ten guesses lock out the peer.
        for guess in range(10):
            assert attempt(f"guess-{guess}", "wrong-0123456789abcdefghijklmnopq", f"192.0.2.{guess}", PORT) == 401
        assert attempt("live", KEY, "192.0.2.99", PORT) == 429
    finally:
        clear_counters()


def test_a_malformed_trusted_proxy_stops_the_start_with_one_line():
    result = subprocess.run(
        [".build/debug/sessiond", "--api-keys-file", KEYS_FILE, "--listen", "127.0.0.1:0", "--trusted-proxies", "10.0.0.0/8,lb.internal"],
        capture_output=True, text=True, timeout=20,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "trusted proxy 'lb.internal'" in lines[0], result.stderr
    assert lines[0].count("invalid configuration") == 1, lines[0]  # said once, not wrapped twice


def test_revoke_on_one_replica_is_refused_on_the_other_at_once():
    token = mint("live", KEY)
    status, _, _ = call("GET", "/v1/users/nobody/sessions", headers=bearer(token), port=REPLICA_PORT)
    assert status == 200
    body = urllib.parse.urlencode({"token": token, "token_type_hint": "access_token"})
    status, _, payload = call("POST", "/oauth2/revoke", body, {"Authorization": basic("live", KEY), "Content-Type": "application/x-www-form-urlencoded"}, port=PORT)
    assert status == 200, (status, payload)
    for port in (REPLICA_PORT, PORT):
        status, headers, payload = call("GET", "/v1/users/nobody/sessions", headers=bearer(token), port=port)
        assert status == 401 and headers["www-authenticate"] == "Bearer", (port, status, payload)
        status, _, _ = call("GET", "/v1/session", headers={**bearer(token), "X-Session-Token": create_session("rv")}, port=port)
        assert status == 401, (port, status)  # the fast path refuses it too
    status, _, payload = call("POST", "/oauth2/introspect", urllib.parse.urlencode({"token": token}),
                              {"Authorization": basic("live", KEY), "Content-Type": "application/x-www-form-urlencoded"}, port=REPLICA_PORT)
    assert json.loads(payload) == {"active": False}, payload
    # The deny-list entry lives exactly as long as the token would have.
    jti = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))["jti"]
    ttl = int(subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "PTTL", f"live:oauth:r:{jti}"], capture_output=True, text=True).stdout)
    assert 590_000 < ttl <= 600_000, ttl


def test_a_key_removed_by_a_reload_takes_its_tokens_with_it():
    original = open(KEYS_FILE).read()
    token = mint(READER_NAME, READER_SECRET)
    session_token = create_session("reload-user")
    assert call("GET", "/v1/session", headers={**bearer(token), "X-Session-Token": session_token}, port=PORT)[0] == 200
    try:
        with open(KEYS_FILE, "w") as f:
            f.write("".join(line for line in original.splitlines(True) if not line.startswith(READER_NAME + " ")))
        for pid in PIDS:
            os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)
        for port in (PORT, REPLICA_PORT):
            status, _, _ = call("GET", "/v1/session", headers={**bearer(token), "X-Session-Token": session_token}, port=port)
            assert status == 401, (port, status)
    finally:
        with open(KEYS_FILE, "w") as f:
            f.write(original)
        for pid in PIDS:
            os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)
    assert call("GET", "/v1/session", headers={**bearer(mint(READER_NAME, READER_SECRET)), "X-Session-Token": session_token})[0] == 200


def test_the_login_example_works_with_client_credentials():
    status, headers, payload = call("POST", "/login", json.dumps({"username": "bob", "password": "builder"}),
                                    {"Content-Type": "application/json"}, port=LOGIN_PORT)
    assert status == 200 and "set-cookie" in headers, (status, payload)
    cookie = headers["set-cookie"].split(";")[0]
    status, _, _ = call("GET", "/v1/session", headers={**bearer(KEY), "Cookie": cookie})
    assert status == 200
    # Its requests carry tokens, never its secret: the log names it, and no line holds a token.
    assert any("caller=live" in line and "/v1/sessions" in line for line in open(LOGS[0]))


def test_redis_down_is_503_and_never_a_token():
    status, headers, payload = token_request("live", KEY, port=DOWN_PORT)
    assert status == 503 and b"access_token" not in payload, (status, payload)
    assert json.loads(payload)["error"] == "store_unavailable" and headers["retry-after"] == "1"


def test_no_client_token_or_secret_in_logs():
    assert seen_tokens
    for path in LOGS:
        text = open(path, "rb").read()
        for token in seen_tokens:
            assert token.split(".")[2].encode() not in text, f"{path} holds a token"
        for secret in (KEY, READER_SECRET):
            assert secret.encode() not in text, f"{path} holds a client secret"


TESTS = [
    test_an_independent_oauth_client_obtains_and_uses_a_token,
    test_a_token_caller_gets_the_same_answers_and_log_lines_on_the_fast_path_and_the_router,
    test_revoke_on_one_replica_is_refused_on_the_other_at_once,
    test_a_key_removed_by_a_reload_takes_its_tokens_with_it,
    test_the_login_example_works_with_client_credentials,
    test_redis_down_is_503_and_never_a_token,
    test_a_malformed_trusted_proxy_stops_the_start_with_one_line,
    test_the_eleventh_failure_answers_429_on_a_second_replica_too,
    test_behind_a_trusted_proxy_one_attacker_does_not_lock_out_the_others,
    test_no_client_token_or_secret_in_logs,
]

if __name__ == "__main__":
    harness.run("oauth", TESTS)

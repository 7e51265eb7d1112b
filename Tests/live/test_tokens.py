#!/usr/bin/env python3
"""Live tests of the access tokens against running processes (started by scripts/live-test.sh):
two sessiond replicas sharing one Redis (8097 fast path, 8098 router), a sessiond without signing
keys, one whose Redis is down, the example services and nginx as the gateway in front of them.

Tokens are checked with PyJWT, a JOSE implementation that is not ours.
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import base64, concurrent.futures, http.client, json, os, signal, subprocess, threading, time, urllib.parse
import harness  # Tests/live/harness.py

import jwt  # PyJWT
from jwt import PyJWKSet

HOST = "127.0.0.1"
PORT = int(os.environ["SESSIOND_PORT"])
REPLICA_PORT = int(os.environ["REPLICA_PORT"])
PIDS = [int(os.environ["SESSIOND_PID"]), int(os.environ["REPLICA_PID"])]
KEY = os.environ["API_KEY"]
GATEWAY_KEY = os.environ["GATEWAY_KEY"]
NO_TOKENS_PORT = int(os.environ["NO_TOKENS_PORT"])
DOWN_PORT = int(os.environ["DOWN_PORT"])
GATEWAY_PORT = int(os.environ["GATEWAY_PORT"])
ISSUER = os.environ["ISSUER"]
SIGNING_DIR = os.environ["SIGNING_DIR"]
LOGS = os.environ["LOGS"].split()
REDIS_PORT = urllib.parse.urlparse(os.environ["REDIS_URL"]).port or 6379
JWKS_MAX_AGE = 2
minted = []  # every JWT this run saw, for the at-rest and log checks


def call(method, path, body=None, headers=None, port=None, key=KEY):
    conn = http.client.HTTPConnection(HOST, port or PORT, timeout=10)
    all_headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})}
    conn.request(method, path, body, all_headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, dict((k.lower(), v) for k, v in response.getheaders()), payload


def create(user, data=None, port=None):
    status, _, payload = call("POST", "/v1/sessions", json.dumps({"user_id": user, "data": data or {"name": user.title()}}), port=port)
    assert status == 201, (status, payload)
    return json.loads(payload)["token"]


def exchange(token, audience="orders", ttl=None, port=None):
    body = {"audience": audience, **({"ttl": ttl} if ttl else {})}
    status, headers, payload = call("POST", "/v1/session/token", json.dumps(body), {"X-Session-Token": token}, port=port)
    if status == 200:
        minted.append(json.loads(payload)["access_token"])
    return status, headers, payload


def introspect(access_token, port=None):
    body = urllib.parse.urlencode({"token": access_token, "token_type_hint": "access_token"})
    status, _, payload = call("POST", "/oauth2/introspect", body, {"Content-Type": "application/x-www-form-urlencoded"}, port=port)
    return status, (json.loads(payload) if payload else None)


def jwks(port=None):
    status, headers, payload = call("GET", "/.well-known/jwks.json", key=None, port=port)
    assert status == 200, status
    return json.loads(payload), headers


class CachingVerifier:
    """What a gateway or service does with PyJWT: cache the JWKS for its max-age, refetch on an unknown kid."""

    def __init__(self, port, refetch_on_unknown_kid=True):
        self.port, self.keys, self.fresh_until = port, {}, 0
        self.refetch_on_unknown_kid = refetch_on_unknown_kid

    def fetch(self):
        document, headers = jwks(self.port)
        max_age = int(headers["cache-control"].split("max-age=")[1])
        self.keys = {k.key_id: k for k in PyJWKSet.from_dict(document).keys}
        self.fresh_until = time.monotonic() + max_age

    def verify(self, token, audience="orders"):
        if time.monotonic() >= self.fresh_until:
            self.fetch()
        kid = jwt.get_unverified_header(token)["kid"]
        if kid not in self.keys and self.refetch_on_unknown_kid:
            self.fetch()
        return jwt.decode(token, self.keys[kid].key, algorithms=["ES256", "EdDSA"], audience=audience, issuer=ISSUER,
                          options={"require": ["exp", "iat", "sub", "jti"]})


def test_tokens_verify_with_an_independent_jose_library():
    token = create("interop-user", {"name": "Ada", "email": "ada@example.com"})
    status, headers, payload = exchange(token, ttl=90)
    assert status == 200 and headers["cache-control"] == "no-store", (status, headers)
    body = json.loads(payload)
    assert set(body) == {"access_token", "token_type", "expires_in", "issued_token_type"}, body
    assert body["token_type"] == "Bearer" and body["expires_in"] == 90
    access_token = body["access_token"]
    header = jwt.get_unverified_header(access_token)
    assert header == {"alg": "ES256", "typ": "at+jwt", "kid": "live-a"}, header
    claims = CachingVerifier(PORT).verify(access_token)
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "jti", "sid", "client_id", "name"}, claims  # no email: not in --token-claims
    assert claims["sub"] == "interop-user" and claims["aud"] == "orders" and claims["client_id"] == "live" and claims["name"] == "Ada"
    assert claims["exp"] - claims["iat"] == 90
    document, headers = jwks()
    assert headers["content-type"] == "application/jwk-set+json" and headers["cache-control"] == f"public, max-age={JWKS_MAX_AGE}"
    private_members = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}
    assert all(not (set(k) & private_members) for k in document["keys"]), document
    status, _, _ = call("GET", "/.well-known/jwks.json", key=None, headers={"If-None-Match": headers["etag"]})
    assert status == 304
    # The replica (router path) verifies and introspects the same token.
    status, active = introspect(access_token, port=REPLICA_PORT)
    assert status == 200 and active["active"] is True and active["sub"] == "interop-user", active


def forge(claims, header, key=None):
    signing_input = (base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=") + b"." +
                     base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"="))
    return (signing_input + b"." + base64.urlsafe_b64encode(key(signing_input) if key else b"").rstrip(b"=")).decode()


def test_sessiond_introspection_refuses_forgeries_made_by_someone_else():
    import hmac, hashlib
    from cryptography.hazmat.primitives.asymmetric import ec
    token = create("forgery-user")
    _, _, payload = exchange(token)
    good = json.loads(payload)["access_token"]
    claims = jwt.decode(good, options={"verify_signature": False})
    public_jwk = json.dumps(jwks()[0]["keys"][0]).encode()
    stranger = ec.generate_private_key(ec.SECP256R1())

    def es256(key):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        def sign(data):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return sign

    base = {"alg": "ES256", "typ": "at+jwt", "kid": "live-a"}
    forgeries = {
        "alg none": forge(claims, {**base, "alg": "none"}),
        "HS256 keyed with the public key": forge(claims, {**base, "alg": "HS256"}, lambda d: hmac.new(public_jwk, d, hashlib.sha256).digest()),
        "unknown kid": forge(claims, {**base, "kid": "nope"}, es256(stranger)),
        "missing kid": forge(claims, {"alg": "ES256", "typ": "at+jwt"}, es256(stranger)),
        "unpublished key": forge(claims, base, es256(stranger)),
        "typ JWT": forge(claims, {**base, "typ": "JWT"}, es256(stranger)),
        "crit": forge(claims, {**base, "crit": ["exp"]}, es256(stranger)),
    }
    for name, forged in forgeries.items():
        status, body = introspect(forged)
        assert status == 200 and body == {"active": False}, (name, status, body)
    assert introspect(good)[1]["active"] is True


def test_gateway_flow_through_nginx():
    credentials = json.dumps({"username": "alice", "password": "wonderland"})
    status, headers, payload = call("POST", "/login", credentials, port=GATEWAY_PORT, key=None)
    assert status == 200, (status, payload)
    cookie = headers["set-cookie"].split(";")[0]
    resolves_before = route_count(PORT, "/v1/session")
    for _ in range(5):
        status, _, payload = call("GET", "/orders", headers={"Cookie": cookie}, port=GATEWAY_PORT, key=None)
        assert status == 200, (status, payload)
        reply = json.loads(payload)
        assert reply["greeting"] == "Hello, Alice!" and reply["user_id"] == "alice" and reply["via"] == "access_token", reply
    # orders checked the JWT itself: sessiond saw no resolve for those requests.
    assert route_count(PORT, "/v1/session") == resolves_before, "orders called sessiond"
    # Capture a JWT the way the gateway gets one, before the purge.
    status, headers, _ = call("GET", "/v1/auth?audience=orders", headers={"Cookie": cookie}, key=GATEWAY_KEY)
    assert status == 200
    captured = headers["authorization"].split(" ", 1)[1]
    minted.append(captured)
    assert introspect(captured)[1]["active"] is True
    status, _, _ = call("DELETE", "/v1/users/alice/sessions", port=REPLICA_PORT)
    assert status == 200
    status, headers, payload = call("GET", "/orders", headers={"Cookie": cookie}, port=GATEWAY_PORT, key=None)
    assert status == 401, (status, payload)
    assert introspect(captured) == (200, {"active": False})
    # No cookie at all: 401 from the gateway too; a client's own Authorization header is replaced.
    assert call("GET", "/orders", port=GATEWAY_PORT, key=None)[0] == 401
    assert call("GET", "/orders", headers={"Authorization": f"Bearer {captured}"}, port=GATEWAY_PORT, key=None)[0] == 401


def route_count(port, route):
    _, _, payload = call("GET", "/metrics", key=None, port=port)
    total = 0
    for line in payload.decode().splitlines():
        if line.startswith("sessiond_http_request_duration_seconds_count{") and f'route="{route}"' in line and 'method="GET"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_revocation_is_seen_by_every_replica_at_once():
    user = f"revoke-{time.monotonic_ns()}"
    token = create(user)
    status, _, payload = exchange(token, port=PORT)
    access_token = json.loads(payload)["access_token"]
    assert introspect(access_token, port=REPLICA_PORT)[1]["active"] is True
    assert call("DELETE", f"/v1/users/{user}/sessions", port=REPLICA_PORT)[0] == 200
    assert introspect(access_token, port=PORT) == (200, {"active": False})
    assert introspect(access_token, port=REPLICA_PORT) == (200, {"active": False})
    status, _, payload = exchange(token, port=PORT)
    assert status == 404 and json.loads(payload)["error"]["code"] == "session_not_found", (status, payload)


def test_exchanges_racing_a_purge_leave_no_active_token():
    user = f"race-{time.monotonic_ns()}"
    token = create(user)
    issued = []
    lock = threading.Lock()

    def one(i):
        status, _, payload = exchange(token, port=PORT if i % 2 else REPLICA_PORT)
        if status == 200:
            with lock:
                issued.append(json.loads(payload)["access_token"])
        return status

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(one, i) for i in range(100)]
        time.sleep(0.05)
        assert call("DELETE", f"/v1/users/{user}/sessions", port=REPLICA_PORT)[0] == 200
        statuses = [f.result() for f in futures]
    assert set(statuses) <= {200, 404}, statuses
    assert issued, "no exchange won the race; the test proves nothing"
    for access_token in issued:
        assert introspect(access_token, port=PORT) == (200, {"active": False})


def test_rotation_from_key_a_to_b_across_two_replicas_never_fails_a_verification():
    keys_file = os.path.join(SIGNING_DIR, "keys")
    original = open(keys_file).read()
    token = create(f"rotation-{time.monotonic_ns()}")
    # This verifier only refetches when its cached set expires (max-age), never for an unknown kid:
    # only the publish-ahead rule keeps it from failing.
    verifier = CachingVerifier(PORT, refetch_on_unknown_kid=False)
    failures, kids, stop = [], [], threading.Event()
    captured_a = []

    def loop():
        i = 0
        while not stop.is_set():
            port = PORT if i % 2 else REPLICA_PORT
            i += 1
            status, _, payload = exchange(token, port=port)
            if status != 200:
                failures.append(("exchange", status))
                continue
            access_token = json.loads(payload)["access_token"]
            kid = jwt.get_unverified_header(access_token)["kid"]
            kids.append(kid)
            if kid == "live-a" and not captured_a:
                captured_a.append(access_token)
            try:
                verifier.verify(access_token)
            except Exception as error:  # noqa: BLE001
                failures.append(("verify", kid, repr(error)))
            if introspect(access_token, port=REPLICA_PORT if port == PORT else PORT)[1].get("active") is not True:
                failures.append(("introspect", kid))
            time.sleep(0.02)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        time.sleep(1)
        # B signs from 3 s from now: more than the JWKS max-age, so every cache learns it first.
        b_from = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 + JWKS_MAX_AGE))
        with open(keys_file, "w") as f:
            f.write(original + f"live-b EdDSA {b_from} - live-b.pem\n")
        hup()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (not kids or kids[-1] != "live-b"):
            time.sleep(0.1)
        assert kids and kids[-1] == "live-b", "B never started signing"
        time.sleep(1)
        # A retires: removed from the file, it is published no more.
        with open(keys_file, "w") as f:
            f.write(f"live-b EdDSA {b_from} - live-b.pem\n")
        hup()
        time.sleep(JWKS_MAX_AGE + 1)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures[:5]
    assert "live-a" in kids and "live-b" in kids, set(kids)
    assert all(k == "live-b" for k in kids[kids.index("live-b"):]), "a replica signed with A after B took over"
    # A token signed by A is refused once A is no longer published: by sessiond and by a fresh verifier.
    assert introspect(captured_a[0]) == (200, {"active": False})
    try:
        CachingVerifier(PORT).verify(captured_a[0])
        raise AssertionError("a token of the retired key still verified")
    except KeyError:
        pass
    # A file that breaks the rules is refused on SIGHUP and the keys in force stay.
    with open(keys_file, "w") as f:
        f.write("live-b EdDSA not-a-date - live-b.pem\n")
    hup()
    time.sleep(0.5)
    assert exchange(token)[0] == 200
    with open(keys_file, "w") as f:
        f.write(original)  # back to A for the other tests
    hup()
    time.sleep(0.5)


def hup():
    for pid in PIDS:
        os.kill(pid, signal.SIGHUP)


def test_redis_down_is_503_never_a_token_and_never_inactive():
    token = create("down-user")
    _, _, payload = exchange(token)
    access_token = json.loads(payload)["access_token"]
    status, headers, payload = call("POST", "/v1/session/token", json.dumps({"audience": "orders"}), {"X-Session-Token": token}, port=DOWN_PORT)
    assert status == 503 and json.loads(payload)["error"]["code"] == "store_unavailable" and "access_token" not in payload.decode()
    assert headers.get("retry-after") == "1"
    status, headers, payload = call("GET", "/v1/auth?audience=orders", headers={"Cookie": f"__Host-sid={token}"}, key=GATEWAY_KEY, port=DOWN_PORT)
    assert status == 503 and "authorization" not in headers, (status, headers)
    status, body = introspect(access_token, port=DOWN_PORT)
    assert status == 503 and body.get("active") is None, (status, body)


def test_without_signing_keys_the_token_routes_are_404():
    for method, path, body in [("GET", "/.well-known/jwks.json", None), ("POST", "/v1/session/token", '{"audience":"orders"}'),
                               ("GET", "/v1/auth?audience=orders", None)]:
        status, _, payload = call(method, path, body, port=NO_TOKENS_PORT)
        assert status == 404 and json.loads(payload)["error"]["code"] == "tokens_not_configured", (path, status, payload)


def shape(status, headers, payload):
    """What must match between the fast path and the router: status, header names and fixed values,
    and the body (tokens replaced by their claims, which differ only in jti/iat/exp)."""
    fixed = {k: v for k, v in headers.items() if k in ("content-type", "content-length", "cache-control", "www-authenticate", "retry-after")}
    if headers.get("authorization"):
        fixed["authorization"] = "Bearer <jwt>"
        fixed["content-length"] = headers.get("content-length")
    body = payload
    if payload.startswith(b'{"access_token"'):
        fixed.pop("content-length", None)
        object = json.loads(payload)
        body = sorted(object.keys()) + [object["expires_in"], object["token_type"]]
    return status, sorted(headers.keys() - {"date", "connection", "keep-alive"}), fixed, body


def test_exchange_and_forward_auth_answer_alike_on_the_fast_path_and_the_router():
    token = create(f"parity-token-{time.monotonic_ns()}")
    cases = [
        ("POST", "/v1/session/token", '{"audience":"orders","ttl":30}', {"X-Session-Token": token}, KEY),
        ("POST", "/v1/session/token", '{"audience":"payroll"}', {"X-Session-Token": token}, KEY),
        ("POST", "/v1/session/token", '{"audience":"orders"}', {"X-Session-Token": "A" * 47}, KEY),
        ("POST", "/v1/session/token", '{"audience":"orders","x":1}', {"X-Session-Token": token}, KEY),
        ("GET", "/v1/auth?audience=orders", None, {"Cookie": f"__Host-sid={token}"}, GATEWAY_KEY),
        ("GET", "/v1/auth?audience=orders", None, {"Cookie": "__Host-sid=" + "B" * 47}, GATEWAY_KEY),
        ("GET", "/v1/auth?audience=payroll", None, {"Cookie": f"__Host-sid={token}"}, GATEWAY_KEY),
        ("GET", "/v1/auth?audience=orders", None, {"Cookie": f"__Host-sid={token}"}, "unknown-key-" + "x" * 40),  # 401 on both
    ]
    for method, path, body, headers, key in cases:
        answers = []
        for port in (PORT, REPLICA_PORT):
            status, response_headers, payload = call(method, path, body, headers, port=port, key=key)
            if status == 200 and "authorization" in response_headers:
                minted.append(response_headers["authorization"].split(" ", 1)[1])
            if payload.startswith(b'{"access_token"'):
                minted.append(json.loads(payload)["access_token"])
            answers.append(shape(status, response_headers, payload))
        assert answers[0] == answers[1], (method, path, answers)
    # The log lines agree too: route template, status and caller.
    time.sleep(0.5)
    for log in LOGS[:2]:
        with open(log) as f:
            lines = [line for line in f if "http.route=/v1/auth " in line and "http.status=200" in line]
        assert lines and "caller=gateway " in lines[-1], (log, lines[-1:])


def test_no_jwt_or_private_key_at_rest_or_in_logs():
    assert minted, "no token was minted"
    pems = [open(os.path.join(SIGNING_DIR, name)).read() for name in os.listdir(SIGNING_DIR) if name.endswith(".pem")]
    secrets = [m.split(".")[2] for m in minted] + [line for pem in pems for line in pem.splitlines() if "-----" not in line]
    dump = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "--scan", "--pattern", "live:*"], capture_output=True, text=True).stdout.split()
    values = b""
    for key in dump:
        values += subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "--no-raw", "GET", key], capture_output=True).stdout
        ttl = int(subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "PTTL", key], capture_output=True, text=True).stdout.strip())
        assert ttl > 0 or ttl == -2, (key, ttl)  # -2: expired meanwhile
    for path in LOGS:
        with open(path, "rb") as f:
            text = f.read()
        for secret in secrets:
            assert secret.encode() not in text, f"{path} holds a token signature or key material"
    for secret in secrets:
        assert secret.encode() not in values + "".join(dump).encode()


TESTS = [
    test_tokens_verify_with_an_independent_jose_library,
    test_sessiond_introspection_refuses_forgeries_made_by_someone_else,
    test_gateway_flow_through_nginx,
    test_revocation_is_seen_by_every_replica_at_once,
    test_exchanges_racing_a_purge_leave_no_active_token,
    test_rotation_from_key_a_to_b_across_two_replicas_never_fails_a_verification,
    test_redis_down_is_503_never_a_token_and_never_inactive,
    test_without_signing_keys_the_token_routes_are_404,
    test_exchange_and_forward_auth_answer_alike_on_the_fast_path_and_the_router,
    test_no_jwt_or_private_key_at_rest_or_in_logs,  # last: it checks what the others minted
]

if __name__ == "__main__":
    harness.run("tokens", TESTS)

#!/usr/bin/env python3
"""Access-token benchmark driver, run by scripts/bench-tokens.sh with everything up.

Side by side in one run, rounds alternating: resolve on this build, resolve on an earlier build
(BASE_SESSIOND; BASE_LABEL names it) over the same Redis, the session → token exchange (ES256 and EdDSA) and
forward-auth; then TokenVerifier's cached and uncached check. Prints a Markdown report.
"""
import base64, http.client, json, os, subprocess, sys, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_bench as sb  # noqa: E402  (wrk, CPU, create_sessions, med, Report)

ES_PORT = int(os.environ["SESSIOND_PORT"])
ED_PORT = int(os.environ["SESSIOND_PORT_EDDSA"])
BASE_PORT = int(os.environ.get("SESSIOND_PORT_BASE", "0"))
BASE_LABEL = os.environ.get("BASE_LABEL", "base build")
for port, variable in [(ED_PORT, "SESSIOND_PID_EDDSA"), (BASE_PORT, "SESSIOND_PID_BASE")]:
    if variable in os.environ:
        sb.PIDS[port] = int(os.environ[variable])


def row(name, samples):
    return (f"| {name} | {sb.med([s[0] for s in samples]):,.0f} | {sb.med([s[1] for s in samples]):.3f} | "
            f"{sb.med([s[2] for s in samples]):.3f} | {sb.med([s[3]['sessiond'] for s in samples]):.1f} |")


def main():
    report = sb.Report()
    sb.redis("flushall")
    tokens = sb.create_sessions(1000)
    tokens_file = os.path.join(sb.WORK, "token-bench-tokens.txt")
    with open(tokens_file, "w") as f:
        f.write("\n".join(tokens) + "\n")
    env = {"TOKENS_FILE": tokens_file, "API_KEY": sb.KEY}
    scripts = os.path.dirname(os.path.abspath(__file__))
    # A client-credentials token for the same key (HTTP Basic: name and secret, form-urlencoded).
    basic = base64.b64encode(f"bench:{urllib.parse.quote(sb.KEY, safe='')}".encode()).decode()
    conn = http.client.HTTPConnection(sb.HOST, ES_PORT)
    conn.request("POST", "/oauth2/token", "grant_type=client_credentials",
                 {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    payload = response.read()
    assert response.status == 200, (response.status, payload)
    client_token = json.loads(payload)["access_token"]
    token_env = {"TOKENS_FILE": tokens_file, "API_KEY": client_token}
    resolve, base, exchange_es, exchange_ed, auth = [], [], [], [], []
    resolve_token, token_endpoint = [], []
    runs = [
        (resolve, "/v1/session", "resolve.lua", env, ES_PORT),
        (resolve_token, "/v1/session", "resolve.lua", token_env, ES_PORT),
        (token_endpoint, "/oauth2/token", "client_token.lua", {"BASIC": basic}, ES_PORT),
        (exchange_es, "/v1/session/token", "resolve.lua", {**env, "REQUEST": "exchange"}, ES_PORT),
        (exchange_ed, "/v1/session/token", "resolve.lua", {**env, "REQUEST": "exchange"}, ED_PORT),
        (auth, "/v1/auth", "resolve.lua", {**env, "REQUEST": "auth"}, ES_PORT),
    ]
    if BASE_PORT:
        runs.insert(1, (base, "/v1/session", "resolve.lua", env, BASE_PORT))
    for round_index in range(sb.ROUNDS):
        # Each round starts somewhere else, so no row always runs first (or right after the heaviest).
        shift = round_index % len(runs)
        for samples, path, script, run_env, port in runs[shift:] + runs[:shift]:
            samples.append(sb.wrk(path, os.path.join(scripts, script), env=run_env, port=port))
    report.append(f"{sb.ROUNDS} rounds (each starting at another row) of wrk -t2 -c50 -d{sb.DURATION}, 1,000 sessions, default settings (log level info):\n")
    report.append("| what (50 connections) | req/s (median) | p50 ms | p99 ms | sessiond CPU µs/req |")
    report.append("|---|---|---|---|---|")
    report.append(row("GET /v1/session (resolve, static API key)", resolve))
    report.append(row("GET /v1/session (resolve, client-credentials token)", resolve_token))
    if base:
        report.append(row(f"GET /v1/session (resolve, {BASE_LABEL})", base))
    report.append(row("POST /v1/session/token (exchange, ES256)", exchange_es))
    report.append(row("POST /v1/session/token (exchange, EdDSA)", exchange_ed))
    report.append(row("GET /v1/auth (forward-auth, ES256)", auth))
    report.append(row("POST /oauth2/token (client credentials, ES256)", token_endpoint))
    r = sb.med([s[0] for s in resolve])
    report.append("")
    report.append(f"- exchange / resolve: ES256 **{sb.med([s[0] for s in exchange_es]) / r:.2f}×**, "
                  f"EdDSA **{sb.med([s[0] for s in exchange_ed]) / r:.2f}×**, forward-auth {sb.med([s[0] for s in auth]) / r:.2f}× (target ≥ 0.4×)")
    report.append(f"- resolve with a client-credentials token / with the static key: **{sb.med([s[0] for s in resolve_token]) / r:.2f}×** (target ≥ 0.9×)")
    if base:
        report.append(f"- resolve, this build / {BASE_LABEL}: **{r / sb.med([s[0] for s in base]):.2f}×** "
                      f"(CPU {sb.med([s[3]['sessiond'] for s in resolve]):.1f} vs {sb.med([s[3]['sessiond'] for s in base]):.1f} µs/req)")
    lines = subprocess.run([os.environ["TOKEN_BENCH"]], capture_output=True, text=True, check=True).stdout.split()
    results = {(kind, alg): int(ns) for kind, alg, ns in (line.split(",") for line in lines)}
    report.append("")
    report.append("TokenVerifier (one process; median of 21 batches):\n")
    report.append("| | ES256 | EdDSA | target |")
    report.append("|---|---|---|---|")
    for kind, label, target in [("verify-cached", "cached check (a token seen before)", "≤ 2 µs"),
                                ("verify-uncached", "uncached check (signature + claims)", "≤ 150 µs"),
                                ("sign", "signing (sessiond's cost per token)", "")]:
        report.append(f"| {label} | {results[(kind, 'ES256')] / 1000:.2f} µs | {results[(kind, 'EdDSA')] / 1000:.2f} µs | {target} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Validates docker-compose.yml (no Docker engine runs here): Debian's docker-compose parses and
# checks it with throwaway secrets and dummy keys; then the resolved file is checked for what keeps
# Redis closed: Redis only on the internal backend network with sessiond, the example services off
# it, Redis started by deploy/redis-start.sh (ACL user, default user off), and sessiond reading the
# Redis password from the secret file.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker-compose >/dev/null || { echo "docker-compose is not installed (apt-get install docker-compose)" >&2; exit 1; }
created=()
[ -f deploy/api-keys ] || { cp deploy/api-keys.example deploy/api-keys; created+=(deploy/api-keys); }
[ -f deploy/redis-password ] || { echo "check-only-password" > deploy/redis-password; created+=(deploy/redis-password); }
cleanup() { [ ${#created[@]} -eq 0 ] || rm -f "${created[@]}"; }
trap cleanup EXIT
resolved=$(LOGIN_API_KEY=check ORDERS_API_KEY=check docker-compose -f docker-compose.yml config)
# Debian's docker-compose brings python3-yaml to the system Python.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" - "$resolved" <<'PY'
import sys, yaml
config = yaml.safe_load(sys.argv[1])
services, networks = config["services"], config["networks"]
def nets(name):
    value = services[name].get("networks", {})
    return set(value if isinstance(value, (list, dict)) else [])
problems = []
if not networks.get("backend", {}).get("internal"):
    problems.append("the backend network is not internal")
if nets("redis") != {"backend"}:
    problems.append(f"redis is on {sorted(nets('redis'))}, not only on backend")
for name, service in services.items():
    if name not in ("redis", "sessiond") and "backend" in nets(name):
        problems.append(f"{name} can reach Redis (it is on backend)")
if services["redis"].get("ports"):
    problems.append("redis publishes a port")
if "redis-start.sh" not in " ".join(services["redis"].get("entrypoint", [])):
    problems.append("redis is not started by deploy/redis-start.sh (ACL user, default user off)")
environment = services["sessiond"].get("environment", {})
if environment.get("SESSIOND_REDIS_PASSWORD_FILE") != "/run/secrets/redis-password":
    problems.append("sessiond does not read the Redis password from the secret file")
for problem in problems:
    print("docker-compose.yml:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "docker-compose.yml: valid, Redis reachable by sessiond only, with an ACL user"

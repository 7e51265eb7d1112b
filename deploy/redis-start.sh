#!/bin/sh
# Starts Redis for sessiond (docker-compose.yml runs this in the redis container).
# The default user is off: the one user is `sessiond`, limited to the keys under sessiond: and to the
# commands in deploy/redis-acl-rules (what sessiond and its Lua scripts call). Its password comes from
# the secret file and reaches Redis only as a SHA-256 in an ACL file on a private tmpfs, never on a
# command line (visible in ps). Extra arguments go to redis-server.
set -eu
password_file=${REDIS_PASSWORD_FILE:-/run/secrets/redis-password}
rules=$(cat "${REDIS_ACL_RULES:-/etc/sessiond/redis-acl-rules}")
password=$(head -n 1 "$password_file" | tr -d '\r\n')
[ -n "$password" ] || { echo "redis-start: $password_file is empty" >&2; exit 1; }
acl_dir=${REDIS_ACL_DIR:-/run/redis-acl}
mkdir -p "$acl_dir"
umask 077
hash=$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)
printf 'user default off\nuser sessiond on #%s %s\n' "$hash" "$rules" > "$acl_dir/users.acl"
exec redis-server --aclfile "$acl_dir/users.acl" "$@"

#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the tests (no Docker):
#   scripts/postgres.sh start DIR   initdb + start in DIR, print its URL
#   scripts/postgres.sh stop DIR    stop it and remove DIR
#   scripts/postgres.sh pause DIR   stop the server, keep the cluster (outage tests)
#   scripts/postgres.sh resume DIR  start it again on the same port
# Uses Debian's binaries (package `postgresql`). As root the server runs as
# the `postgres` user, since PostgreSQL refuses to run as root.
set -euo pipefail
action=${1:?start or stop}
dir=${2:?a directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_owner=()
[ "$(id -u)" = 0 ] && as_owner=(runuser -u postgres --)

case "$action" in
  start)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    password=mc-test-$RANDOM$RANDOM
    printf '%s\n' "$password" >"$dir/.pw"
    [ "$(id -u)" = 0 ] && chown postgres "$dir/.pw"
    "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U mailcatch --pwfile="$dir/.pw" \
      -A scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
    echo "$port" >"$dir/port"
    "$0" resume "$dir"
    echo "postgres://mailcatch:$password@127.0.0.1:$port/postgres?sslmode=disable"
    ;;
  resume)
    port=$(cat "$dir/port")
    # Fast and small: a test cluster holds nothing worth an fsync
    # (PG_FSYNC=on for benchmarks, where a commit's cost is the point).
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${PG_FSYNC:-off} -c max_connections=400 -c shared_buffers=64MB" \
      start >/dev/null
    ;;
  pause)
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  stop)
    [ -d "$dir/data" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac

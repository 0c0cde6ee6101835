#!/usr/bin/env bash
# Runs the Mailpit and MailHog clients people already use against a freshly
# built mailcatch on free loopback ports: the npm `mailpit-api` client
# (compat.mjs), the npm `mailhog` client and cypress-mailhog's requests
# (mailhog.mjs), the PyPI `mailpit-api-client` (python/compat.py) and the
# PyPI `mailhog` client (python/compat_mailhog.py), the Python ones in a venv
# under target/. Needs node >= 18, npm and python3. Exits non-zero if
# anything fails.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

(cd "$root" && cargo build --quiet --bin mailcatch)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
binary="$target_dir/debug/mailcatch"

read -r smtp_port http_port < <(python3 - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
for s in sockets:
    s.close()
EOF
)

log="$(mktemp)"
scratch="$(mktemp -d)"
# With MAILCATCH_SPAMD (HOST:PORT of a spamd; .ci/run starts one) the
# SpamAssassin check is on too.
spamassassin=()
[ -n "${MAILCATCH_SPAMD:-}" ] && spamassassin=(--enable-spamassassin "$MAILCATCH_SPAMD")
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
cleanup() {
    stop_server
    rm -rf "$log" "$scratch"
}
trap cleanup EXIT

# Starts mailcatch with the common options plus "$@" and waits until it answers.
start_server() {
    "$binary" --smtp "127.0.0.1:$smtp_port" --listen "127.0.0.1:$http_port" --enable-chaos \
        --enable-prometheus true "${spamassassin[@]}" "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        if "$binary" readyz --listen "127.0.0.1:$http_port" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "compat: mailcatch did not become ready" >&2
    cat "$log" >&2
    exit 1
}

cd "$here"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
venv="$target_dir/compat-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements.txt

echo "== the clients at the server's root (memory engine)"
start_server
MAILCATCH_URL="http://127.0.0.1:$http_port" node compat.mjs
MAILCATCH_URL="http://127.0.0.1:$http_port" MAILCATCH_SMTP_PORT="$smtp_port" \
    "$venv/bin/python" python/compat.py
MAILCATCH_URL="http://127.0.0.1:$http_port" MAILCATCH_SMTP_PORT="$smtp_port" node mailhog.mjs
MAILCATCH_URL="http://127.0.0.1:$http_port" MAILCATCH_SMTP_PORT="$smtp_port" \
    "$venv/bin/python" python/compat_mailhog.py

# The same clients, unchanged, pointed at a mailbox's root while other mail
# sits beside it: every count and "delete all" they check must see only
# their mailbox. On the database engines, so every engine meets real clients
# (the root run above is on the memory engine).
inside_a_mailbox() {
    echo "== the clients inside a mailbox ($1)"
    stop_server
    start_server --database "$2"
    login="$("$venv/bin/python" python/mailbox.py "http://127.0.0.1:$http_port" "$smtp_port")"
    MAILCATCH_URL="http://127.0.0.1:$http_port/mailbox/compat" node compat.mjs
    MAILCATCH_URL="http://127.0.0.1:$http_port/mailbox/compat" MAILCATCH_SMTP_PORT="$smtp_port" \
        MAILCATCH_SMTP_LOGIN="$login" "$venv/bin/python" python/compat.py
    "$venv/bin/python" python/mailbox.py --check-noise "http://127.0.0.1:$http_port"
}
inside_a_mailbox "SQLite engine" "$scratch/compat.db"
# MAILCATCH_TEST_POSTGRES: a throwaway server (.ci/run starts one); its
# default database is used as is.
if [ -n "${MAILCATCH_TEST_POSTGRES:-}" ]; then
    inside_a_mailbox "PostgreSQL engine" "$MAILCATCH_TEST_POSTGRES"
elif [ "${MAILCATCH_REQUIRE_CLIENTS:-}" = 1 ]; then
    echo "compat: MAILCATCH_TEST_POSTGRES is unset but MAILCATCH_REQUIRE_CLIENTS=1" >&2
    exit 1
else
    echo "SKIP: MAILCATCH_TEST_POSTGRES unset, clients not run on the PostgreSQL engine"
fi

#!/usr/bin/env bash
# How mailcatch's costs grow with the store: one server per engine is filled
# with 2 KB messages over SMTP (smtp-load, 10 pipelined connections) to each
# size in turn, and at each size the script records
#   - the ingest rate of the fill that got it there (and smtp-sink's rate
#     for the same load, measured once at the start, for the ratio),
#   - the server's RSS per stored message, against the raw bytes,
#   - list newest 50, a search for a present term, for an absent term
#     (every message looked at), a subject: and a from: search (api-bench
#     medians),
# and at the largest size the time of a delete-all, and the slowest SMTP
# transaction of a small lock-step load running while it happens.
# It prints a markdown table and writes an SVG chart of the API timings
# against the store size (SCALE_SVG, default docs/scale.svg).
#
#   scripts/scale.sh                        # 10,000 / 100,000 / 1,000,000
#   SIZES="10000 100000" scripts/scale.sh   # other sizes
#   ENGINES="memory sqlite" scripts/scale.sh
#   QUICK=1 scripts/scale.sh                # 2,000 / 10,000 / 50,000
#
# Engines: memory, sqlite (a fresh file in a temporary directory) and
# postgres (a throwaway cluster from scripts/postgres.sh; skipped with a
# line saying so when PostgreSQL's binaries are missing).
# Traffic goes to 127.0.0.1 only; every client run is bounded in count and
# wrapped in `timeout`; every server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-0}" = 1 ]; then
    SIZES=${SIZES:-"2000 10000 50000"}
else
    SIZES=${SIZES:-"10000 100000 1000000"}
fi
ENGINES=${ENGINES:-"memory sqlite postgres"}
SCALE_SVG=${SCALE_SVG:-docs/scale.svg}
CLIENT_TIMEOUT=900 # seconds any one client run may take
HOST=127.0.0.1
SMTP_SINK=/usr/sbin/smtp-sink
TARGET=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
chmod 755 "$WORK"
SERVER_PID=
PG_CLUSTER=
ROWS="$WORK/rows.tsv"

log() { echo "scale: $*" >&2; }

cleanup() {
    stop_server
    [ -n "$PG_CLUSTER" ] && bash scripts/postgres.sh stop "$PG_CLUSTER" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {
    for _ in $(seq 1 1200); do
        (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null && return
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    log "nothing listens on port $1"
    exit 1
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}

# field KEY LINE: the value of KEY=value in a RESULT line.
field() {
    tr ' ' '\n' <<<"$2" | awk -F= -v key="$1" '$1 == key { print $2 }'
}

rss_kb() {
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status"
}

# load COUNT CONNS [--pipelining]: prints smtp-load's RESULT line.
load() {
    local count=$1 conns=$2
    shift 2
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/smtp-load" --addr "$HOST:$SMTP_PORT" \
        --conns "$conns" --messages "$count" --size 2k --timeout "$CLIENT_TIMEOUT" "$@" |
        grep '^RESULT'
}

start_sink() {
    SMTP_PORT=$(free_port)
    local user_flag=()
    [ "$(id -u)" = 0 ] && user_flag=(-u nobody)
    "$SMTP_SINK" "${user_flag[@]}" "$HOST:$SMTP_PORT" 1000 >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_for_port "$SMTP_PORT"
}

# start_mailcatch ENGINE: room for the largest size, no caps in the way.
start_mailcatch() {
    local store=(--max 0 --max-store-size 0)
    case $1 in
        sqlite) store+=(--database "$WORK/scale.db") ;;
        postgres) store+=(--database "$PG_URL") ;;
    esac
    SMTP_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    "$TARGET/mailcatch" --smtp "$HOST:$SMTP_PORT" --listen "$HOST:$HTTP_PORT" \
        "${store[@]}" --quiet &
    SERVER_PID=$!
    wait_for_port "$SMTP_PORT"
    wait_for_port "$HTTP_PORT"
}

start_postgres() {
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        log "SKIP postgres: PostgreSQL's binaries are not installed"
        return 1
    fi
    PG_CLUSTER="$WORK/pg"
    PG_URL=$(bash scripts/postgres.sh start "$PG_CLUSTER")
}

# delete_all_under_load: DELETE_S (the delete-all request) and BLOCK_MS (the
# slowest transaction of a one-connection lock-step load running meanwhile).
delete_all_under_load() {
    local probe="$WORK/probe.out"
    load 3000 1 >"$probe" &
    local probe_pid=$!
    sleep 0.3
    DELETE_S=$(curl -s -o /dev/null -w '%{time_total}' --max-time 120 -X DELETE \
        "http://$HOST:$HTTP_PORT/api/v1/messages")
    wait "$probe_pid" || true
    BLOCK_MS=$(field max_ms "$(cat "$probe")")
}

measure_engine() {
    local engine=$1 stored=0 base_kb raw_bytes=0
    start_mailcatch "$engine"
    base_kb=$(rss_kb)
    for size in $SIZES; do
        local result api
        result=$(load $((size - stored)) 10 --pipelining)
        raw_bytes=$((raw_bytes + $(field bytes "$result")))
        stored=$size
        api=$(timeout "$CLIENT_TIMEOUT" "$TARGET/examples/api-bench" --http "$HOST:$HTTP_PORT" \
            --smtp "$HOST:$SMTP_PORT" --runs 10 --ws-messages 0 --expect-total "$size" | grep '^RESULT')
        local rss per_message
        rss=$(rss_kb)
        per_message=$(awk -v r="$rss" -v b="$base_kb" -v n="$size" -v raw="$raw_bytes" \
            'BEGIN { printf "%.0f B (%.2fx raw)", (r - b) * 1024 / n, (r - b) * 1024 / raw }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$engine" "$size" \
            "$(field msgs_per_s "$result")" "$(field failed "$result")" "$per_message" \
            "$(field list_newest_50_ms "$api")" "$(field search_free_text_ms "$api")" \
            "$(field search_absent_term_ms "$api")" "$(field search_subject_ms "$api")" \
            "$(awk -v r="$rss" 'BEGIN { printf "%.0f", r / 1024 }')" \
            "$(field search_from_ms "$api")" >>"$ROWS"
        log "$engine at $size: $(tail -1 "$ROWS" | tr '\t' ' ')"
    done
    delete_all_under_load
    printf '%s\tdelete-all\t%s\t%s\n' "$engine" "$DELETE_S" "$BLOCK_MS" >>"$ROWS"
    log "$engine: delete-all of $stored took $DELETE_S s; slowest SMTP transaction meanwhile $BLOCK_MS ms"
    stop_server
}

table() {
    echo "smtp-sink, same load (2 KB, 10 connections, pipelined): $SINK_RATE msgs/s"
    echo
    echo "| engine | stored | fill (msgs/s) | fill / sink | lost | RSS | RSS per message | list 50 (ms) | search hit (ms) | search miss (ms) | subject: (ms) | from: (ms) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v sink="$SINK_RATE" '$2 != "delete-all" {
        printf "| %s | %d | %.0f | %.2fx | %d | %s MB | %s | %s | %s | %s | %s | %s |\n",
            $1, $2, $3, $3 / sink, $4, $10, $5, $6, $7, $8, $9, $11 }' "$ROWS"
    echo
    echo "| engine | delete-all (s) | slowest SMTP transaction meanwhile (ms) |"
    echo "|---|---:|---:|"
    awk -F'\t' '$2 == "delete-all" { printf "| %s | %s | %s |\n", $1, $3, $4 }' "$ROWS"
}

if [ ! -x "$SMTP_SINK" ]; then
    log "smtp-sink is missing: install Debian's postfix package (scripts/bench.sh does)"
    exit 1
fi
log "building mailcatch and the benchmark examples (release)"
cargo build --release --quiet --bin mailcatch --example smtp-load --example api-bench

start_sink
SINK_RATE=$(field msgs_per_s "$(load 100000 10 --pipelining)")
stop_server
log "smtp-sink: $SINK_RATE msgs/s"

for engine in $ENGINES; do
    if [ "$engine" = postgres ] && ! start_postgres; then
        continue
    fi
    measure_engine "$engine"
done

table
python3 scripts/scale-chart.py "$ROWS" "$SCALE_SVG"
log "chart written to $SCALE_SVG"

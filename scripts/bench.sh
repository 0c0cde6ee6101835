#!/usr/bin/env bash
# Benchmarks mailcatch against postfix's smtp-sink (a C SMTP server that
# parses and stores nothing) on loopback, and prints every figure as a
# markdown table with its ratio to the sink from the same run.
#
#   scripts/bench.sh             # the full run (a few minutes on 2 cores)
#   REPEAT=3 scripts/bench.sh    # each throughput cell is the median of 3 runs
#   QUICK=1 scripts/bench.sh     # smaller counts, for trying the script out
#   PG_FSYNC=on scripts/bench.sh # PostgreSQL flushes every commit to disk
#
# What it does, in order:
#   1. finds smtp-sink and smtp-source, or installs Debian's postfix package
#      (and stops any postfix daemon the package started);
#   2. builds mailcatch and the smtp-load and api-bench examples in release;
#   3. ingest: 2 KB and 200 KB messages, 1 and 10 persistent connections,
#      with smtp-source (lock-step) and smtp-load (pipelined), each against
#      a fresh smtp-sink and a fresh mailcatch; checks that mailcatch stored
#      exactly what was sent (GET /api/v1/messages?limit=1 -> total);
#   4. memory: mailcatch's VmHWM and VmRSS after 20,000 x 2 KB and after
#      1,000 x 200 KB, against the raw bytes stored;
#   5. API: list newest 50, a free-text and a subject: search (medians of
#      20) with 20,000 and 100,000 stored, the delay from the 250 reply
#      to the WebSocket `new` frame (median over 200 messages), and to the
#      answer of an open wait, plus CPU with 1,000 idle waiters.
#   6. the SQLite engine (--database, a fresh file in $WORK for every
#      server), in a second table beside memory and the sink: the 2 KB and
#      200 KB loads over 10 connections run against it too, in the same
#      cells as memory; then RSS, the API timings (plus a search for a term
#      no message holds, which scans everything) with 20,000 and 100,000
#      stored, the database's size, and the start-up time when reopening
#      the file with 100,000 messages (to the SMTP port accepting and to
#      /readyz answering 200), each with its target and whether it was met.
#   7. the PostgreSQL engine (--database postgres://, a throwaway cluster
#      started with scripts/postgres.sh, fsync off unless PG_FSYNC=on, as
#      SQLite's commits reach the OS but not the disk; a fresh database for
#      every server), in a third table: the 2 KB loads over 10 connections
#      through one node and through two nodes on the same database (5
#      connections each), then the API timings with 20,000 and 100,000
#      stored. Skipped, with a line saying so, without PostgreSQL's binaries.
#
# Traffic goes to 127.0.0.1 only; every client run is bounded in count and
# wrapped in `timeout`; every server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=${REPEAT:-1}
QUICK=${QUICK:-0}
PG_FSYNC=${PG_FSYNC:-off}
if [ "$QUICK" = 1 ]; then
    SMALL_COUNT=4000 LARGE_COUNT=200 API_SMALL=4000 API_LARGE=10000 WS_MESSAGES=50
else
    SMALL_COUNT=20000 LARGE_COUNT=1000 API_SMALL=20000 API_LARGE=100000 WS_MESSAGES=200
fi
CLIENT_TIMEOUT=600 # seconds any one client run may take
HOST=127.0.0.1
SMTP_SINK=/usr/sbin/smtp-sink
SMTP_SOURCE=/usr/sbin/smtp-source
TARGET=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
SERVER_PID=
DB_PATH=
DB_COUNT=0
# Targets of the SQLite engine (issue: durable storage).
TARGET_INGEST_RATIO=0.5 # 2 KB over 10 connections, against smtp-sink
TARGET_RSS_MB=200       # with 100,000 stored 2 KB messages
TARGET_LIST_MS=2        # list newest 50, 100,000 stored
TARGET_SEARCH_MS=50     # any search, 100,000 stored
TARGET_STARTUP_S=2      # reopening a database holding 100,000 messages
# Targets of the PostgreSQL engine (issue: shared storage).
TARGET_PG_INGEST_RATIO=0.3 # 2 KB over 10 connections through one node
TARGET_PG_LIST_MS=5        # list newest 50, 100,000 stored
TARGET_PG_SEARCH_MS=100    # free-text search, 100,000 stored
PG_DIR= PG_URL= PG_DB_URL= PG_COUNT=0 SERVER_PID2= SMTP_PORT2=

log() { echo "bench: $*" >&2; }

cleanup() {
    stop_server
    [ -z "$PG_DIR" ] || bash scripts/postgres.sh stop "$PG_DIR" || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- setup -----------------------------------------------------------------

ensure_postfix_tools() {
    if [ -x "$SMTP_SINK" ] && [ -x "$SMTP_SOURCE" ]; then
        return
    fi
    log "installing postfix for smtp-sink and smtp-source"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postfix >/dev/null
    # Only the two test programs are wanted: no mail daemon may keep running.
    $sudo postfix stop >/dev/null 2>&1 || true
    $sudo service postfix stop >/dev/null 2>&1 || true
}

# Starts a throwaway PostgreSQL cluster (PG_URL); leaves PG_URL empty,
# saying so, when PostgreSQL's binaries are missing. By default with fsync
# off: a COMMIT then reaches the operating system, not the disk, which is
# what the SQLite engine's commits do (WAL, synchronous = NORMAL), so the
# engines compare like with like; PG_FSYNC=on measures the disk instead.
start_postgres() {
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || ! command -v psql >/dev/null; then
        log "PostgreSQL binaries not found (apt-get install postgresql): skipping the PostgreSQL rows"
        return
    fi
    chmod 755 "$WORK" # the server runs as the postgres user when this runs as root
    PG_DIR="$WORK/pg"
    PG_URL=$(PG_FSYNC=$PG_FSYNC bash scripts/postgres.sh start "$PG_DIR")
}

# A fresh, empty database on the cluster (PG_DB_URL).
new_pg_database() {
    PG_COUNT=$((PG_COUNT + 1))
    psql -q "$PG_URL" -c "CREATE DATABASE bench_$PG_COUNT" >/dev/null
    PG_DB_URL=${PG_URL/\/postgres\?/\/bench_$PG_COUNT?}
}

build() {
    log "building mailcatch and the benchmark examples (release)"
    cargo build --release --quiet --bin mailcatch --example smtp-load --example api-bench --example wait-bench
}

# A free TCP port on loopback (bounded number of tries), below Linux's
# ephemeral range (32768 up), where the clients' and the database
# connections' own ports would otherwise collide with it.
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 12000))
        if ! ss -tanH "sport = :$port" 2>/dev/null | grep -q .; then
            echo "$port"
            return
        fi
    done
    log "no free port found"
    exit 1
}

wait_for_port() {
    for _ in $(seq 1 200); do
        if ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; then
            return
        fi
        sleep 0.05
    done
    log "nothing listens on port $1"
    exit 1
}

# --- servers ---------------------------------------------------------------

# Starts smtp-sink on SMTP_PORT.
start_sink() {
    SMTP_PORT=$(free_port)
    local user_flag=()
    [ "$(id -u)" = 0 ] && user_flag=(-u nobody)
    "$SMTP_SINK" "${user_flag[@]}" "$HOST:$SMTP_PORT" 1000 >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_for_port "$SMTP_PORT"
}

# start_mailcatch [memory|sqlite|postgres]: starts mailcatch on SMTP_PORT
# and HTTP_PORT with room for every message; with sqlite, on a fresh
# database file in $WORK (DB_PATH), without caps; with postgres, on a
# fresh database of the cluster (PG_DB_URL), without caps.
start_mailcatch() {
    local engine=${1:-memory} store=(--max 200000 --max-store-size 4096)
    if [ "$engine" = sqlite ]; then
        DB_COUNT=$((DB_COUNT + 1))
        DB_PATH="$WORK/sqlite-$DB_COUNT.db"
        store=(--database "$DB_PATH" --max 0 --max-store-size 0)
    elif [ "$engine" = postgres ]; then
        new_pg_database
        store=(--database "$PG_DB_URL" --max 0 --max-store-size 0)
    fi
    SMTP_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    "$TARGET/mailcatch" --smtp "$HOST:$SMTP_PORT" --listen "$HOST:$HTTP_PORT" \
        "${store[@]}" --quiet &
    SERVER_PID=$!
    wait_for_port "$SMTP_PORT"
    wait_for_port "$HTTP_PORT"
}

# Starts mailcatch again on DB_PATH (kept from the last sqlite server) and
# sets STARTUP_SMTP_S and STARTUP_READY_S: seconds from starting the
# process to its SMTP port accepting a connection, and to GET /readyz
# answering 200. Polls every 10 ms, for at most 60 s.
reopen_mailcatch() {
    SMTP_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    local started now code
    STARTUP_SMTP_S= STARTUP_READY_S=
    started=$(date +%s.%N)
    "$TARGET/mailcatch" --smtp "$HOST:$SMTP_PORT" --listen "$HOST:$HTTP_PORT" \
        --database "$DB_PATH" --max 0 --max-store-size 0 --quiet &
    SERVER_PID=$!
    for _ in $(seq 1 6000); do
        if [ -z "$STARTUP_SMTP_S" ] && (exec 3<>"/dev/tcp/$HOST/$SMTP_PORT") 2>/dev/null; then
            now=$(date +%s.%N)
            STARTUP_SMTP_S=$(awk -v a="$started" -v b="$now" 'BEGIN { printf "%.3f", b - a }')
        fi
        if [ -n "$STARTUP_SMTP_S" ]; then
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$HOST:$HTTP_PORT/readyz" || true)
            if [ "$code" = 200 ]; then
                now=$(date +%s.%N)
                STARTUP_READY_S=$(awk -v a="$started" -v b="$now" 'BEGIN { printf "%.3f", b - a }')
                return
            fi
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.01
    done
    log "mailcatch did not become ready on $DB_PATH"
    exit 1
}

# A second node on the last postgres server's database (SMTP_PORT2).
start_second_node() {
    SMTP_PORT2=$(free_port)
    local http
    http=$(free_port)
    "$TARGET/mailcatch" --smtp "$HOST:$SMTP_PORT2" --listen "$HOST:$http" \
        --database "$PG_DB_URL" --max 0 --max-store-size 0 --quiet &
    SERVER_PID2=$!
    wait_for_port "$SMTP_PORT2"
    wait_for_port "$http"
}

stop_server() {
    local pid
    for pid in "$SERVER_PID" "$SERVER_PID2"; do
        if [ -n "$pid" ]; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    SERVER_PID= SERVER_PID2=
}

# Deletes the last sqlite server's database (with its WAL, shared-memory
# and lock files); the server must be stopped.
drop_database() {
    [ -n "$DB_PATH" ] && rm -f "$DB_PATH" "$DB_PATH-wal" "$DB_PATH-shm" "$DB_PATH-lock"
    DB_PATH=
}

# mailcatch's message count, from the API.
stored_total() {
    curl -sf --max-time 30 "http://$HOST:$HTTP_PORT/api/v1/messages?limit=1" |
        grep -o '"total":[0-9]*' | cut -d: -f2
}

# kB of VmHWM or VmRSS of the running server.
proc_kb() {
    awk -v key="$1:" '$1 == key { print $2 }' "/proc/$SERVER_PID/status"
}

# --- clients ---------------------------------------------------------------

# run_client CLIENT CONNS COUNT SIZE_BYTES: loads SMTP_PORT, prints
# "msgs_per_s mb_per_s bytes", fails if the client reported a failure.
run_client() {
    local client=$1 conns=$2 count=$3 size=$4 out=${CLIENT_OUT:-$WORK/client.out}
    case "$client" in
    smtp-source)
        local started ended
        started=$(date +%s.%N)
        timeout "$CLIENT_TIMEOUT" "$SMTP_SOURCE" -s "$conns" -d -m "$count" -l "$size" \
            -f loadgen@load.example -t rcpt@load.example "$HOST:$SMTP_PORT" >"$out" 2>&1
        ended=$(date +%s.%N)
        # smtp-source's -l is the payload; its headers add a little on top.
        awk -v c="$count" -v s="$size" -v t0="$started" -v t1="$ended" \
            'BEGIN { t = t1 - t0; printf "%.1f %.2f %d\n", c / t, c * s / 1e6 / t, c * s }'
        ;;
    smtp-load)
        timeout "$CLIENT_TIMEOUT" "$TARGET/examples/smtp-load" --addr "$HOST:$SMTP_PORT" \
            --conns "$conns" --messages "$count" --size "$size" --pipelining >"$out" 2>&1
        sed -n 's/^RESULT .*bytes=\([0-9]*\).*msgs_per_s=\([0-9.]*\) mb_per_s=\([0-9.]*\).*/\2 \3 \1/p' "$out"
        ;;
    esac
}

# run_client_pair CLIENT CONNS COUNT SIZE_BYTES: half the load through
# SMTP_PORT and half through SMTP_PORT2 at once; prints "msgs_per_s" of the
# whole (count over the wall time until both finished).
run_client_pair() {
    local client=$1 conns=$(($2 / 2)) count=$(($3 / 2)) size=$4 started ended
    started=$(date +%s.%N)
    run_client "$client" "$conns" "$count" "$size" >/dev/null &
    local first=$!
    SMTP_PORT=$SMTP_PORT2 CLIENT_OUT="$WORK/client2.out" run_client "$client" "$conns" "$count" "$size" >/dev/null
    wait "$first"
    ended=$(date +%s.%N)
    awk -v c=$((count * 2)) -v t0="$started" -v t1="$ended" 'BEGIN { printf "%.1f\n", c / (t1 - t0) }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }

# The SQLite table: measurement, sink, memory, sqlite, sqlite/sink, target, lost.
SQL_ROWS=()
sql_row() { SQL_ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 |"); }

# The PostgreSQL table: measurement, sink, memory, sqlite, postgres,
# postgres/sink, target, lost.
PG_ROWS=()
pg_row() { PG_ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |"); }

# verdict VALUE OP LIMIT TEXT: "TEXT: met" or "TEXT: missed" (OP is le, lt or ge).
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" -v t="$4" 'BEGIN {
        if (v == "") { print t ": n/a"; exit }
        ok = (op == "le" && v + 0 <= l + 0) || (op == "lt" && v + 0 < l + 0) || (op == "ge" && v + 0 >= l + 0)
        print t ": " (ok ? "met" : "missed") }'
}

# The verdict for a target set at 100,000 stored messages: not judged when
# the large store is smaller (QUICK=1).
large_verdict() {
    if [ "$API_LARGE" = 100000 ]; then
        verdict "$@"
    else
        echo "$4 at 100000: not judged"
    fi
}

mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb * 1024 / 1e6 }'; }

# --- measurements ------------------------------------------------------------

# One ingest cell: the same load against the sink and mailcatch, REPEAT
# times each; the row holds the medians. Memory is read after the last
# mailcatch run of the cells that ask for it. With SQLITE=yes the same load
# also runs, in each repetition, against mailcatch on a fresh database,
# for a row of the SQLite table beside the same sink and memory figures.
ingest() {
    local client=$1 conns=$2 count=$3 size=$4 label=$5 memory=${6:-} sqlite=${7:-}
    local sink_rates=() mc_rates=() mc_mb=() sink_mb=() lost=0 stored bytes=0
    local sq_rates=() sq_mb=() sq_lost=0 pg_rates=() pg2_rates=() pg_lost=0 pg2_lost=0
    for _ in $(seq 1 "$REPEAT"); do
        start_sink
        read -r rate mb _ < <(run_client "$client" "$conns" "$count" "$size") || {
            log "$label: the client failed against smtp-sink"
            exit 1
        }
        sink_rates+=("$rate") sink_mb+=("$mb")
        stop_server

        start_mailcatch
        local base_kb
        base_kb=$(proc_kb VmRSS)
        read -r rate mb bytes < <(run_client "$client" "$conns" "$count" "$size") || true
        stored=$(stored_total)
        if [ "$stored" != "$count" ]; then
            log "$label: mailcatch stored $stored of $count"
            lost=$((lost + count - ${stored:-0}))
        fi
        mc_rates+=("${rate:-0}") mc_mb+=("${mb:-0}")
        if [ -n "$memory" ]; then
            MEM_BASE_KB=$base_kb MEM_HWM_KB=$(proc_kb VmHWM) MEM_RSS_KB=$(proc_kb VmRSS) MEM_RAW=$bytes
        fi
        stop_server

        [ -n "$sqlite" ] || continue
        start_mailcatch sqlite
        rate=0 mb=0
        read -r rate mb _ < <(run_client "$client" "$conns" "$count" "$size") || true
        stored=$(stored_total)
        if [ "$stored" != "$count" ]; then
            log "$label: mailcatch (sqlite) stored $stored of $count"
            sq_lost=$((sq_lost + count - ${stored:-0}))
        fi
        sq_rates+=("${rate:-0}") sq_mb+=("${mb:-0}")
        stop_server
        drop_database

        [ -n "$PG_URL" ] && [ "$size" -lt 100000 ] || continue
        start_mailcatch postgres
        rate=0
        read -r rate _ < <(run_client "$client" "$conns" "$count" "$size") || true
        stored=$(stored_total)
        [ "$stored" = "$count" ] || pg_lost=$((pg_lost + count - ${stored:-0}))
        pg_rates+=("${rate:-0}")
        start_second_node
        rate=0
        read -r rate < <(run_client_pair "$client" "$conns" "$count" "$size") || true
        stored=$(stored_total)
        [ "$stored" = $((2 * count)) ] || pg2_lost=$((pg2_lost + 2 * count - ${stored:-0}))
        pg2_rates+=("${rate:-0}")
        stop_server
    done
    local sink_rate mc_rate sink_mbs mc_mbs
    sink_rate=$(printf '%s\n' "${sink_rates[@]}" | median)
    mc_rate=$(printf '%s\n' "${mc_rates[@]}" | median)
    sink_mbs=$(printf '%s\n' "${sink_mb[@]}" | median)
    mc_mbs=$(printf '%s\n' "${mc_mb[@]}" | median)
    if [ "$size" -ge 100000 ]; then
        row "$label (MB/s)" "$sink_mbs" "$mc_mbs" "$(ratio "$mc_mbs" "$sink_mbs")" "$lost"
    else
        row "$label (msgs/s)" "$sink_rate" "$mc_rate" "$(ratio "$mc_rate" "$sink_rate")" "$lost"
    fi
    log "$label: sink $sink_rate msgs/s, mailcatch $mc_rate msgs/s, lost $lost"
    [ -n "$sqlite" ] || return 0
    local sq_rate sq_mbs target="-"
    sq_rate=$(printf '%s\n' "${sq_rates[@]}" | median)
    sq_mbs=$(printf '%s\n' "${sq_mb[@]}" | median)
    if [ "$size" -ge 100000 ]; then
        sql_row "$label (MB/s)" "$sink_mbs" "$mc_mbs" "$sq_mbs" "$(ratio "$sq_mbs" "$sink_mbs")" "-" "$sq_lost"
    else
        target=$(verdict "$(awk -v a="$sq_rate" -v b="$sink_rate" 'BEGIN { if (b > 0) print a / b }')" \
            ge "$TARGET_INGEST_RATIO" "≥ ${TARGET_INGEST_RATIO}x")
        sql_row "$label (msgs/s)" "$sink_rate" "$mc_rate" "$sq_rate" "$(ratio "$sq_rate" "$sink_rate")" \
            "$target" "$sq_lost"
    fi
    log "$label: mailcatch (sqlite) $sq_rate msgs/s, $sq_mbs MB/s, lost $sq_lost"
    [ ${#pg_rates[@]} -gt 0 ] || return 0
    local pg_rate pg2_rate
    pg_rate=$(printf '%s\n' "${pg_rates[@]}" | median)
    pg2_rate=$(printf '%s\n' "${pg2_rates[@]}" | median)
    target=$(verdict "$(awk -v a="$pg_rate" -v b="$sink_rate" 'BEGIN { if (b > 0) print a / b }')" \
        ge "$TARGET_PG_INGEST_RATIO" "≥ ${TARGET_PG_INGEST_RATIO}x")
    pg_row "$label, one node (msgs/s)" "$sink_rate" "$mc_rate" "$sq_rate" "$pg_rate" \
        "$(ratio "$pg_rate" "$sink_rate")" "$target" "$pg_lost"
    pg_row "$label, two nodes, $((conns / 2)) conn each (msgs/s)" "$sink_rate" "$mc_rate" "$sq_rate" "$pg2_rate" \
        "$(ratio "$pg2_rate" "$sink_rate")" "-" "$pg2_lost"
    log "$label: mailcatch (postgres) $pg_rate msgs/s one node, $pg2_rate two nodes, lost $pg_lost/$pg2_lost"
}

memory_row() {
    local label=$1
    awk -v l="$label" -v base="$MEM_BASE_KB" -v hwm="$MEM_HWM_KB" -v rss="$MEM_RSS_KB" -v raw="$MEM_RAW" 'BEGIN {
        printf "| %s: RSS (peak) over raw %.1f MB, base %.1f MB | - | %.1f MB (%.1f MB) | %.2fx (%.2fx) | - |\n",
            l, raw / 1e6, base * 1024 / 1e6, (rss - base) * 1024 / 1e6, (hwm - base) * 1024 / 1e6,
            (rss - base) * 1024 / raw, (hwm - base) * 1024 / raw }'
}

# A field of a `RESULT key=value ...` line.
field() { sed -n "s/.* $1=\([-0-9.]*\).*/\1/p" <<<"$2"; }

# The RESULT line of a client run saved as $WORK/NAME.out.
result() { grep '^RESULT' "$WORK/$1.out"; }

# The row label of an api-bench timing (list_newest_50, search_subject, ...);
# the second argument ends the absent-term row's description.
api_label() {
    local label=${1//_/ }
    label=${label/search subject/search subject:}
    label=${label/search free text/search free text (present term)}
    echo "${label/search absent term/search free text (absent term$2)}"
}

# Kilobytes of VmRSS and VmHWM per engine and store size, from api_run.
declare -A RSS_KB HWM_KB

# api_run ENGINE: one mailcatch filled with API_SMALL, then API_LARGE 2 KB
# messages (10 pipelined connections); at each size reads its RSS and runs
# api-bench (the WebSocket delay at the small size only). Writes
# $WORK/api-ENGINE-{small,large}.out and $WORK/fill-ENGINE.out, and leaves
# the server running.
api_run() {
    local engine=$1
    start_mailcatch "$engine"
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/smtp-load" --addr "$HOST:$SMTP_PORT" \
        --conns 10 --messages "$API_SMALL" --size 2k --pipelining >/dev/null
    RSS_KB[$engine,small]=$(proc_kb VmRSS) HWM_KB[$engine,small]=$(proc_kb VmHWM)
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/api-bench" --http "$HOST:$HTTP_PORT" --smtp "$HOST:$SMTP_PORT" \
        --expect-total "$API_SMALL" --runs 20 --ws-messages "$WS_MESSAGES" >"$WORK/api-$engine-small.out"
    local filled=$((API_SMALL + WS_MESSAGES))
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/smtp-load" --addr "$HOST:$SMTP_PORT" \
        --conns 10 --messages $((API_LARGE - filled)) --size 2k --pipelining >"$WORK/fill-$engine.out"
    RSS_KB[$engine,large]=$(proc_kb VmRSS) HWM_KB[$engine,large]=$(proc_kb VmHWM)
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/api-bench" --http "$HOST:$HTTP_PORT" --smtp "$HOST:$SMTP_PORT" \
        --expect-total "$API_LARGE" --runs 20 --ws-messages 0 >"$WORK/api-$engine-large.out"
}

# API timings at two store sizes, the WebSocket delay and the wait
# endpoint (delay and idle waiters' CPU, with API_LARGE stored), on one
# mailcatch.
api() {
    api_run memory
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/wait-bench" --http "$HOST:$HTTP_PORT" --smtp "$HOST:$SMTP_PORT" \
        --pid "$SERVER_PID" --messages "$WS_MESSAGES" --idle-waiters 1000 >"$WORK/wait-memory.out"
    stop_server
    local small large
    small=$(result api-memory-small)
    large=$(result api-memory-large)
    for name in list_newest_50 search_free_text search_subject; do
        local label=${name//_/ }
        label=${label/search subject/search subject:}
        row "$label, $API_SMALL stored (median ms)" "-" "$(field "${name}_ms" "$small")" "-" "-"
        row "$label, $API_LARGE stored (median ms)" "-" "$(field "${name}_ms" "$large")" "-" "-"
    done
    row "250 reply -> WebSocket new frame (median ms; p99 $(field ws_new_p99_ms "$small"))" "-" \
        "$(field ws_new_ms "$small")" "-" "-"
    local waited
    waited=$(result wait-memory)
    row "250 reply -> wait answered, $API_LARGE stored (median ms; p99 $(field wait_p99_ms "$waited"))" "-" \
        "$(field wait_median_ms "$waited")" "-" "-"
    row "CPU of mailcatch with 1000 idle waiters (% of one core)" "-" \
        "$(field idle_cpu_percent "$waited")" "-" "-"
}

# "RSS (peak)" in MB for ENGINE at SIZE (small or large).
rss_cell() { echo "$(mb "${RSS_KB[$1,$2]}") ($(mb "${HWM_KB[$1,$2]}"))"; }

# The SQLite engine's memory, API, size and start-up rows: the same fills
# and api-bench runs as memory on a fresh database, then the server is
# stopped and the file reopened, timing the start-up.
sqlite_api() {
    api_run sqlite
    local db_bytes
    db_bytes=$(du -cb "$DB_PATH" "$DB_PATH-wal" 2>/dev/null | tail -1 | cut -f1)
    stop_server
    reopen_mailcatch
    local reopened lost=0
    reopened=$(stored_total)
    if [ "$reopened" != "$API_LARGE" ]; then
        log "sqlite: reopened with $reopened of $API_LARGE messages"
        lost=$((API_LARGE - ${reopened:-0}))
    fi
    RSS_KB[sqlite,reopened]=$(proc_kb VmRSS) HWM_KB[sqlite,reopened]=$(proc_kb VmHWM)
    stop_server
    drop_database

    local small large mem_small mem_large fill mem_fill
    small=$(result api-sqlite-small)
    large=$(result api-sqlite-large)
    mem_small=$(result api-memory-small)
    mem_large=$(result api-memory-large)
    fill=$(result fill-sqlite)
    mem_fill=$(result fill-memory)
    local more=$((API_LARGE - API_SMALL - WS_MESSAGES))
    sql_row "2 KB, 10 conn, smtp-load --pipelining: $more more onto $((API_SMALL + WS_MESSAGES)) stored (msgs/s)" "-" \
        "$(field msgs_per_s "$mem_fill")" "$(field msgs_per_s "$fill")" "-" "-" "$(field failed "$fill")"

    local peak_ok rss_ok
    sql_row "RSS (peak) with $API_SMALL x 2 KB stored (MB)" "-" "$(rss_cell memory small)" "$(rss_cell sqlite small)" \
        "-" "-" "-"
    rss_ok=$(large_verdict "$(mb "${RSS_KB[sqlite,large]}")" lt "$TARGET_RSS_MB" "RSS < $TARGET_RSS_MB MB")
    peak_ok=$(verdict "$(mb "${HWM_KB[sqlite,large]}")" lt "$TARGET_RSS_MB" "peak")
    [ "$API_LARGE" = 100000 ] || peak_ok="peak too"
    sql_row "RSS (peak) with $API_LARGE x 2 KB stored (MB)" "-" "$(rss_cell memory large)" "$(rss_cell sqlite large)" \
        "-" "$rss_ok; $peak_ok" "-"
    sql_row "RSS (peak) after reopening with $API_LARGE stored (MB)" "-" "-" "$(rss_cell sqlite reopened)" "-" "-" "$lost"
    sql_row "database file with $API_LARGE x 2 KB stored (MB, with WAL)" "-" "-" \
        "$(awk -v b="$db_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')" "-" "-" "-"

    for name in list_newest_50 search_free_text search_absent_term search_subject; do
        local label limit=$TARGET_SEARCH_MS
        label=$(api_label "$name" ": scans all")
        [ "$name" = list_newest_50 ] && limit=$TARGET_LIST_MS
        sql_row "$label, $API_SMALL stored (median ms)" "-" "$(field "${name}_ms" "$mem_small")" \
            "$(field "${name}_ms" "$small")" "-" "-" "-"
        sql_row "$label, $API_LARGE stored (median ms)" "-" "$(field "${name}_ms" "$mem_large")" \
            "$(field "${name}_ms" "$large")" "-" "$(large_verdict "$(field "${name}_ms" "$large")" le "$limit" "≤ $limit ms")" "-"
    done
    sql_row "250 reply -> WebSocket new frame (median ms; p99 memory $(field ws_new_p99_ms "$mem_small"), sqlite $(field ws_new_p99_ms "$small"))" \
        "-" "$(field ws_new_ms "$mem_small")" "$(field ws_new_ms "$small")" "-" "-" "-"
    sql_row "start-up with $API_LARGE stored: to the SMTP port accepting (s)" "-" "-" "$STARTUP_SMTP_S" "-" \
        "$(large_verdict "$STARTUP_SMTP_S" lt "$TARGET_STARTUP_S" "< $TARGET_STARTUP_S s")" "-"
    sql_row "start-up with $API_LARGE stored: to /readyz answering 200 (s)" "-" "-" "$STARTUP_READY_S" "-" \
        "$(large_verdict "$STARTUP_READY_S" lt "$TARGET_STARTUP_S" "< $TARGET_STARTUP_S s")" "$lost"
}

# The PostgreSQL engine's API rows: the same fills and api-bench runs as
# memory, on a fresh database.
postgres_api() {
    api_run postgres
    stop_server
    local small large mem_small mem_large sq_small sq_large fill
    small=$(result api-postgres-small)
    large=$(result api-postgres-large)
    mem_small=$(result api-memory-small)
    mem_large=$(result api-memory-large)
    sq_small=$(result api-sqlite-small)
    sq_large=$(result api-sqlite-large)
    fill=$(result fill-postgres)
    local more=$((API_LARGE - API_SMALL - WS_MESSAGES))
    pg_row "2 KB, 10 conn, smtp-load --pipelining: $more more onto $((API_SMALL + WS_MESSAGES)) stored (msgs/s)" "-" \
        "$(field msgs_per_s "$(result fill-memory)")" \
        "$(field msgs_per_s "$(result fill-sqlite)")" "$(field msgs_per_s "$fill")" "-" "-" \
        "$(field failed "$fill")"
    for name in list_newest_50 search_free_text search_absent_term search_subject; do
        local label limit=$TARGET_PG_SEARCH_MS target
        label=$(api_label "$name" "")
        [ "$name" = list_newest_50 ] && limit=$TARGET_PG_LIST_MS
        target=$(large_verdict "$(field "${name}_ms" "$large")" le "$limit" "≤ $limit ms")
        [ "$name" = search_subject ] && target="-"
        pg_row "$label, $API_SMALL stored (median ms)" "-" "$(field "${name}_ms" "$mem_small")" \
            "$(field "${name}_ms" "$sq_small")" "$(field "${name}_ms" "$small")" "-" "-" "-"
        pg_row "$label, $API_LARGE stored (median ms)" "-" "$(field "${name}_ms" "$mem_large")" \
            "$(field "${name}_ms" "$sq_large")" "$(field "${name}_ms" "$large")" "-" "$target" "-"
    done
    pg_row "250 reply -> WebSocket new frame (median ms; p99 postgres $(field ws_new_p99_ms "$small"))" "-" \
        "$(field ws_new_ms "$mem_small")" "$(field ws_new_ms "$sq_small")" "$(field ws_new_ms "$small")" "-" "-" "-"
}

main() {
    ensure_postfix_tools
    start_postgres
    build
    log "loopback only; $(nproc) cores; REPEAT=$REPEAT QUICK=$QUICK"
    for size in 2048 204800; do
        local count=$SMALL_COUNT name="2 KB"
        [ "$size" = 204800 ] && count=$LARGE_COUNT name="200 KB"
        for conns in 1 10; do
            local sqlite=""
            [ "$conns" = 10 ] && sqlite=yes
            ingest smtp-source "$conns" "$count" "$size" "$name, $conns conn, smtp-source" "" $sqlite
            local memory=""
            [ "$conns" = 10 ] && memory=yes
            ingest smtp-load "$conns" "$count" "$size" "$name, $conns conn, smtp-load --pipelining" "$memory" $sqlite
        done
        if [ "$size" = 2048 ]; then
            SMALL_MEMORY=$(memory_row "$count x 2 KB")
        else
            LARGE_MEMORY=$(memory_row "$count x 200 KB")
        fi
    done
    ROWS+=("$SMALL_MEMORY" "$LARGE_MEMORY")
    api
    sqlite_api
    [ -z "$PG_URL" ] || postgres_api
    echo
    echo "mailcatch vs smtp-sink, $(nproc) cores, $(date -u +%Y-%m-%d), REPEAT=$REPEAT"
    echo
    echo "| measurement | smtp-sink | mailcatch | ratio | lost |"
    echo "|---|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "SQLite engine (--database, durable acknowledgement) beside memory and smtp-sink, same run"
    echo
    echo "| measurement | smtp-sink | memory | sqlite | sqlite / sink | target | lost |"
    echo "|---|---:|---:|---:|---:|---|---:|"
    printf '%s\n' "${SQL_ROWS[@]}"
    echo
    if [ -z "$PG_URL" ]; then
        echo "PostgreSQL engine: skipped (PostgreSQL's binaries are not installed)"
        return
    fi
    echo "PostgreSQL engine (--database postgres://, local cluster, fsync=$PG_FSYNC, 250 after COMMIT) beside the others, same run"
    echo
    echo "| measurement | smtp-sink | memory | sqlite | postgres | postgres / sink | target | lost |"
    echo "|---|---:|---:|---:|---:|---:|---|---:|"
    printf '%s\n' "${PG_ROWS[@]}"
}

main "$@"

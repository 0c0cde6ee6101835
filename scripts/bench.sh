#!/usr/bin/env bash
# Benchmarks mailcatch against postfix's smtp-sink (a C SMTP server that
# parses and stores nothing) on loopback, and prints every figure as a
# markdown table with its ratio to the sink from the same run.
#
#   scripts/bench.sh             # the full run (a few minutes on 2 cores)
#   REPEAT=3 scripts/bench.sh    # each throughput cell is the median of 3 runs
#   QUICK=1 scripts/bench.sh     # smaller counts, for trying the script out
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
#      20) with 20,000 and 100,000 stored, and the delay from the 250 reply
#      to the WebSocket `new` frame (median over 200 messages).
#
# Traffic goes to 127.0.0.1 only; every client run is bounded in count and
# wrapped in `timeout`; every server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=${REPEAT:-1}
QUICK=${QUICK:-0}
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

log() { echo "bench: $*" >&2; }

cleanup() {
    stop_server
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

build() {
    log "building mailcatch and the benchmark examples (release)"
    cargo build --release --quiet --bin mailcatch --example smtp-load --example api-bench
}

# A free TCP port on loopback (bounded number of tries).
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
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

# Starts mailcatch on SMTP_PORT and HTTP_PORT with room for every message.
start_mailcatch() {
    SMTP_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    "$TARGET/mailcatch" --smtp "$HOST:$SMTP_PORT" --listen "$HOST:$HTTP_PORT" \
        --max 200000 --max-store-size 4096 --quiet &
    SERVER_PID=$!
    wait_for_port "$SMTP_PORT"
    wait_for_port "$HTTP_PORT"
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
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
    local client=$1 conns=$2 count=$3 size=$4 out="$WORK/client.out"
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

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }

# --- measurements ------------------------------------------------------------

# One ingest cell: the same load against the sink and mailcatch, REPEAT
# times each; the row holds the medians. Memory is read after the last
# mailcatch run of the cells that ask for it.
ingest() {
    local client=$1 conns=$2 count=$3 size=$4 label=$5 memory=${6:-}
    local sink_rates=() mc_rates=() mc_mb=() sink_mb=() lost=0 stored bytes=0
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
}

memory_row() {
    local label=$1
    awk -v l="$label" -v base="$MEM_BASE_KB" -v hwm="$MEM_HWM_KB" -v rss="$MEM_RSS_KB" -v raw="$MEM_RAW" 'BEGIN {
        printf "| %s: RSS (peak) over raw %.1f MB, base %.1f MB | - | %.1f MB (%.1f MB) | %.2fx (%.2fx) | - |\n",
            l, raw / 1e6, base * 1024 / 1e6, (rss - base) * 1024 / 1e6, (hwm - base) * 1024 / 1e6,
            (rss - base) * 1024 / raw, (hwm - base) * 1024 / raw }'
}

# API timings at two store sizes and the WebSocket delay, on one mailcatch.
api() {
    start_mailcatch
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/smtp-load" --addr "$HOST:$SMTP_PORT" \
        --conns 10 --messages "$API_SMALL" --size 2k --pipelining >/dev/null
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/api-bench" --http "$HOST:$HTTP_PORT" --smtp "$HOST:$SMTP_PORT" \
        --expect-total "$API_SMALL" --runs 20 --ws-messages "$WS_MESSAGES" >"$WORK/api-small.out"
    local filled=$((API_SMALL + WS_MESSAGES))
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/smtp-load" --addr "$HOST:$SMTP_PORT" \
        --conns 10 --messages $((API_LARGE - filled)) --size 2k --pipelining >/dev/null
    timeout "$CLIENT_TIMEOUT" "$TARGET/examples/api-bench" --http "$HOST:$HTTP_PORT" --smtp "$HOST:$SMTP_PORT" \
        --expect-total "$API_LARGE" --runs 20 --ws-messages 0 >"$WORK/api-large.out"
    stop_server
    local small large
    small=$(grep '^RESULT' "$WORK/api-small.out")
    large=$(grep '^RESULT' "$WORK/api-large.out")
    field() { sed -n "s/.* $1=\([-0-9.]*\).*/\1/p" <<<"$2"; }
    for name in list_newest_50 search_free_text search_subject; do
        local label=${name//_/ }
        label=${label/search subject/search subject:}
        row "$label, $API_SMALL stored (median ms)" "-" "$(field "${name}_ms" "$small")" "-" "-"
        row "$label, $API_LARGE stored (median ms)" "-" "$(field "${name}_ms" "$large")" "-" "-"
    done
    row "250 reply -> WebSocket new frame (median ms; p99 $(field ws_new_p99_ms "$small"))" "-" \
        "$(field ws_new_ms "$small")" "-" "-"
}

main() {
    ensure_postfix_tools
    build
    log "loopback only; $(nproc) cores; REPEAT=$REPEAT QUICK=$QUICK"
    for size in 2048 204800; do
        local count=$SMALL_COUNT name="2 KB"
        [ "$size" = 204800 ] && count=$LARGE_COUNT name="200 KB"
        for conns in 1 10; do
            ingest smtp-source "$conns" "$count" "$size" "$name, $conns conn, smtp-source"
            local memory=""
            [ "$conns" = 10 ] && memory=yes
            ingest smtp-load "$conns" "$count" "$size" "$name, $conns conn, smtp-load --pipelining" $memory
        done
        if [ "$size" = 2048 ]; then
            SMALL_MEMORY=$(memory_row "$count x 2 KB")
        else
            LARGE_MEMORY=$(memory_row "$count x 200 KB")
        fi
    done
    ROWS+=("$SMALL_MEMORY" "$LARGE_MEMORY")
    api
    echo
    echo "mailcatch vs smtp-sink, $(nproc) cores, $(date -u +%Y-%m-%d), REPEAT=$REPEAT"
    echo
    echo "| measurement | smtp-sink | mailcatch | ratio | lost |"
    echo "|---|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
}

main "$@"

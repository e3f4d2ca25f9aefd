#!/usr/bin/env bash
# Measures what a durable commit costs: check, info and create at 1 and at
# 32 sessions, with `ma-registry bench`, against one or more builds back to
# back (the same machine, the same minute), each on a fresh store in
# development mode with docs/examples/bench/ma-registry-bench.toml.
# docs/performance.md "Durability: the cost of an fdatasync per commit"
# reports its output.
#
#   usage: docs/examples/bench/durable.sh BIN[:CONFIG][@postgres] ...
#          (CONFIG: an older build's own bench configuration, when it does
#          not read this one; @postgres: the store on PostgreSQL, in a
#          cluster this script starts in a temp directory, with
#          synchronous_commit = on and fsync = on)
#   env:   SECS     seconds per run (default 10)
#          DOMAINS  domains created for info (default 2000)
set -euo pipefail
cd "$(dirname "$0")/../../.."
SECS=${SECS:-10}
DOMAINS=${DOMAINS:-2000}
echo "$(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); kernel $(uname -r); $(df -T . | awk 'NR==2 {print $2}') file system"
PG_DIR=""
PG_PORT=""
# PostgreSQL's programs, and the user to run them as (initdb refuses root).
pg() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$bin/$1" "${@:2}"
    else
        "$bin/$1" "${@:2}"
    fi
}
start_postgres() {
    [ -n "$PG_DIR" ] && return
    PG_DIR=$(mktemp -d)
    PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
    pg initdb -U registry --auth=trust -D "$PG_DIR/db" >/dev/null
    pg pg_ctl -D "$PG_DIR/db" -l "$PG_DIR/log" -w \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB" \
        start >/dev/null
    trap 'pg pg_ctl -D "$PG_DIR/db" -m fast stop >/dev/null; rm -rf "$PG_DIR"' EXIT
}
N=0
for ARG in "$@"; do
    ENGINE=sled
    case "$ARG" in *@postgres) ENGINE=postgres; ARG=${ARG%@postgres} ;; esac
    BIN=${ARG%%:*}
    CONFIG=docs/examples/bench/ma-registry-bench.toml
    [ "$ARG" != "$BIN" ] && CONFIG=${ARG#*:}
    DATA=$(mktemp -d)
    ENV=()
    if [ "$ENGINE" = postgres ]; then
        start_postgres
        N=$((N + 1))
        pg psql -h 127.0.0.1 -p "$PG_PORT" -U registry -d postgres -qc "CREATE DATABASE bench$N"
        ENV=(MA_REGISTRY_STORE_BACKEND=postgres "MA_REGISTRY_STORE_URL=postgresql://registry@127.0.0.1:$PG_PORT/bench$N")
    fi
    env "${ENV[@]}" "$BIN" --config "$CONFIG" --data-dir "$DATA/data" \
        serve --dev >"$DATA/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 50); do
        grep -q "EPP on" "$DATA/server.log" && break
        sleep 0.2
    done
    for sessions in 1 32; do
        for scenario in check info create; do
            extra=()
            [ "$scenario" = info ] && extra=(--domains "$DOMAINS" --prefix "i$sessions-")
            [ "$scenario" = create ] && extra=(--prefix "c$sessions-")
            line=$(MA_REGISTRY_LOG=warn "$BIN" bench --host 127.0.0.1 --port 7700 \
                --sessions "$sessions" --duration "$SECS" --scenario "$scenario" \
                --contact-extension docs/examples/bench/ma-contact-extension.xml \
                "${extra[@]}" --json 2>/dev/null || true)
            python3 -c '
import json, sys
r = json.loads(sys.argv[1]); l = r["latency_ms"]
print("%-34s %-6s %2d sessions %9.0f/s  p50 %6.2f ms  p99 %6.2f ms  errors %d" % (
    sys.argv[2], sys.argv[3], int(sys.argv[4]), r["commands_per_sec"], l["p50"], l["p99"], r["errors"]))
' "$line" "$BIN@$ENGINE" "$scenario" "$sessions"
        done
    done
    kill "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    rm -rf "$DATA"
done

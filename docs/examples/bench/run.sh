#!/usr/bin/env bash
# Measures ma-registry with `ma-registry bench`, as docs/performance.md
# reports: starts the release server in development mode (EPP on
# 127.0.0.1:7700, WHOIS on 127.0.0.1:4343) on a fresh store with
# docs/examples/bench/ma-registry-bench.toml, runs the five scenarios, prints
# each table and writes each JSON report to OUT (default bench-results/).
# Stops the server it started when done.
#
#   usage: docs/examples/bench/run.sh [OUT]
#   env:   BIN       the binary (default target/release/ma-registry)
#          SECS      seconds per scenario (default 15)
#          SESSIONS  concurrent sessions (default 32)
#          DOMAINS   domains created for info and mix (default 5000)
#          MA_REGISTRY_LOG  the server's log filter (default info)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${BIN:-target/release/ma-registry}
OUT=${1:-bench-results}
SECS=${SECS:-15}
SESSIONS=${SESSIONS:-32}
DOMAINS=${DOMAINS:-5000}
mkdir -p "$OUT"
DATA=$(mktemp -d)
"$BIN" --config docs/examples/bench/ma-registry-bench.toml --data-dir "$DATA/data" \
    serve --dev >"$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 50); do
    grep -q "EPP on" "$DATA/server.log" && break
    sleep 0.2
done
if ! grep -q "EPP on" "$DATA/server.log"; then
    echo "the server did not start:" >&2
    cat "$DATA/server.log" >&2
    exit 1
fi
echo "$(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo); kernel $(uname -r)"
common=(--host 127.0.0.1 --port 7700 --sessions "$SESSIONS" --duration "$SECS"
    --contact-extension docs/examples/bench/ma-contact-extension.xml)
run() {
    local name=$1
    shift
    echo "== $name ($(cut -d' ' -f1-3 /proc/loadavg) load before)"
    MA_REGISTRY_LOG=warn "$BIN" bench "${common[@]}" "$@" --json-out "$OUT/$name.json" || true
}
run check --scenario check
run info --scenario info --domains "$DOMAINS"
run create --scenario create
run mix --scenario mix --domains "$DOMAINS"
run login --scenario login
run login-resumed --scenario login --tls-resumption

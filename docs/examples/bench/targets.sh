#!/usr/bin/env bash
# The throughput targets of docs/performance.md ("Against the targets"),
# for one or more builds back to back: check, info (2,000 domains), create
# and login (a full TLS handshake each) at 32 sessions, each build on a
# fresh store in development mode, with the CPU time the server and the
# load tool spent per command.
#
#   usage: docs/examples/bench/targets.sh BIN[@ROOT] ...
#          (ROOT: the checkout whose certs/ and bench configuration the
#          build runs with, for an older build; default: this checkout)
#   env:   SECS      seconds per run (default 10)
#          ROUNDS    how many times the whole set runs (default 1)
#          SESSIONS  concurrent sessions (default 32)
#          SCENARIOS which ones (default "check info create login")
#
# Each line: build, scenario, commands per second, p50 and p99 latency,
# the server's CPU time per command (user + system, from /proc/PID/stat)
# and the load tool's (from /usr/bin/time).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/../../.." && pwd)
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-1}
SESSIONS=${SESSIONS:-32}
echo "$(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); kernel $(uname -r)"
run() {
    local bin=$1 root=$2 scenario=$3
    local work
    work=$(mktemp -d)
    cd "$root"
    "$bin" --config docs/examples/bench/ma-registry-bench.toml --data-dir "$work/data" \
        serve --dev >"$work/server.log" 2>&1 &
    local server=$!
    for _ in $(seq 50); do
        grep -q "EPP on" "$work/server.log" && break
        sleep 0.2
    done
    local extra=()
    if [ "$scenario" = info ]; then
        MA_REGISTRY_LOG=warn "$bin" bench --host 127.0.0.1 --port 7700 --scenario info \
            --domains 2000 --prefix cpu- --count 1 \
            --contact-extension docs/examples/bench/ma-contact-extension.xml >/dev/null 2>&1
        seq 0 1999 | sed 's/^/cpu-i/; s/$/.ma/' >"$work/names.txt"
        extra=(--names "$work/names.txt")
    fi
    local before after
    before=$(awk '{print $14 + $15}' "/proc/$server/stat")
    MA_REGISTRY_LOG=warn /usr/bin/time -f "%U %S" -o "$work/time" "$bin" bench \
        --host 127.0.0.1 --port 7700 --sessions "$SESSIONS" --duration "$SECS" \
        --scenario "$scenario" --contact-extension docs/examples/bench/ma-contact-extension.xml \
        --json-out "$work/run.json" "${extra[@]}" >/dev/null 2>&1 || true
    after=$(awk '{print $14 + $15}' "/proc/$server/stat")
    python3 - "$work/run.json" "$before" "$after" "$work/time" "$bin" "$scenario" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = r["count"]; l = r["latency_ms"]
user, system = map(float, open(sys.argv[4]).read().split()[-2:])
server = (float(sys.argv[3]) - float(sys.argv[2])) * 1e4 / n
print("%-28s %-7s %8.0f/s  p50 %6.2f ms  p99 %6.2f ms  server %6.1f us  bench %6.1f us  errors %d" % (
    sys.argv[5][-28:], sys.argv[6], r["commands_per_sec"], l["p50"], l["p99"], server,
    (user + system) * 1e6 / n, r["errors"]))
PY
    kill "$server"
    wait "$server" 2>/dev/null || true
    rm -rf "$work"
    cd "$HERE"
}
for round in $(seq "$ROUNDS"); do
    echo "round $round, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    for scenario in ${SCENARIOS:-check info create login}; do
        for arg in "$@"; do
            bin=${arg%%@*}
            root=$HERE
            [ "$arg" != "$bin" ] && root=${arg#*@}
            run "$(realpath "$bin")" "$root" "$scenario"
        done
    done
done

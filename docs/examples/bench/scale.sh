#!/usr/bin/env bash
# Measures ma-registry on a large store, as the section "1,000,000 domains"
# of docs/performance.md reports. For each store size (N, then SMALL):
#
#   1. generates an import file (docs/import.md) of that many domains: one
#      registrar (demo1), a few hundred shared contacts, 40 name servers
#      outside the registry, names made of words, expiry dates spread over
#      five years with a few due now and a few more in the coming month;
#   2. loads it with `admin import` into a fresh data directory (timed), and
#      prints the store's size on disk;
#   3. runs `admin lifecycle run` offline twice: the first applies what is
#      due now (the expiry notices of the domains expiring within 30 days),
#      the second finds nothing due; both open the store, so the difference
#      is the sweep;
#   4. measures the server on that store (below);
#   5. takes a backup and restores it into a new directory (both timed),
#      which rewrites the store in key order, prints its size, and measures
#      the server on it too;
#   6. on the restored store, server stopped, runs `admin lifecycle run`
#      with the clock 30 days ahead (MA_REGISTRY_NOW), when the notices of
#      the domains expiring within 31-60 days are due, then again with
#      nothing due; then removes the stores and the files.
#
# Measuring the server: it is started three times, `serve --dev` once, then
# twice without --dev, each time timing from the process's start to the
# first greeting read on the EPP port (TLS to 127.0.0.1:7700 as demo1), and
# stopped (SIGTERM). Then `serve --dev` again: its VmRSS and VmHWM idle,
# `bench --scenario info --names FILE` (all the names, shuffled) with 32
# sessions then 4 sessions, the memory after each, and `admin lifecycle
# run` through the admin socket (nothing due), timed.
#
# The load average is printed with every figure. Each bench report is also
# written as JSON to OUT (default scale-results/), and every figure to
# OUT/summary.txt.
#
#   usage: docs/examples/bench/scale.sh [OUT]
#   env:   N      domains of the large store (default 1000000)
#          SMALL  domains of the comparison store (default 10000; 0: none)
#          SECS   seconds of each bench run (default 15)
#          BIN    the binary (default target/release/ma-registry)
#          CONFIG the server's configuration (default
#                 docs/examples/bench/ma-registry-bench.toml)
#          WORK   where the files and stores go (default a new dir under /tmp)
#          RESTORE 0: skip the backup, the restore and what is measured on
#                 the restored store
#          KEEP   1: keep WORK (import files, stores, backups, names) at the end
#          MA_REGISTRY_LOG  the server's log filter (default info)
#
# The EPP port 7700 and the WHOIS port 4343 must be free. For 1,000,000
# domains it needs about 7 GB of disk (11 GB with KEEP=1) and 40 minutes.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${BIN:-target/release/ma-registry}
OUT=${1:-scale-results}
N=${N:-1000000}
SMALL=${SMALL:-10000}
SECS=${SECS:-15}
CONFIG=${CONFIG:-docs/examples/bench/ma-registry-bench.toml}
mkdir -p "$OUT"
WORK=${WORK:-$(mktemp -d /tmp/ma-scale.XXXXXX)}
mkdir -p "$WORK"
SERVER=
stop_server() {
    [ -n "$SERVER" ] || return 0
    kill -TERM "$SERVER" 2>/dev/null || true
    for _ in $(seq 600); do
        [ -e "/proc/$SERVER" ] || break
        sleep 0.1
    done
    SERVER=
}
cleanup() {
    stop_server
    [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
say() { echo "$*" | tee -a "$OUT/summary.txt"; }

# ---------------------------------------------------------------- helpers
cat >"$WORK/gen.py" <<'EOF'
# gen.py N IMPORT NAMES: an import file of N domains (docs/import.md) and the
# list of their names, shuffled. Deterministic (seeded).
import datetime, json, random, sys

n, out, names_out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(20261122)
today = datetime.datetime.now(datetime.timezone.utc).date()
words = """atlas sahara maghreb medina souk riad kasbah argan zellige tajine couscous
menthe safran cedre oasis dune palmier olive amande figue datte grenade jasmin
rose fleur jardin soleil lune etoile ciel mer ocean port plage vague sable
montagne vallee riviere source lac foret desert route chemin pont porte place
maison atelier boutique marche bazar comptoir epicerie boulangerie patisserie
librairie pharmacie clinique cabinet agence bureau conseil services solutions
digital web net info media presse radio tele video photo studio design mode
style beaute sante sport auto moto transport voyage tourisme hotel restaurant
cafe traiteur immobilier batiment construction energie solaire eau vert bio
nature ferme agri peche textile cuir tapis poterie bijoux artisanat export
import trading logistique finance banque assurance credit invest capital group
holding maroc marocain casa rabat fes marrakech tanger agadir meknes oujda
kenitra tetouan safi essaouira nador ifrane chefchaouen ouarzazate laayoune
dakhla errachidia beni mellal khouribga settat jadida mohammedia temara sale
taza larache berkane guelmim tiznit azrou midelt zagora tinghir rif souss
noor amal baraka salam nour yasmine karim hassan fatima amine youssef omar
ali mehdi sara imane khadija rachid nadia hamza ilyas zineb salma hicham
tech lab data cloud soft code app mobile smart cyber logic net system pro
plus top best first star prime royal golden silver blue green red white
atlas-voyages nouvelle ancienne grand petit centre nord sud est ouest
academie ecole institut formation education cours etudes savoir culture
art musique theatre cinema festival events fete mariage cadeau""".split()
zones = ["ma"] * 70 + ["co.ma"] * 20 + ["net.ma"] * 5 + ["org.ma"] * 5
firsts = """Amal Youssef Fatima Karim Nadia Hassan Imane Omar Khadija Mehdi Salma
Rachid Zineb Hamza Sara Ilyas Hicham Nour Yasmine Amine Latifa Driss Samira
Abdelali Meryem Said Houda Mustapha Loubna Anas""".split()
lasts = """Benjelloun Alaoui Bennani Tazi Idrissi Fassi Berrada Chraibi Lahlou
Amrani Sebti Kettani Benkirane Ouazzani Filali Skalli Squalli Lazrak Naciri
Bouzidi Hajji Ziani Cherkaoui Mansouri Rami Saidi Tahiri Zouaoui""".split()
cities = [("Casablanca", "20000"), ("Rabat", "10000"), ("Fès", "30000"),
          ("Marrakech", "40000"), ("Tanger", "90000"), ("Agadir", "80000"),
          ("Meknès", "50000"), ("Oujda", "60000"), ("Kénitra", "14000"),
          ("Tétouan", "93000")]
streets = ["rue Tarik", "avenue Mohammed V", "boulevard Zerktouni",
           "rue de Fès", "avenue Hassan II", "rue Ibn Battouta", "place du 16 Novembre"]
CONTACTS, HOSTS = 400, 40


def day(d):
    return d.isoformat()


with open(out, "w", encoding="utf-8") as f:
    w = lambda o: f.write(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n")
    w({"type": "registrar", "id": "demo1", "name": "Demo registrar demo1",
       "email": "ops@demo1.example", "created": "2006-04-01"})
    contacts = []
    for i in range(CONTACTS):
        cid = f"ctc-{i:04d}"
        contacts.append(cid)
        first, last = rng.choice(firsts), rng.choice(lasts)
        city, pc = rng.choice(cities)
        letters = rng.choice(["A", "B", "BE", "BK", "CD", "J", "EE", "G"])
        w({"type": "contact", "id": cid, "sponsor": "demo1",
           "created": day(today - datetime.timedelta(days=rng.randint(400, 7000))),
           "postal": [{"type": "loc", "name": f"{first} {last}",
                       "street": [f"{rng.randint(1, 200)} {rng.choice(streets)}"],
                       "city": city, "pc": pc, "cc": "MA"}],
           "voice": f"+212.5{rng.randint(10000000, 39999999)}",
           "email": f"{first.lower()}.{last.lower()}{i}@example.ma",
           "identity": {"type": "cin", "number": f"{letters}{rng.randint(1, 999999)}",
                        "verification": "verified"}})
    hosts = []
    for i in range(HOSTS // 2):
        for ns in ("ns1", "ns2"):
            name = f"{ns}.hebergeur{i}.net"
            hosts.append(name)
            w({"type": "host", "name": name, "sponsor": "demo1", "created": "2010-01-01"})
    seen = set()
    names = []
    due_now = max(1, n // 2000)     # expiring within 30 days: notice due at once
    due_soon = max(1, n // 500)     # expiring in 31-60 days: notices due this month
    for k in range(n):
        while True:
            a, b, c = rng.choice(words), rng.choice(words), rng.choice(words)
            p = rng.random()
            if p < 0.30:
                label = a + b
            elif p < 0.50:
                label = f"{a}-{b}"
            elif p < 0.65:
                label = f"{a}{b}{rng.randint(1, 999)}"
            elif p < 0.75:
                label = f"{a}{rng.randint(1, 9999)}"
            elif p < 0.85:
                label = f"{a}-{b}-{c}"
            else:
                label = a + b + c
            name = f"{label[:63].strip('-')}.{rng.choice(zones)}"
            if name not in seen:
                seen.add(name)
                break
        if k < due_now:
            ahead = rng.randint(1, 29)
        elif k < due_now + due_soon:
            ahead = rng.randint(31, 60)
        else:
            ahead = rng.randint(61, 5 * 365 - 10)
        expires = today + datetime.timedelta(days=ahead)
        created = today - datetime.timedelta(days=rng.randint(1, 7300))
        d = {"type": "domain", "name": name, "sponsor": "demo1",
             "created": day(created), "expires": day(expires),
             "registrant": rng.choice(contacts),
             "contacts": [{"type": "admin", "id": rng.choice(contacts)},
                          {"type": "tech", "id": rng.choice(contacts)}]}
        if rng.random() < 0.85:
            i = rng.randrange(HOSTS // 2)
            d["nameservers"] = [f"ns1.hebergeur{i}.net", f"ns2.hebergeur{i}.net"]
        if rng.random() < 0.3:
            d["statuses"] = ["clientTransferProhibited"]
        w(d)
        names.append(name)
rng.shuffle(names)
with open(names_out, "w") as f:
    f.write("\n".join(names) + "\n")
EOF

cat >"$WORK/greet.py" <<'EOF'
# greet.py LOG PIDFILE COMMAND...: starts COMMAND (its output to LOG) and
# prints the seconds from its start to the first EPP greeting read on
# 127.0.0.1:7700. The server keeps running; its PID goes to PIDFILE.
import socket, ssl, struct, subprocess, sys, time

log, pidfile, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
ctx = ssl.create_default_context(cafile="certs/ca.pem")
ctx.load_cert_chain("certs/demo1.pem", "certs/demo1.key")
t0 = time.monotonic()
proc = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                        start_new_session=True)
with open(pidfile, "w") as f:
    f.write(str(proc.pid))


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise ConnectionError("closed")
        b += chunk
    return b


while True:
    if proc.poll() is not None:
        sys.exit(f"the server exited with {proc.returncode}; see {log}")
    if time.monotonic() - t0 > 300:
        sys.exit("no greeting after 300 s")
    try:
        with socket.create_connection(("127.0.0.1", 7700), timeout=300) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                (length,) = struct.unpack(">I", read_exact(s, 4))
                frame = read_exact(s, length - 4)
                if b"greeting" in frame:
                    break
    except (ConnectionError, OSError):
        time.sleep(0.002)
print(f"{time.monotonic() - t0:.3f}")
EOF

rss() { grep -E '^(VmRSS|VmHWM)' "/proc/$SERVER/status" | awk '{printf "%s %d MiB  ", $1, $2/1024}'; }

start() { # start LABEL [--dev]: starts the server, prints the start-up time
    local label=$1
    shift
    local l
    l=$(load)
    local secs
    secs=$(python3 "$WORK/greet.py" "$WORK/server.log" "$WORK/server.pid" \
        "$BIN" --config "$CONFIG" --data-dir "$DATA" serve \
        --epp-listen 127.0.0.1:7700 --whois-listen 127.0.0.1:4343 "$@")
    SERVER=$(cat "$WORK/server.pid")
    say "$label: start-up to first greeting ${secs} s (load $l)"
}

bench() { # bench NAME SESSIONS LABEL
    local name=$1 sessions=$2 label=$3 l
    l=$(load)
    echo "== info, $sessions sessions, $label (load $l before)"
    MA_REGISTRY_LOG=warn "$BIN" bench --host 127.0.0.1 --port 7700 --scenario info \
        --names "$WORK/names-$n.txt" --sessions "$sessions" --duration "$SECS" \
        --json-out "$OUT/$name.json" || true
    python3 - "$OUT/$name.json" "$label" "$sessions" "$l" <<'EOF' | tee -a "$OUT/summary.txt"
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency_ms"]
print(f"{sys.argv[2]}: info, {sys.argv[3]} sessions: {r['count']} commands, "
      f"{r['errors']} errors, {r['commands_per_sec']:.0f}/s, p50 {l['p50']:.3f} ms, "
      f"p90 {l['p90']:.3f} ms, p99 {l['p99']:.3f} ms, max {l['max']:.3f} ms (load {sys.argv[4]} before)")
EOF
}

lifecycle() { # lifecycle LABEL: `admin lifecycle run`, timed
    local label=$1 l t0 t1 report
    l=$(load)
    t0=$(date +%s.%N)
    report=$(MA_REGISTRY_LOG=warn "$BIN" --config "$CONFIG" --data-dir "$DATA" admin --json lifecycle run)
    t1=$(date +%s.%N)
    say "$label: lifecycle run $(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }") s, $(echo "$report" | tr -d ' \n') (load $l)"
}

# ---------------------------------------------------------------- runs
measure() { # measure LABEL NAME: the server on $DATA
    local label=$1 name=$2
    start "$label, serve --dev, 1st start" --dev
    stop_server
    for i in 2 3; do
        start "$label, serve (no --dev), start $i"
        stop_server
    done
    start "$label, serve --dev, for the load" --dev
    sleep 2
    say "$label: idle after start: $(rss)"
    bench "$name-32" 32 "$label"
    say "$label: after info at 32 sessions: $(rss)"
    bench "$name-4" 4 "$label"
    say "$label: after info at 4 sessions: $(rss)"
    lifecycle "$label, through the running server"
    stop_server
}

say "== $(date -u +%FT%TZ); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-); kernel $(uname -r); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for n in $N $SMALL; do
    [ "$n" -gt 0 ] || continue
    DATA="$WORK/data-$n"
    rm -rf "$DATA" "$DATA-restored" "$WORK/backup-$n"
    echo "== generating $n domains"
    python3 "$WORK/gen.py" "$n" "$WORK/import-$n.jsonl" "$WORK/names-$n.txt"
    say "$n domains: import file $(du -h "$WORK/import-$n.jsonl" | cut -f1), $(wc -l <"$WORK/import-$n.jsonl") lines"
    l=$(load)
    MA_REGISTRY_LOG=warn /usr/bin/time -f "%e s %M" -o "$WORK/import.time" \
        "$BIN" --config "$CONFIG" --data-dir "$DATA" admin --json import "$WORK/import-$n.jsonl" \
        >"$WORK/import-$n.json" 2>"$WORK/import-$n.err" || true
    python3 - "$WORK/import-$n.json" "$WORK/import.time" "$n" "$l" <<'EOF' | tee -a "$OUT/summary.txt"
import json, sys
r = json.load(open(sys.argv[1]))
secs, kb = open(sys.argv[2]).read().split()[-3::2]
loaded = {k: v["loaded"] for k, v in r.items() if isinstance(v, dict) and "loaded" in v}
rejected = len(r.get("rejected", []))
print(f"{sys.argv[3]} domains: import {secs} s, peak RSS {int(kb) // 1024} MiB, loaded {loaded}, "
      f"{rejected} lines refused (load {sys.argv[4]})")
EOF
    say "$n domains: $(grep -h 'compacted' "$WORK/import-$n.err" || echo 'no compaction reported')"
    say "$n domains: store on disk $(du -sh "$DATA" | cut -f1) ($(du -sb "$DATA" | cut -f1) bytes)"
    lifecycle "$n domains, offline, after the import"
    lifecycle "$n domains, offline, again"
    measure "$n domains" "info-$n"
    [ "${RESTORE:-1}" = 1 ] || continue

    l=$(load)
    t0=$(date +%s.%N)
    MA_REGISTRY_LOG=warn "$BIN" --config "$CONFIG" --data-dir "$DATA" admin backup "$WORK/backup-$n" >/dev/null
    t1=$(date +%s.%N)
    [ "${KEEP:-0}" = 1 ] || rm -rf "$DATA"
    MA_REGISTRY_LOG=warn /usr/bin/time -f "%e s %M" -o "$WORK/restore.time" \
        "$BIN" --config "$CONFIG" --data-dir "$DATA-restored" admin restore "$WORK/backup-$n" >/dev/null
    read -r rsecs _ rkb <"$WORK/restore.time"
    say "$n domains: backup $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s ($(du -h "$WORK/backup-$n" | cut -f1)), restore $rsecs s with peak RSS $((rkb / 1024)) MiB (load $l)"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/backup-$n"
    DATA="$DATA-restored"
    say "$n domains, restored: store on disk $(du -sh "$DATA" | cut -f1) ($(du -sb "$DATA" | cut -f1) bytes)"
    measure "$n domains, restored" "info-$n-restored"
    ahead=$(date -u -d "+30 days" +%FT%TZ)
    MA_REGISTRY_NOW=$ahead lifecycle "$n domains, restored, offline, clock at $ahead"
    MA_REGISTRY_NOW=$ahead lifecycle "$n domains, restored, offline, clock at $ahead, again"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$DATA" "$WORK/import-$n.jsonl"
done

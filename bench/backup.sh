#!/bin/bash
# Backups and restore at scale (docs/performance.md, Backups): a scheduler
# whose store holds RUNS runs (default 1,000,000, queued in an environment
# no agent serves) takes
#   - a first, full `backup create`, while starts paced at 1,000/s go on
#     (their acknowledgement latency, against the same without a backup);
#   - a second one after 10,000 more starts (incremental: only new table
#     files are copied);
#   - `backup verify` of the first (every byte read back and checksummed);
# then the recovery time: `--restore-from` into a new dir, and a scheduler
# started on it until its first admin answer (RTO = the two together).
# About a minute, most of it filling the store; run it alone:
#
#   bench/backup.sh [--runs N]
set -euo pipefail
RUNS=1000000
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) [ $# -ge 2 ] || exit 2; RUNS=$2; shift ;;
	*) echo "usage: $0 [--runs N]" >&2; exit 2 ;;
	esac
	shift
done
. "$(dirname "$0")/lib.sh"
bench_setup backup sparkpilot-scheduler spctl sp-bench-submit
PID=
PID2=
bench_on_exit PID2 PID

cat >"$D/sched.conf" <<CONF
log_completions = 0
max_queued_total = 0
backup_dir = $D/backups
CONF

spctl() { "$BIN/spctl" --socket "$SOCK" "$@"; }
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
mb() { python3 -c 'import sys; print("%.1f MB" % (int(sys.argv[1]) / 1e6))' "$1"; }

"$BIN/sparkpilot-scheduler" --config "$D/sched.conf" --data-dir "$D/data" \
	--admin-socket "$SOCK" --listen "$URL" >>"$D/scheduler.log" 2>&1 &
PID=$!
until spctl tenant list >/dev/null 2>&1; do sleep 0.05; done
spctl tenant add bench >/dev/null
spctl env add bench/prod >/dev/null
spctl job add bench/prod/pi -- --master yarn app.jar >/dev/null

t0=$(now_ms)
"$BIN/sp-bench-submit" "$SOCK" bench/prod/pi 8 $((RUNS / 8)) 256 >/dev/null
echo "store: $RUNS runs started in $(($(now_ms) - t0)) ms; data dir $(du -sm "$D/data" | cut -f1) MiB"

# Acknowledgement latency of starts paced at 1,000/s (one client, one in
# flight), those sent while the first backup ran against the others.
python3 - "$SOCK" "$D/paced.log" 6 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
out, end = open(sys.argv[2], "w"), time.time() + float(sys.argv[3])
nxt = time.time()
while nxt < end:
    time.sleep(max(0, nxt - time.time()))
    t0 = time.time(); s.sendall(b"run start bench/prod/pi\n")
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(4096)
    out.write("%d %d\n" % (t0 * 1e6, time.time() * 1e6))
    nxt += 0.001
PY
LAT=$!
sleep 2
t0=$(now_ms)
spctl --json backup create >"$D/b1.json"
t1=$(now_ms)
wait "$LAT"
echo "backup 1 (full): $((t1 - t0)) ms as spctl saw it ($(field duration_ms <"$D/b1.json") ms in the worker), $(mb "$(field size <"$D/b1.json")") in $(field files <"$D/b1.json") files"
python3 - "$D/paced.log" "$t0" "$t1" <<'PY'
import sys
b0, b1 = int(sys.argv[2]) * 1000, int(sys.argv[3]) * 1000
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
def stats(name, lat):
    lat = sorted(lat)
    if not lat:
        return print("  %s: none" % name)
    p = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] / 1000
    print("  start acknowledged, %s: %d starts, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
          % (name, len(lat), p(0.5), p(0.99), lat[-1] / 1000))
stats("paced at 1,000/s, no backup running", [a - s for s, a in rows if a < b0 or s > b1])
stats("paced at 1,000/s, during the backup", [a - s for s, a in rows if s <= b1 and a >= b0])
PY

"$BIN/sp-bench-submit" "$SOCK" bench/prod/pi 8 1250 256 >/dev/null
t0=$(now_ms)
spctl --json backup create >"$D/b2.json"
echo "backup 2 (10,000 more runs): $(($(now_ms) - t0)) ms, $(mb "$(field added_bytes <"$D/b2.json")") copied; backup dir $(mb "$(field backup_dir_bytes <"$D/b2.json")")"
t0=$(now_ms)
spctl backup verify 1 >/dev/null
echo "verify backup 1: $(($(now_ms) - t0)) ms"

# RTO: restore into a new dir, then a scheduler on it until it answers.
t0=$(now_ms)
"$BIN/sparkpilot-scheduler" --restore-from "$D/backups:1" --data-dir "$D/restored" >/dev/null
t1=$(now_ms)
SOCK2=$D/admin2.sock
"$BIN/sparkpilot-scheduler" --data-dir "$D/restored" --admin-socket "$SOCK2" \
	--listen "tcp://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
	>>"$D/scheduler2.log" 2>&1 &
PID2=$!
until "$BIN/spctl" --socket "$SOCK2" tenant list >/dev/null 2>&1; do
	kill -0 "$PID2" 2>/dev/null || { cat "$D/scheduler2.log" >&2; exit 1; }
	sleep 0.01
done
t2=$(now_ms)
echo "RTO: restore $(($t1 - t0)) ms + start to the first admin answer $(($t2 - t1)) ms = $(($t2 - t0)) ms ($(grep -o 'start: .*' "$D/scheduler2.log" | tail -1))"

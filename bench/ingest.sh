#!/bin/bash
# Telemetry ingest benchmark (issue 4): starts a scheduler on a temporary
# store and a free loopback port, enrolls AGENTS simulated agents
# (bin/sp-agentsim) in one environment, starts one long run per agent,
# and once every agent holds its run, streams signed, compressed telemetry
# batches (BATCHES per message, EVENTS per batch) back to back for SECONDS.
# Prints the events the scheduler acknowledged per second, the ack latency
# of the messages (p50/p99/max), and checks the acknowledged count against
# the scheduler's own (spctl agent show: telemetry.events). Stops
# everything it started, by PID.
#
#   bench/ingest.sh [--agents N] [--seconds S] [--events E] [--batches B]
#                   [--perf FILE] [--keep]
# --perf records the scheduler with `perf record -g` while streaming;
# --keep leaves the temporary directory (store, logs, ack log) behind.
set -euo pipefail
AGENTS=8
SECONDS_=10
EVENTS=500
BATCHES=16
PERF_OUT=
KEEP=
while [ $# -gt 0 ]; do
	case "$1" in
	--agents) AGENTS=$2; shift 2 ;;
	--seconds) SECONDS_=$2; shift 2 ;;
	--events) EVENTS=$2; shift 2 ;;
	--batches) BATCHES=$2; shift 2 ;;
	--perf) PERF_OUT=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: $0 [--agents N] [--seconds S] [--events E] [--batches B] [--perf FILE] [--keep]" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/lib.sh"
bench_setup ingest sparkpilot-scheduler spctl sp-agentsim
PID=
SIM_PID=
PERF_PID=
cleanup() {
	bench_stop $PERF_PID $SIM_PID $PID
	if [ -n "$KEEP" ]; then echo "kept $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT

cat >"$D/sched.conf" <<CONF
log_completions = 0
max_queued_total = 0
CONF

bench_start_scheduler --log-level warn

spctl() { "$BIN/spctl" --socket "$SOCK" "$@"; }
spctl tenant add bench >/dev/null
spctl env add bench/ingest >/dev/null
spctl job add bench/ingest/etl --timeout 86400 -- --master yarn app.jar >/dev/null
for _ in $(seq "$AGENTS"); do spctl agent token bench/ingest --ttl 3600; done >"$D/tokens"
for _ in $(seq "$AGENTS"); do spctl run start bench/ingest/etl >/dev/null; done

# The runs last an hour: each agent holds its one run while it streams.
"$BIN/sp-agentsim" --scheduler "$URL" --tokens "$D/tokens" --state-dir "$D/agents" \
	--slots 1 --run-ms 3600000 --telemetry-events "$EVENTS" \
	--telemetry-batches "$BATCHES" --telemetry-seconds "$SECONDS_" \
	--ack-log "$D/acks.log" >"$D/agentsim.out" 2>"$D/agentsim.err" &
SIM_PID=$!
# CPU seconds (user + sys) of a process so far
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# from the first acknowledged message on: enrollment is not ingest
until [ -s "$D/acks.log" ] || ! kill -0 "$SIM_PID" 2>/dev/null; do sleep 0.05; done
T0=$(date +%s%N)
CPU0=$(cpu_s "$PID")
if [ -n "$PERF_OUT" ]; then
	perf record -g -o "$PERF_OUT" -p "$PID" -- sleep $((SECONDS_ > 2 ? SECONDS_ - 1 : 1)) \
		>/dev/null 2>"$D/perf.err" &
	PERF_PID=$!
fi
wait "$SIM_PID" || { cat "$D/agentsim.err" >&2; exit 1; }
SIM_PID=
CPU1=$(cpu_s "$PID")
T1=$(date +%s%N)
if [ -n "$PERF_PID" ]; then wait "$PERF_PID" || true; PERF_PID=; fi
[ -s "$D/agentsim.err" ] && sed 's/^/  agentsim: /' "$D/agentsim.err" | head -5 >&2
grep '^telemetry' "$D/agentsim.out"
python3 -c 'import sys; c0, c1, t0, t1 = map(float, sys.argv[1:5]); w = (t1 - t0) / 1e9
print(f"scheduler: {c1 - c0:.2f} s of CPU while streaming ({w:.1f} s) = {(c1 - c0) / w:.2f} cores; host load {sys.argv[5]}")' \
	"$CPU0" "$CPU1" "$T0" "$T1" "$(cut -d" " -f1 /proc/loadavg)"

# The scheduler's count of events stored, against the acknowledged ones.
stored=0
for f in "$D"/agents/agent-*/agent.id; do
	id=$(cat "$f")
	n=$(spctl --json agent show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent"]["telemetry"]["events"])')
	stored=$((stored + n))
done
acked=$(awk '{ s += $2 } END { print s + 0 }' "$D/acks.log")
echo "scheduler: $stored events stored (agents counted $acked acknowledged); store $(du -sm "$D/data" | cut -f1) MiB"
[ "$stored" = "$acked" ] || { echo "ingest: stored and acknowledged counts differ" >&2; exit 1; }

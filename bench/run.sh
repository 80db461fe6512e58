#!/bin/bash
# make bench: starts a scheduler on a temporary store and measures, first
# on an empty queue and then with BACKLOG runs already queued (in another
# tenant's environment that no agent serves):
#   - acknowledged run starts per second over the admin socket (every
#     acknowledged start is synced: group commit per core turn);
#   - end-to-end runs per second, queued -> succeeded, through bin/sp-agentsim
#     (simulated agents on the real agent protocol);
#   - submit -> agent latency at a paced 1,000 starts per second;
# and the scheduler's restart time with the backlog (clean stop and kill -9).
# Prints the figures; docs/performance.md keeps the last ones.
#
#   bench/run.sh [--backlog N] [--e2e-runs N]
#   bench/run.sh --latency-rounds N [--lat-agents N] [--set 'KEY = VALUE']...
# The second form measures only the latency, N times on an empty store,
# with N agents (default 4) and extra scheduler settings (to compare one).
set -euo pipefail
BACKLOG=1000000
E2E_RUNS=100000
LAT_ROUNDS=0
LAT_AGENTS=4
SETTINGS=
usage() {
	echo "usage: $0 [--backlog N] [--e2e-runs N]" >&2
	echo "       $0 --latency-rounds N [--lat-agents N] [--set 'KEY = VALUE']..." >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case "$1" in
	--backlog) BACKLOG=$2 ;;
	--e2e-runs) E2E_RUNS=$2 ;;
	--latency-rounds) LAT_ROUNDS=$2 ;;
	--lat-agents) LAT_AGENTS=$2 ;;
	--set) SETTINGS+="$2"$'\n' ;;
	*) usage ;;
	esac
	shift 2
done
. "$(dirname "$0")/lib.sh"
bench_setup bench sparkpilot-scheduler spctl sp-agentsim sp-bench-submit sp-bench-fsync
PID=
SIM_PID=
bench_on_exit SIM_PID PID

# No per-run log lines (the benchmark measures the scheduler, not its log;
# the info level keeps the start-up timings) and no global queued limit
# (the backlog is the point).
cat >"$D/sched.conf" <<CONF
log_completions = 0
max_queued_total = 0
$SETTINGS
CONF

spctl() { "$BIN/spctl" --socket "$SOCK" "$@" >/dev/null; }

# Agents for ENV: N tokens into FILE.
tokens() { for _ in $(seq "$2"); do "$BIN/spctl" --socket "$SOCK" agent token "$1" --ttl 3600; done >"$3"; }

start_agents() { # TOKENS STATE_DIR SLOTS [more sp-agentsim flags]
	local tok=$1 dir=$2 slots=$3
	shift 3
	"$BIN/sp-agentsim" --scheduler "$URL" --tokens "$tok" --state-dir "$dir" \
		--slots "$slots" --run-ms 0 "$@" >>"$D/agentsim.log" 2>&1 &
	SIM_PID=$!
}

stop_agents() {
	kill -TERM "$SIM_PID" 2>/dev/null || true
	wait "$SIM_PID" 2>/dev/null || true
	SIM_PID=
}

submit_throughput() {
	"$BIN/sp-bench-submit" "$SOCK" bench/prod/pi 1 20000 1
	"$BIN/sp-bench-submit" "$SOCK" bench/prod/pi 4 20000 64
	"$BIN/sp-bench-submit" "$SOCK" bench/prod/pi 8 20000 256
}

# Queues E2E_RUNS in bench/e2e, then lets 8 simulated agents drain them.
end_to_end() {
	local per=$((E2E_RUNS / 8)) t0 t1
	"$BIN/sp-bench-submit" "$SOCK" bench/e2e/pi 8 "$per" 256 >/dev/null
	t0=$(now_ms)
	start_agents "$D/e2e.tokens" "$D/agents-e2e" 128 --exit-after-runs $((per * 8))
	wait "$SIM_PID"
	SIM_PID=
	t1=$(now_ms)
	[ "$(bench_queued_in bench/e2e)" = 0 ] || { echo "bench: bench/e2e did not drain" >&2; exit 1; }
	python3 -c "import sys; n, ms = int(sys.argv[1]), int(sys.argv[2]); print(f'end to end: {n} runs queued -> succeeded in {ms/1000:.2f} s = {n*1000/ms:.0f} runs/s (8 simulated agents x 128 slots)')" $((per * 8)) $((t1 - t0))
}

# Paced starts at 1,000/s into bench/lat, four idle agents long-polling
# (an agent busy reporting a completion is not waiting for work).
latency() {
	rm -f "$D/lease.log" "$D/submit.log"
	start_agents "$D/lat.tokens" "$D/agents-lat" 256 --lease-log "$D/lease.log"
	sleep 1
	# its own line gives the start's acknowledgement latency: the commit
	# path alone, without the agent's side
	"$BIN/sp-bench-submit" "$SOCK" bench/lat/pi 1 10000 256 1000 "$D/submit.log" |
		sed -n 's/.*latency \(p50 .*\)/  start acknowledged: \1/p' >"$D/ack.txt"
	for _ in $(seq 100); do [ "$(bench_queued_in bench/lat)" = 0 ] && break; sleep 0.1; done
	stop_agents
	python3 - "$D/submit.log" "$D/lease.log" <<'PY'
import sys
sent = dict(map(int, l.split()) for l in open(sys.argv[1]))
got = dict(map(int, l.split()) for l in open(sys.argv[2]))
lat = sorted(got[r] - sent[r] for r in sent if r in got)
if len(lat) != len(sent):
    sys.exit(f"bench: {len(sent) - len(lat)} of {len(sent)} runs never reached an agent")
p = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] / 1000
print(f"submit -> agent at 1,000 starts/s: {len(lat)} runs, p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms, max {lat[-1]/1000:.2f} ms")
PY
	cat "$D/ack.txt"
	"$BIN/spctl" --socket "$SOCK" --json queue stats | python3 -c '
import json, sys
w = json.load(sys.stdin)["wal_sync"]
ms = {k: w[k] / 1e3 for k in ("p50_us", "p99_us", "p999_us", "max_us")}
print("  scheduler WAL syncs since it started: {}, p50 {p50_us:.2f} ms, p99 {p99_us:.2f} ms, p999 {p999_us:.2f} ms, max {max_us:.2f} ms".format(w["syncs"], **ms))'
}

latency_after_burst() {
	printf '(right after the burst) '
	latency
}

# The disk's own synced-write tail, under nothing else: every start waits
# for at least one such write, so this is the floor of its latency.
"$BIN/sp-bench-fsync" "$D" 20000 2000
bench_start_timed
echo "scheduler start (empty store): $START_MS ms"
spctl tenant add bench
spctl env add bench/prod
spctl env add bench/e2e
spctl env add bench/lat
spctl job add bench/prod/pi -- --master yarn app.jar
spctl job add bench/e2e/pi -- --master yarn app.jar
spctl job add bench/lat/pi -- --master yarn app.jar
spctl tenant add backlog
spctl env add backlog/prod
spctl job add backlog/prod/pi -- --master yarn app.jar
tokens bench/e2e 8 "$D/e2e.tokens"
tokens bench/lat "$LAT_AGENTS" "$D/lat.tokens"
if [ "$LAT_ROUNDS" -gt 0 ]; then
	for _ in $(seq "$LAT_ROUNDS"); do latency; done
	exit 0
fi

# The submit runs stay queued (no agent serves bench/prod): measure the
# other two first, while the queue is really empty. Latency first: it is
# the figure at a steady 1,000 starts/s, not in the wake of end to end's
# burst of 100,000 runs, whose flushes and compactions lengthen the fsync
# tail for a few seconds (docs/performance.md gives both).
echo "== empty queue"
latency
end_to_end
latency_after_burst
submit_throughput

# Top the queue up to BACKLOG queued runs with starts in backlog/prod.
fill=$((BACKLOG - $(bench_queued_in bench/prod)))
t0=$(now_ms)
"$BIN/sp-bench-submit" "$SOCK" backlog/prod/pi 8 $((fill / 8)) 256 >/dev/null
queued=$(( $(bench_queued_in backlog/prod) + $(bench_queued_in bench/prod) ))
echo "== with $queued runs queued (filled in $(($(now_ms) - t0)) ms; store $(du -sm "$D/data" | cut -f1) MiB)"
kill -TERM "$PID"
wait "$PID" 2>/dev/null || true
bench_start_timed
echo "restart after a clean stop: $START_MS ms to the first admin answer ($(grep -o 'start: .*' "$D/scheduler.log" | tail -1))"
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
bench_start_timed
echo "restart after kill -9: $START_MS ms to the first admin answer ($(grep -o 'start: .*' "$D/scheduler.log" | tail -1))"
latency
end_to_end
latency_after_burst
submit_throughput

#!/bin/bash
# Millions of runs stored: what they cost the scheduler. Starts a scheduler
# on a temporary store and measures, on the empty store first:
#   - submit -> agent latency at a paced 1,000 starts per second (as
#     bench/run.sh measures it: four simulated agents long-poll bench/lat);
# then fills the store with N queued runs (bin/sp-bench-submit, 8 clients,
# in an environment no agent serves, so they stay queued), and with --ended
# M first M more that eight simulated agents run to success (an ended
# run's record is larger, and so is its memory); with --keyed the queued
# runs are started with idempotency keys (which the scheduler indexes for
# idempotency_ttl_s); and measures:
#   - the scheduler's resident memory (VmRSS) after the fill and after a
#     restart, and the bytes per stored run over the empty scheduler's;
#   - restart to the first admin answer after a clean stop and after
#     kill -9 (with the scheduler's own log of its start phases);
#   - the same latency with the N runs stored.
# Each figure is taken ROUNDS times (default 3); the 1-minute load average
# is printed with each, since the machine may be shared.
#
#   bench/millions.sh [--runs N] [--ended M] [--keyed] [--rounds R]
set -euo pipefail
RUNS=3000000
ENDED=0
ROUNDS=3
KEYED=
usage() {
	echo "usage: $0 [--runs N] [--ended M] [--keyed] [--rounds R]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	if [ "$1" = --keyed ]; then
		KEYED=1
		shift
		continue
	fi
	[ $# -ge 2 ] || usage
	case "$1" in
	--runs) RUNS=$2 ;;
	--ended) ENDED=$2 ;;
	--rounds) ROUNDS=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 8 ]] || { echo "$0: --runs wants a number from 8" >&2; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "$0: --rounds wants a positive number" >&2; exit 2; }
[[ $ENDED =~ ^[0-9]+$ && ( $ENDED -eq 0 || $ENDED -ge 8 ) ]] || { echo "$0: --ended wants 0 or a number from 8" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
bench_setup millions sparkpilot-scheduler spctl sp-agentsim sp-bench-submit
PID=
SIM_PID=
bench_on_exit SIM_PID PID

# No per-run log lines, no global queued limit (the stored runs are the
# point); the info level keeps the start-up timings. Ended runs leave
# memory as soon as they may: a start loads only those that ended within
# the budget guard's window (its minimum, a minute).
cat >"$D/sched.conf" <<CONF
log_completions = 0
max_queued_total = 0
ended_runs_in_memory_s = 0
guard_window_s = 60
CONF

load1() { cut -d' ' -f1 /proc/loadavg; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }

spctl() { "$BIN/spctl" --socket "$SOCK" "$@" >/dev/null; }

latency() {
	rm -f "$D/lease.log" "$D/submit.log"
	"$BIN/sp-agentsim" --scheduler "$URL" --tokens "$D/lat.tokens" \
		--state-dir "$D/agents" --slots 256 --run-ms 0 \
		--lease-log "$D/lease.log" >>"$D/agentsim.log" 2>&1 &
	SIM_PID=$!
	sleep 1
	"$BIN/sp-bench-submit" "$SOCK" bench/lat/pi 1 10000 256 1000 "$D/submit.log" >/dev/null
	for _ in $(seq 100); do [ "$(bench_queued_in bench/lat)" = 0 ] && break; sleep 0.1; done
	bench_stop "$SIM_PID"
	SIM_PID=
	python3 - "$D/submit.log" "$D/lease.log" "$(load1)" <<'PY'
import sys
sent = dict(map(int, l.split()) for l in open(sys.argv[1]))
got = dict(map(int, l.split()) for l in open(sys.argv[2]))
lat = sorted(got[r] - sent[r] for r in sent if r in got)
if len(lat) != len(sent):
    sys.exit(f"bench: {len(sent) - len(lat)} of {len(sent)} runs never reached an agent")
p = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] / 1000
print(f"  submit -> agent at 1,000 starts/s: p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms, max {lat[-1]/1000:.2f} ms (load {sys.argv[3]})")
PY
}

restart() { # SIGNAL LABEL
	kill "-$1" "$PID"
	wait "$PID" 2>/dev/null || true
	bench_start_timed
	echo "  restart after $2: $START_MS ms to the first admin answer, RSS $(rss_mb) MB (load $(load1); $(grep -o 'start: .*' "$D/scheduler.log" | tail -1))"
}

bench_start_timed
spctl tenant add bench
spctl env add bench/lat
spctl job add bench/lat/pi -- --master yarn app.jar
spctl env add bench/e2e
spctl job add bench/e2e/pi -- --master yarn app.jar
spctl tenant add backlog
spctl env add backlog/prod
spctl job add backlog/prod/pi -- --master yarn app.jar
for _ in 1 2 3 4; do "$BIN/spctl" --socket "$SOCK" agent token bench/lat --ttl 86400; done >"$D/lat.tokens"
for _ in $(seq 8); do "$BIN/spctl" --socket "$SOCK" agent token bench/e2e --ttl 86400; done >"$D/e2e.tokens"
# the empty scheduler's memory, after a restart as the full one's is
restart TERM "a clean stop (empty store)" >/dev/null
empty_kb=$(rss_kb)
echo "== empty store: RSS $(rss_mb) MB after a restart"
for _ in $(seq "$ROUNDS"); do latency; done

if [ "$ENDED" -gt 0 ]; then
	t0=$(now_ms)
	"$BIN/sp-agentsim" --scheduler "$URL" --tokens "$D/e2e.tokens" \
		--state-dir "$D/agents-e2e" --slots 128 --run-ms 0 \
		--exit-after-runs $(((ENDED + 7) / 8 * 8)) >>"$D/agentsim.log" 2>&1 &
	SIM_PID=$!
	"$BIN/sp-bench-submit" "$SOCK" bench/e2e/pi 8 $(((ENDED + 7) / 8)) 256 >/dev/null
	wait "$SIM_PID"
	SIM_PID=
	[ "$(bench_queued_in bench/e2e)" = 0 ] || { echo "bench: bench/e2e did not drain" >&2; exit 1; }
	echo "== $(((ENDED + 7) / 8 * 8)) runs succeeded in $(($(now_ms) - t0)) ms (load $(load1))"
	restart TERM "a clean stop (ended runs only, just ended: in memory)"
	python3 -c 'import sys; e, f, n = map(int, sys.argv[1:]); print(f"  memory per ended run in memory (after a restart, over the empty scheduler; {n} runs): {(f - e) * 1024 / n:.0f} bytes")' \
		"$empty_kb" "$(rss_kb)" "$(grep -o '[0-9]* runs loaded' "$D/scheduler.log" | tail -1 | cut -d' ' -f1)"
	sleep 61 # past the guard's window: the next start leaves them in the store
	restart TERM "a clean stop (ended runs only, a minute later: in the store)"
	ended_kb=$(rss_kb)
	ended_n=$(grep -o '[0-9]* runs loaded' "$D/scheduler.log" | tail -1 | cut -d' ' -f1)
	echo "  $(grep -o '[0-9]* ended runs left in the store' "$D/scheduler.log" | tail -1)"
	python3 -c 'import sys; e, f, n = map(int, sys.argv[1:]); print(f"  memory per ended run in the store only (after a restart, over the empty scheduler; {n} runs): {(f - e) * 1024 / n:.0f} bytes")' \
		"$empty_kb" "$ended_kb" "$ended_n"
	for _ in 1 2 3; do
		t0=$(now_ms)
		"$BIN/spctl" --socket "$SOCK" run show "$((ended_n / 2))" >/dev/null
		echo "  run show of a run in the store only: $(($(now_ms) - t0)) ms (spctl's own start included)"
	done
fi
per=$(((RUNS + 7) / 8))
t0=$(now_ms)
SP_BENCH_IDEM_PREFIX=${KEYED:+key} \
	"$BIN/sp-bench-submit" "$SOCK" backlog/prod/pi 8 "$per" 256 >/dev/null
fill_ms=$(($(now_ms) - t0))
queued=$(bench_queued_in backlog/prod)
echo "== $queued runs queued in $fill_ms ms (load $(load1)); store $(du -sm "$D/data" | cut -f1) MiB; RSS $(rss_mb) MB"
for _ in $(seq "$ROUNDS"); do restart TERM "a clean stop"; done
for _ in $(seq "$ROUNDS"); do restart KILL "kill -9"; done
stored=$(grep -o '[0-9]* runs loaded' "$D/scheduler.log" | tail -1 | cut -d' ' -f1)
python3 -c 'import sys; e, f, n = map(int, sys.argv[1:]); print(f"  memory per stored run (after a restart, over the empty scheduler; {n} runs): {(f - e) * 1024 / n:.0f} bytes")' \
	"$empty_kb" "$(rss_kb)" "$stored"
if [ "$ENDED" -gt 0 ]; then
	python3 -c 'import sys; e, f, n = map(int, sys.argv[1:]); print(f"  memory per queued run (over the ended runs alone; {n} runs): {(f - e) * 1024 / n:.0f} bytes")' \
		"$ended_kb" "$(rss_kb)" "$((stored - ended_n))"
fi
echo "== with $queued runs queued"
for _ in $(seq "$ROUNDS"); do latency; done

#!/bin/bash
# kill-scheduler.sh - crash safety with real processes. Drives run starts
# (scripts/chaos/submitter.py, idempotency keys, resent until answered) and
# completions through the real agent protocol (bin/sp-agentsim, 4 agents),
# while killing the scheduler with SIGKILL at random moments and starting
# it again on the same data directory, for --cycles N. Then it lets the
# queue drain and checks, Jepsen-style, that every acknowledged start
# exists and ended, and every run was recorded complete exactly once
# (scripts/chaos/check.py), printing lost / duplicated / recovered counts.
# Exit 0 only if nothing was lost or duplicated.
#
#   scripts/chaos/kill-scheduler.sh [--cycles N] [--seed S] [--keep]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/bin
CYCLES=20
SEED=$RANDOM
KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
	--cycles) CYCLES=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: $0 [--cycles N] [--seed S] [--keep]" >&2; exit 2 ;;
	esac
done
case "$CYCLES" in '' | *[!0-9]*) echo "$0: --cycles must be a number" >&2; exit 2 ;; esac
for b in sparkpilot-scheduler spctl sp-agentsim; do
	[ -x "$BIN/$b" ] || { echo "$0: $BIN/$b is missing: run make bin/sp-agentsim" >&2; exit 2; }
done
RANDOM=$SEED

T=$(mktemp -d "${TMPDIR:-/tmp}/sp-chaos.XXXXXX")
SOCK=$T/admin.sock
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=tcp://127.0.0.1:$PORT
SCHED_PID=
SIM_PID=
SUB_PID=

cleanup() {
	touch "$T/stop"
	for p in $SUB_PID $SIM_PID $SCHED_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $SUB_PID $SIM_PID $SCHED_PID; do
		for _ in $(seq 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ "$KEEP" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'echo "chaos: failed at line $LINENO (data in $T)" >&2' ERR

cat >"$T/sched.conf" <<CONF
agent_timeout_ms = 3000
log_completions = 0
CONF

start_scheduler() {
	"$BIN/sparkpilot-scheduler" --config "$T/sched.conf" --data-dir "$T/data" \
		--admin-socket "$SOCK" --listen "$URL" >>"$T/scheduler.log" 2>&1 &
	SCHED_PID=$!
	for _ in $(seq 200); do
		"$BIN/spctl" --socket "$SOCK" queue stats >/dev/null 2>&1 && return 0
		kill -0 "$SCHED_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "chaos: the scheduler did not come back; last log lines:" >&2
	tail -5 "$T/scheduler.log" >&2
	exit 1
}

spctl() { "$BIN/spctl" --socket "$SOCK" "$@"; }

start_scheduler
spctl tenant add chaos >/dev/null
spctl env add chaos/prod >/dev/null
spctl job add chaos/prod/j --max-attempts 3 -- --master yarn app.jar >/dev/null
for _ in 1 2 3 4; do spctl agent token chaos/prod --ttl 3600; done >"$T/tokens"
"$BIN/sp-agentsim" --scheduler "$URL" --tokens "$T/tokens" --state-dir "$T/agents" \
	--slots 32 --run-ms 100 --journal "$T/journal" >"$T/agentsim.log" 2>&1 &
SIM_PID=$!
python3 "$ROOT/scripts/chaos/submitter.py" "$SOCK" chaos/prod/j "$T/acked" "$T/stop" &
SUB_PID=$!

echo "chaos: seed $SEED, $CYCLES cycles of kill -9 (data in $T)"
for cycle in $(seq "$CYCLES"); do
	sleep "0.$((RANDOM % 9 + 1))"
	if ! kill -0 "$SCHED_PID" 2>/dev/null; then
		echo "chaos: cycle $cycle: the scheduler exited by itself; last log lines:" >&2
		tail -5 "$T/scheduler.log" >&2
		exit 1
	fi
	kill -KILL "$SCHED_PID"
	wait "$SCHED_PID" 2>/dev/null || true
	start_scheduler
	if [ $((cycle % 50)) = 0 ]; then
		echo "chaos: cycle $cycle, $(wc -l <"$T/acked") acknowledged starts"
	fi
done

# Stop submitting, let the agents finish what is queued, then check.
touch "$T/stop"
wait "$SUB_PID" || true
SUB_PID=
q=unknown
for _ in $(seq 1200); do
	q=$(spctl --json queue stats | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["queued"] + d["running"])')
	[ "$q" = 0 ] && break
	sleep 0.1
done
[ "$q" = 0 ] || echo "chaos: the queue did not drain in 120 s ($q runs left); checking anyway" >&2
kill -TERM "$SIM_PID"
wait "$SIM_PID" || true
SIM_PID=
tail -1 "$T/agentsim.log"
touch "$T/journal"
python3 "$ROOT/scripts/chaos/check.py" "$T/acked" "$T/journal" "$SOCK" "$CYCLES"

#!/bin/bash
# kill-scheduler.sh - crash safety with real processes. Drives run starts
# (scripts/chaos/submitter.py, idempotency keys, resent until answered) and
# completions through the real agent protocol (bin/sp-agentsim, 4 agents),
# while killing the scheduler with SIGKILL at random moments and starting
# it again on the same data directory, for --cycles N. Then it lets the
# queue drain and checks, Jepsen-style, that every acknowledged start
# exists and ended, and every run was recorded complete exactly once
# (scripts/chaos/check.py), printing lost / duplicated / recovered counts.
# Every cycle must see at least --min-per-cycle acknowledged starts and
# completions before its kill (the run waits for them, and check.py checks
# each cycle). Exit 0 only if nothing was lost or duplicated.
#
# --power-loss: the scheduler runs under bin/faultfs.so, and after each
# kill -9 everything it had not made durable (fsync) is dropped from its
# data dir before the restart (tests/faultfs/powerloss.py), as a power cut
# would: a kill alone leaves the page cache, so it cannot notice a missing
# fsync. The WAL limit is 1 MiB there, so that WAL files are switched and
# recycled during the run.
#
#   scripts/chaos/kill-scheduler.sh [--cycles N] [--seed S] [--keep]
#                                   [--power-loss] [--min-per-cycle N]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/bin
CYCLES=20
SEED=$RANDOM
KEEP=0
POWER_LOSS=0
MIN_PER_CYCLE=1
usage() {
	echo "usage: $0 [--cycles N] [--seed S] [--keep] [--power-loss] [--min-per-cycle N]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case "$1" in
	--cycles) CYCLES=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--power-loss) POWER_LOSS=1; shift ;;
	--min-per-cycle) MIN_PER_CYCLE=$2; shift 2 ;;
	*) usage ;;
	esac
done
case "$CYCLES" in '' | *[!0-9]*) echo "$0: --cycles must be a number" >&2; exit 2 ;; esac
case "$MIN_PER_CYCLE" in '' | *[!0-9]*) echo "$0: --min-per-cycle must be a number" >&2; exit 2 ;; esac
NEED="sparkpilot-scheduler spctl sp-agentsim"
[ "$POWER_LOSS" = 1 ] && NEED="$NEED faultfs.so"
for b in $NEED; do
	[ -x "$BIN/$b" ] || { echo "$0: $BIN/$b is missing: run make all bin/sp-agentsim" >&2; exit 2; }
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
PRELOAD=()
if [ "$POWER_LOSS" = 1 ]; then
	echo "store_max_wal_mb = 1" >>"$T/sched.conf"
	mkdir -p "$T/data"
	PRELOAD=(env "LD_PRELOAD=$BIN/faultfs.so" "FAULTFS_DIR=$T/data"
		"FAULTFS_LOG=$T/faultfs.journal")
fi

start_scheduler() {
	"${PRELOAD[@]}" "$BIN/sparkpilot-scheduler" --config "$T/sched.conf" \
		--data-dir "$T/data" --admin-socket "$SOCK" --listen "$URL" \
		>>"$T/scheduler.log" 2>&1 &
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

# Acknowledged starts and completions so far.
progress() {
	local starts done_
	starts=$(wc -l <"$T/acked")
	done_=$(grep -c '^done ' "$T/journal" 2>/dev/null || true)
	echo "$starts ${done_:-0}"
}

# Waits (at most 30 s) until this cycle has MIN_PER_CYCLE acknowledged
# starts and completions beyond $1 $2; 1 if it never does.
wait_progress() {
	local s d
	for _ in $(seq 600); do
		read -r s d < <(progress)
		[ "$s" -ge $(($1 + MIN_PER_CYCLE)) ] &&
			[ "$d" -ge $(($2 + MIN_PER_CYCLE)) ] && return 0
		sleep 0.05
	done
	echo "chaos: cycle $cycle: $((s - $1)) starts and $((d - $2)) completions acknowledged in 30 s; checking what there is" >&2
	return 1
}

what="kill -9"
[ "$POWER_LOSS" = 1 ] && what="kill -9 + power loss"
echo "chaos: seed $SEED, $CYCLES cycles of $what (data in $T)"
touch "$T/acked" "$T/journal"
: >"$T/cycles"
for cycle in $(seq "$CYCLES"); do
	read -r s0 d0 < <(progress)
	sleep "0.$((RANDOM % 9 + 1))"
	if ! wait_progress "$s0" "$d0"; then
		echo "$cycle $(progress)" >>"$T/cycles" # check.py fails it
		break
	fi
	if ! kill -0 "$SCHED_PID" 2>/dev/null; then
		echo "chaos: cycle $cycle: the scheduler exited by itself; last log lines:" >&2
		tail -5 "$T/scheduler.log" >&2
		exit 1
	fi
	kill -KILL "$SCHED_PID"
	wait "$SCHED_PID" 2>/dev/null || true
	# what the cycle had acknowledged when the scheduler died
	echo "$cycle $(progress)" >>"$T/cycles"
	if [ "$POWER_LOSS" = 1 ]; then
		python3 "$ROOT/tests/faultfs/powerloss.py" "$T/data" \
			"$T/faultfs.journal" >>"$T/powerloss.log"
	fi
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
[ "$POWER_LOSS" = 1 ] && tail -1 "$T/powerloss.log"
python3 "$ROOT/scripts/chaos/check.py" "$T/acked" "$T/journal" "$SOCK" "$CYCLES" \
	--cycles-file "$T/cycles" --min-per-cycle "$MIN_PER_CYCLE" --what "$what"

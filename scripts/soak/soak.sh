#!/bin/bash
# soak.sh - mixed load for a while, watching the daemons for leaks.
#
# One scheduler; three tenants; four real agents (bin/sparkpilot-agent with
# tests/fakes/spark-submit printing log lines, some with secrets, so
# telemetry flows through redaction, batches and the spool), two of them
# long-lived and two killed -9 and started again in turn every
# --churn-seconds, so that they reconnect and resend their spools; two
# simulated agents (bin/sp-agentsim) for volume. scripts/soak/load.py
# starts runs of jobs that succeed, fail and are retried, fail for good,
# time out or are cancelled, and a loop reads what an operator reads
# (queue stats, run list/show/logs/metrics, usage, tenant and agent lists).
#
# The load runs in rounds until --minutes have passed: --round-seconds of
# load, then more until RocksDB next flushes its memtables (at most
# --flush-wait seconds; 0: no wait). Each round ends in the same state:
# starts and reads paused, the queue drained, the agents idle, settled;
# there the scheduler's and the long-lived agents' VmRSS, open fds and
# threads are read from /proc and printed. The sample of the last of the
# --warmup-rounds is the baseline the last round's is held to
# (scripts/soak/bounds.py states the bounds). Then every acknowledged
# start must have ended, recorded complete exactly once
# (scripts/chaos/check.py), and no secret may have reached the scheduler.
# Exit 0 only if all of that holds; otherwise one line says what did not.
#
#   scripts/soak/soak.sh [--minutes N] [--round-seconds S] [--churn-seconds S]
#                        [--flush-wait S] [--warmup-rounds N]
set -euo pipefail
. "$(dirname "$0")/../../tests/integration/lib.sh"
SOAK=$ROOT/scripts/soak

MINUTES=10
ROUND_S=60
CHURN_S=15
FLUSH_WAIT_S=120
WARMUP=2
usage() {
	echo "usage: $0 [--minutes N] [--round-seconds S] [--churn-seconds S]" \
		"[--flush-wait S] [--warmup-rounds N]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case "$1" in
	--minutes) MINUTES=$2 ;;
	--round-seconds) ROUND_S=$2 ;;
	--churn-seconds) CHURN_S=$2 ;;
	--flush-wait) FLUSH_WAIT_S=$2 ;;
	--warmup-rounds) WARMUP=$2 ;;
	*) usage ;;
	esac
	shift 2
done
# number NAME VALUE MIN: VALUE is a whole number, at least MIN
number() {
	case "$2" in '' | *[!0-9]*) echo "soak: $1 must be a number, not '$2'" >&2; exit 2 ;; esac
	[ "$((10#$2))" -ge "$3" ] || { echo "soak: $1 must be at least $3" >&2; exit 2; }
}
number --minutes "$MINUTES" 1
number --round-seconds "$ROUND_S" 1
number --churn-seconds "$CHURN_S" 2
number --flush-wait "$FLUSH_WAIT_S" 0
number --warmup-rounds "$WARMUP" 1
MINUTES=$((10#$MINUTES)) ROUND_S=$((10#$ROUND_S)) CHURN_S=$((10#$CHURN_S))
FLUSH_WAIT_S=$((10#$FLUSH_WAIT_S)) WARMUP=$((10#$WARMUP))
for b in "$BIN/sparkpilot-scheduler" "$BIN/spctl" "$BIN/sp-agentsim" "$AGENT_BIN"; do
	[ -x "$b" ] || { echo "soak: $b is missing: run make all bin/sp-agentsim" >&2; exit 2; }
done

# What the leaky jobs' application prints (an environment variable the
# agents pass on to spark-submit): none of it may reach the scheduler.
export SOAK_LEAKY_LINE='jdbc:postgresql://db:5432/x?user=etl&password=SoakHunter2 aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/SoakEXAMPLEKEY owner soak.owner@example.com'
SECRETS=(SoakHunter2 SoakEXAMPLEKEY soak.owner@example.com)

# ---- the world
cat >"$T/sched.conf" <<CONF
agent_timeout_ms = 3000
retry_base_ms = 200
retry_max_ms = 2000
log_completions = 0
retention_interval_s = 60
guard_interval_s = 10
CONF
start_scheduler --config "$T/sched.conf"
for t in acme globex; do
	spctl tenant add $t --monthly-budget 100000 --budget-mode soft >/dev/null
	spctl env add $t/prod --price-vcpu-hour 0.048 --price-gb-hour 0.0053 >/dev/null
done
spctl tenant add bulk --weight 2 >/dev/null
spctl env add bulk/sim >/dev/null

LOCAL=(--master 'local[2]')
FAIL=(--conf spark.fake.outcome=fail --conf spark.fake.duration=0.3)
for t in acme globex; do
	spctl job add $t/prod/lines -- "${LOCAL[@]}" --conf spark.fake.lines=1500 \
		--conf spark.fake.duration=1 app.jar
	spctl job add $t/prod/leaky -- "${LOCAL[@]}" --conf spark.fake.lines=50 \
		--conf spark.fake.print_env=SOAK_LEAKY_LINE \
		--conf spark.fake.duration=0.3 app.jar
	spctl job add $t/prod/yarn --executors 2 -- --master yarn --deploy-mode cluster \
		--conf spark.fake.duration=1 --conf spark.fake.interval=0.1 app.jar
	spctl job add $t/prod/flaky --max-attempts 3 -- "${LOCAL[@]}" "${FAIL[@]}" \
		--conf spark.fake.signature=node_lost app.jar
	spctl job add $t/prod/missing --max-attempts 3 -- "${LOCAL[@]}" "${FAIL[@]}" \
		--conf spark.fake.signature=input_missing app.jar
	spctl job add $t/prod/slow -- "${LOCAL[@]}" --conf spark.fake.lines=300 \
		--conf spark.fake.duration=30 app.jar
	spctl job add $t/prod/stuck --timeout 2 -- "${LOCAL[@]}" \
		--conf spark.fake.duration=30 app.jar
done >/dev/null
spctl job add bulk/sim/j --max-attempts 2 -- --master yarn app.jar >/dev/null
# The real agents' stream, in turn: about 1.5 runs/s for their 8 slots.
# The simulated agents get 10/s; their runs all succeed (a run that fails
# and runs again would be two acknowledged completions to check.py).
REAL_JOBS=()
for t in acme globex; do
	REAL_JOBS+=("$t/prod/lines" "$t/prod/yarn" "$t/prod/leaky" "$t/prod/lines"
		"$t/prod/flaky" "$t/prod/missing" "$t/prod/slow@cancel" "$t/prod/stuck")
done
REAL_PACE_MS=650
BULK_PACE_MS=100

# Long-lived agents (measured) and churned ones (killed and started again).
LONG=(acme_l globex_l)
CHURN=(acme_c globex_c)
declare -A APID
for a in "${LONG[@]}" "${CHURN[@]}"; do
	start_agent "$a" "${a%_*}/prod" --slots 2
	v=AGENT_PID_$a
	APID[$a]=${!v}
done
for _ in 1 2; do spctl agent token bulk/sim; done >"$T/sim.tokens"
"$BIN/sp-agentsim" --scheduler "$URL" --tokens "$T/sim.tokens" \
	--state-dir "$T/sim" --slots 8 --run-ms 200 \
	--journal "$T/sim.journal" >"$T/agentsim.log" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")
for e in acme/prod globex/prod bulk/sim; do wait_env_ready "$e" 30; done

# ---- helpers
# forget_pid PID: PID was reaped; cleanup must not signal it (nor whatever
# process gets the number next)
forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

KILLS=0
# churn: kill -9 the next churned agent and start it again (same state
# dir: it stops the spark-submits it left, reconnects, resends its spool)
churn() {
	local a=${CHURN[$((KILLS % ${#CHURN[@]}))]}
	kill -KILL "${APID[$a]}"
	wait "${APID[$a]}" 2>/dev/null || true
	forget_pid "${APID[$a]}"
	KILLS=$((KILLS + 1))
	sleep 1
	"$AGENT_BIN" --scheduler "$URL" --state-dir "$T/agent-$a" \
		--spark-submit "$FAKE_SPARK" --slots 2 >>"$T/agent-$a.log" 2>&1 &
	APID[$a]=$!
	PIDS+=("$!")
}

READS=0
READ_FAILS=0
# read_round: one pass of what an operator reads, on fresh connections.
# Logs and metrics come from the store: they are read for a fixed set of
# runs (the first of each real job), so that the block cache does not
# fill round after round with blocks read once; the rest is in memory.
read_round() {
	local last r f c
	last=$(tail -n 1 "$T/real.acked" | cut -d' ' -f2)
	f=$(sed -n "$((1 + RANDOM % ${#REAL_JOBS[@]}))p" "$T/real.acked" | cut -d' ' -f2)
	[ -n "$last" ] && [ -n "$f" ] || return 0
	r=$((1 + RANDOM % last))
	for c in "queue stats" "run list --limit 20" "run list --tenant acme --state failed --limit 10" \
		"run show $last" "run show $r" "run logs $f --limit 500" "run metrics $f" \
		"usage" "usage acme --format csv" "tenant show globex" "agent list" \
		"env show acme/prod"; do
		# shellcheck disable=SC2086
		if spctl $c >/dev/null 2>>"$T/reads.err"; then
			READS=$((READS + 1))
		else
			READ_FAILS=$((READ_FAILS + 1))
			echo "($c)" >>"$T/reads.err"
		fi
	done
	echo "$READS $READ_FAILS" >"$T/reads.count"
}

# reader: read rounds until stop; while paused, say so (see load.py)
reader() {
	local gen
	while [ ! -e "$T/stop" ]; do
		if gen=$(cat "$T/pause" 2>/dev/null); then
			[ "$(cat "$T/reader.paused" 2>/dev/null)" = "$gen" ] ||
				echo "$gen" >"$T/reader.paused"
			sleep 0.1
			continue
		fi
		read_round
		sleep 0.3
	done
}

# alive: every process the soak runs is still there
alive() {
	local p
	for p in "$SCHED_PID" "${APID[@]}" "$SIM_PID" "$REAL_LOAD" "$BULK_LOAD" "$READER"; do
		kill -0 "$p" 2>/dev/null || fail "process $p exited (see the logs below)"
	done
}

# load_for SECONDS: the load goes on; an agent is killed every CHURN_S
load_for() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -lt "$end" ]; do
		sleep 1
		alive
		if [ "$SECONDS" -ge "$next_kill" ]; then
			churn
			next_kill=$((SECONDS + CHURN_S))
		fi
	done
}

# wal_flushes: "N IDLE": N, the number of the newest WAL file in the data
# dir (RocksDB starts a new one each time it switches memtables to flush
# them, here because the WAL reached its cap); IDLE 1 if no memtable waits
# to be flushed and no flush runs (queue stats: store). (Should either stop
# working, no round is aligned and the bounds allow for memtables.)
wal_flushes() {
	local n
	n=$(find "$T/data" -maxdepth 1 -name '*.log' -printf '%f\n' |
		sed 's/^0*//; s/\.log$//' | sort -n | tail -n 1)
	spctl --json queue stats | python3 -c '
import json, sys
s = json.load(sys.stdin).get("store", {})
idle = s.get("immutable_memtables") == 0 and s.get("flushes_running") == 0
print(sys.argv[1] or 0, int(idle))' "${n:-0}"
}

# load_until_flush: the load goes on until RocksDB has flushed its
# memtables after a full WAL, for at most FLUSH_WAIT_S; sets ALIGNED to 1
# if it did (the memtables are then nearly empty at the sample), else 0
load_until_flush() {
	local n0 n idle end=$((SECONDS + FLUSH_WAIT_S))
	read -r n0 _ < <(wal_flushes)
	ALIGNED=0
	while [ "$SECONDS" -lt "$end" ]; do
		read -r n idle < <(wal_flushes)
		if [ "$n" -gt "$n0" ] && [ "$idle" = 1 ]; then
			ALIGNED=1
			return
		fi
		load_for 1
	done
}

queue_empty() {
	spctl --json queue stats | grep -q '"queued":0,"running":0,'
}

# agents_idle: no real agent has a child (a spark-submit) left
agents_idle() {
	local a
	for a in "${!APID[@]}"; do
		[ -z "$(cat /proc/"${APID[$a]}"/task/*/children 2>/dev/null)" ] || return 1
	done
}

paused_all() {
	local f
	for f in real.paused bulk.paused reader.paused; do
		[ "$(cat "$T/$f" 2>/dev/null)" = "$1" ] || return 1
	done
}

# telemetry_events: events stored from every agent, real and simulated
telemetry_events() {
	local id n=0
	for id in $(spctl --json agent list | python3 -c '
import json, sys
print(" ".join(a["id"] for a in json.load(sys.stdin)["items"]))'); do
		n=$((n + $(spctl --json agent show "$id" | json agent.telemetry.events)))
	done
	echo "$n"
}

# proc_sample PID DIR: "VMRSS_KB FDS STORE_FDS DELETED_FDS THREADS", where
# STORE_FDS are files under DIR (RocksDB's, the spool's), not in FDS, and
# DELETED_FDS files deleted while open
proc_sample() {
	local pid=$1 dir=$2
	# (an fd closed while find lists them is not counted)
	{ find "/proc/$pid/fd" -mindepth 1 -printf '%l\n' 2>/dev/null || true; } |
		awk -v dir="$dir/" \
		-v rss="$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")" \
		-v thr="$(awk '$1 == "Threads:" { print $2 }' "/proc/$pid/status")" '
			/ \(deleted\)$/ { deleted++; next }
			index($0, dir) == 1 { store++; next }
			{ other++ }
			END { print rss, other + 0, store + 0, deleted + 0, thr }'
}

# quiesce ROUND ALIGNED: pause starts and reads, drain the queue, let the
# agents go idle and settle, then append the round's sample to $T/samples
# (the load stays paused until $T/pause is removed)
quiesce() {
	local round=$1 aligned=$2 starts a
	echo "$round" >"$T/pause"
	wait_until 60 paused_all "$round" || fail "round $round: the load did not pause"
	wait_until 180 queue_empty || fail "round $round: the queue did not drain in 180 s"
	wait_until 60 agents_idle || fail "round $round: an agent still runs spark-submit"
	sleep 3 # settle: last telemetry batches, a heartbeat, a long poll
	starts=$(cat "$T"/*.acked | wc -l)
	{
		echo "$round $SECONDS scheduler $starts $(telemetry_events) $KILLS $aligned" \
			"$(proc_sample "$SCHED_PID" "$T/data")"
		for a in "${LONG[@]}"; do
			echo "$round $SECONDS $a $starts - $KILLS $aligned" \
				"$(proc_sample "${APID[$a]}" "$T/agent-$a")"
		done
	} >>"$T/samples"
	python3 "$SOAK/bounds.py" --trend-line "$T/samples" "$round"
}

# ---- the load
touch "$T/real.acked" "$T/bulk.acked" "$T/sim.journal"
echo "0 0" >"$T/reads.count"
python3 "$SOAK/load.py" "$SOCK" "$T" real "$REAL_PACE_MS" "${REAL_JOBS[@]}" \
	>>"$T/load.log" 2>&1 &
REAL_LOAD=$!
python3 "$SOAK/load.py" "$SOCK" "$T" bulk "$BULK_PACE_MS" bulk/sim/j \
	>>"$T/load.log" 2>&1 &
BULK_LOAD=$!
reader &
READER=$!
PIDS+=("$REAL_LOAD" "$BULK_LOAD" "$READER")

echo "soak: $MINUTES minutes in rounds of $ROUND_S s, an agent killed every $CHURN_S s (data in $T)"
round=0
next_kill=$((SECONDS + CHURN_S))
START=$SECONDS
while :; do
	round=$((round + 1))
	load_for "$ROUND_S"
	load_until_flush
	quiesce "$round" "$ALIGNED"
	[ $((SECONDS - START)) -lt $((MINUTES * 60)) ] || [ "$round" -le "$WARMUP" ] || break
	rm "$T/pause"
	next_kill=$((SECONDS + CHURN_S))
done

# ---- the end: stop the load (paused since the last sample), then check
touch "$T/stop"
for p in "$REAL_LOAD" "$BULK_LOAD" "$READER"; do
	wait "$p" || fail "load process $p failed (load.log: $(tail -n 1 "$T/load.log"))"
	forget_pid "$p"
done
read -r READS READ_FAILS <"$T/reads.count"
cancels=$(cat "$T"/*.cancels 2>/dev/null | grep -c ' ok$' || true)
spctl --json queue stats | python3 -c '
import json, sys
q = json.load(sys.stdin)
print("soak: dispatched %(dispatched)d, retries %(retries)d, leases expired "
      "%(leases_expired)d, stale reports %(stale_reports)d, refused %(refused)d" % q)'
spctl --json usage | python3 -c '
import json, sys
u = json.load(sys.stdin)["total"]
print("soak: runs ended %(runs)d (succeeded %(succeeded)d, failed %(failed)d)" % u, end="")'
echo ", $cancels cancelled by the load; $KILLS agent kills; $READS admin reads ($READ_FAILS failed)"
[ "$READ_FAILS" = 0 ] || fail "$READ_FAILS admin reads failed: $(tail -n 2 "$T/reads.err" | tr '\n' ' ')"

# No secret on the scheduler: not in its log, not in a leaky run's log.
leaky=$(spctl --json run list --tenant acme --state succeeded --limit 200 | python3 -c '
import json, sys
r = [x["id"] for x in json.load(sys.stdin)["items"] if x["job"] == "acme/prod/leaky"]
print(r[-1] if r else "")')
[ -n "$leaky" ] || fail "no leaky run succeeded"
spctl run logs "$leaky" --limit 1000 >"$T/leaky.log"
grep -q 'REDACTED:password' "$T/leaky.log" || fail "run $leaky: its secret line was not redacted"
for s in "${SECRETS[@]}"; do
	! grep -qF "$s" "$T/leaky.log" "$T/scheduler.log" || fail "a secret reached the scheduler: $s"
done

cat "$T/real.acked" "$T/bulk.acked" >"$T/acked"
python3 "$ROOT/scripts/chaos/check.py" "$T/acked" "$T/sim.journal" "$SOCK" "$KILLS" \
	--what "agent kill" || fail "acknowledged runs lost or completed twice"
python3 "$SOAK/bounds.py" --check "$T/samples" "$WARMUP"

#!/bin/bash
# A store whose writes fail (EIO on fdatasync, ENOSPC or EIO on write,
# injected by bin/faultfs.so into the scheduler's data dir): the change
# whose write failed is not acknowledged, every later change is refused
# in one line (JSON code `unavailable` with retry_after_ms) while reads
# are answered, `queue stats` and the log say why, an agent backs off
# without losing a report, and once the fault is gone the scheduler
# reopens the store and writes again by itself. Nothing acknowledged is
# lost across a kill -9 and restart.
. "$(dirname "$0")/lib.sh"

CTL=$T/faultctl
D=$T/data
cat >"$T/sched.conf" <<CONF
store_check_ms = 100
store_min_free_mb = 0
store_min_free_pct = 0
CONF

start_faulty() {
	local DAEMON_ENV=(env FAULTFS_DIR="$D" FAULTFS_CTL="$CTL" LD_PRELOAD="$BIN/faultfs.so")
	start_scheduler --config "$T/sched.conf"
}

store_state() { spctl --json queue stats | json store.state; }
refused() { spctl --json queue stats | json store.refused_changes; }
refused_past() { [ "$(refused)" -ge "$1" ]; }
store_is() { [ "$(store_state)" = "$1" ]; }
agent_backed_off() { grep -q "backing off" "$T/agent-a1.log"; }
acked=()
start_run() { # prints nothing; records the acknowledged run id
	local r
	r=$(spctl run start acme/prod/quick) || return 1
	acked+=("$r")
}

[ -x "$BIN/faultfs.so" ] || fail "bin/faultfs.so is missing (make tools)"
start_faulty
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl job add acme/prod/quick -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0.2 app.jar >/dev/null
spctl job add acme/prod/slow -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=2 app.jar >/dev/null
start_run || fail "a start was refused before any fault"

# 1. No agent yet: the start below is the only write. Its fdatasync fails.
echo "eio sync" >"$CTL"
why="I/O error on the data dir '$D'"
out=$(spctl run start acme/prod/quick 2>&1) && fail "a start was acknowledged although its WAL sync failed: $out"
[ "$out" = "spctl: error: store_unavailable: $why: this change was not acknowledged; it is kept and written when the store recovers, unless the scheduler stops first" ] ||
	fail "refusal of the failed write: $out"
out=$(spctl run start acme/prod/quick 2>&1) && fail "a start was acknowledged while the store is down"
rc=$(spctl run start acme/prod/quick >/dev/null 2>&1; echo $?)
[ "$rc" = 1 ] || fail "spctl exit status $rc for a refusal, expected 1"
[ "$out" = "spctl: error: store_unavailable: $why; changes are refused until it recovers (reads still work)" ] ||
	fail "refusal while down: $out"
reply=$(spctl --json run start acme/prod/quick 2>/dev/null || true)
[ "$(echo "$reply" | json error)" = unavailable ] || fail "JSON code: $reply"
[ "$(echo "$reply" | json retry_after_ms)" = 100 ] || fail "retry_after_ms: $reply"
# reads still work, and say why
spctl run show "${acked[0]}" >/dev/null || fail "run show refused while the store is down"
spctl tenant list >/dev/null || fail "tenant list refused while the store is down"
[ "$(store_state)" = unavailable ] || fail "queue stats: store is $(store_state)"
[ "$(spctl --json queue stats | json store.reason)" = "$why" ] ||
	fail "queue stats reason: $(spctl --json queue stats | json store.reason)"
spctl queue stats | grep -q "state: *unavailable" || fail "spctl queue stats does not show the condition"
grep -q "store unavailable: $why" "$T/scheduler.log" || fail "no log line for the failed write"
spctl tenant add other 2>/dev/null && fail "tenant add accepted while the store is down"

# The fault goes: the store is reopened and written again by itself; the
# change that was not acknowledged was kept in memory and is written now.
: >"$CTL"
wait_until 10 store_is ok || fail "the store did not come back (state $(store_state))"
grep -q "store writable again after" "$T/scheduler.log" || fail "no log line for the recovery"
n=$(spctl --json run list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$n" = 2 ] || fail "$n runs after the recovery, expected 2 (one acknowledged, one kept)"
start_run || fail "a start was refused after the recovery"
[ "$(spctl --json queue stats | json store.recoveries)" = 1 ] || fail "recoveries not counted"

# 2. With an agent at work: it is refused, backs off, and is not broken.
start_agent a1 acme/prod
wait_env_ready acme/prod
for r in "${acked[@]}"; do wait_run_state "$r" succeeded 30; done
for mode in "enospc write" "eio write"; do
	case $mode in
	enospc*) why="no space left on the data dir '$D'"
		 tail="changes are refused until space is freed (reads still work)" ;;
	*) why="I/O error on the data dir '$D'"
	   tail="changes are refused until it recovers (reads still work)" ;;
	esac
	# a run that ends while the store is down: its report must wait
	slow=$(spctl run start acme/prod/slow)
	acked+=("$slow")
	wait_run_state "$slow" running 30
	: >"$T/agent-a1.log"
	echo "$mode" >"$CTL"
	# the agent's next report or request for work is the failed write
	wait_until 10 store_is unavailable || fail "$mode: the store did not go down"
	wait_until 10 agent_backed_off || fail "$mode: the agent did not back off"
	wait_until 20 grep -q "run $slow attempt 1: succeeded" "$T/agent-a1.log" ||
		fail "$mode: run $slow did not end on the agent"
	# a few more refused messages: the agent has tried its reports by now
	wait_until 20 refused_past $(($(refused) + 6)) ||
		fail "$mode: the agent stopped asking"
	out=$(spctl run start acme/prod/quick 2>&1) && fail "$mode: a start was acknowledged"
	[ "$out" = "spctl: error: store_unavailable: $why; $tail" ] ||
		fail "$mode: refusal: $out"
	kill -0 "$AGENT_PID_a1" || fail "$mode: the agent exited"
	: >"$CTL"
	wait_until 10 store_is ok || fail "$mode: the store did not come back"
	# its completion was kept and sent again: the first attempt counts
	wait_run_state "$slow" succeeded 10
	[ "$(spctl --json run show "$slow" | json run.attempt)" = 1 ] ||
		fail "$mode: run $slow ran again: its completion was lost"
	start_run || fail "$mode: a start was refused after the recovery"
	wait_run_state "${acked[-1]}" succeeded 30
	grep -q "the scheduler takes reports again" "$T/agent-a1.log" ||
		fail "$mode: the agent did not log that it was answered again"
done

# 3. Nothing acknowledged is lost: kill -9, restart without faults.
kill -KILL "$SCHED_PID"
wait "$SCHED_PID" 2>/dev/null || true
start_scheduler --config "$T/sched.conf"
for r in "${acked[@]}"; do
	[ "$(run_state "$r")" = succeeded ] ||
		fail "acknowledged run $r is $(run_state "$r") after the restart"
done
echo "store faults: ok (${#acked[@]} acknowledged starts kept)"

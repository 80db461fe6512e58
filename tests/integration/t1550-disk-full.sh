#!/bin/bash
# A data dir on a small filesystem (a tmpfs this test mounts) that fills
# up. Below the free-space floor new runs are refused while running ones
# still complete and cancels still work; when the disk is full the change
# that cannot be written is not acknowledged, every later change is refused
# in one line while reads are answered, `queue stats` and the log say why,
# and the agent backs off; once space is freed writes resume by themselves.
# No acknowledged start is lost, across a kill -9 and restart too.
. "$(dirname "$0")/lib.sh"

MNT=$(mktemp -d "${TMPDIR:-/tmp}/sp-it-disk.XXXXXX")
mount -t tmpfs -o size=32m sp-it-disk "$MNT" ||
	fail "cannot mount a tmpfs on $MNT (the test needs root)"
# lib.sh's cleanup stops the daemons; then the tmpfs can go
trap 'rc=$?; set +e; (exit $rc); cleanup; umount "$MNT"; rmdir "$MNT"; exit $rc' EXIT
D=$MNT/data

# A 1 MiB WAL limit keeps RocksDB's WAL preallocation small, so that a
# full disk is met within a few writes.
cat >"$T/sched.conf" <<CONF
store_check_ms = 100
store_min_free_mb = 8
store_min_free_pct = 0
store_max_wal_mb = 1
CONF
free_kb() { df -k --output=avail "$MNT" | tail -1 | tr -d ' '; }
store_state() { spctl --json queue stats | json store.state; }
store_is() { [ "$(store_state)" = "$1" ]; }
agent_backed_off() { grep -q "backing off" "$T/agent-a1.log"; }
acked=()
start_run() { # JOB: records the acknowledged run id
	local r
	r=$(spctl run start "acme/prod/$1") || return 1
	acked+=("$r")
}
count_runs() {
	spctl --json run list --limit 10000 |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'
}

start_scheduler --config "$T/sched.conf" --data-dir "$D"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl job add acme/prod/quick -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0.2 app.jar >/dev/null
spctl job add acme/prod/slow -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=3 app.jar >/dev/null
start_agent a1 acme/prod --slots 4
wait_env_ready acme/prod
for _ in 1 2 3; do start_run quick || fail "a start was refused on an empty disk"; done
for r in "${acked[@]}"; do wait_run_state "$r" succeeded 30; done
[ "$(store_state)" = ok ] || fail "store is $(store_state) on an empty disk"

# 1. Below the floor (8 MB): new runs refused, the rest goes on.
start_run slow || fail "start of the slow run refused"
slow=${acked[-1]}
wait_run_state "$slow" running 30
to_cancel=$(spctl run start acme/prod/slow) || fail "start refused"
acked+=("$to_cancel")
fallocate -l $(( ($(free_kb) - 4096) * 1024 )) "$MNT/filler1"
wait_until 10 store_is low_space || fail "store is $(store_state) with $(free_kb) KB free"
out=$(spctl run start acme/prod/quick 2>&1) && fail "a start was acknowledged below the floor"
grep -Eq "^spctl: error: store_low_space: [0-9]+ MB free on the data dir '$D', below the floor of 8 MB: new runs are refused until space is freed$" <<<"$out" ||
	fail "refusal below the floor: $out"
reply=$(spctl --json run start acme/prod/quick 2>/dev/null || true)
[ "$(echo "$reply" | json error)" = unavailable ] || fail "JSON code below the floor: $reply"
[ "$(echo "$reply" | json retry_after_ms)" = 100 ] || fail "retry_after_ms: $reply"
spctl run cancel "$to_cancel" >/dev/null || fail "a cancel was refused below the floor"
wait_run_state "$to_cancel" cancelled 30
wait_run_state "$slow" succeeded 30 # a completion below the floor
grep -q "below the floor of 8 MB: new runs are refused" "$T/scheduler.log" ||
	fail "no log line for the floor"
[ "$(spctl --json queue stats | json store.refused_starts)" -ge 2 ] ||
	fail "refused starts not counted"

# 2. The disk fills up. Changes other than starts are still taken (a job
# with 64 KB of arguments each) until one cannot be written.
dd if=/dev/zero of="$MNT/filler2" bs=64k 2>/dev/null || true
arg=$(head -c 8000 /dev/zero | tr '\0' x)
big=("$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg")
jobs=0
for i in $(seq 200); do
	if ! out=$(spctl job add "acme/prod/big$i" -- "${big[@]}" 2>&1); then
		break
	fi
	jobs=$i
done
grep -q "^spctl: error: store_unavailable: no space left on the data dir '$D'" <<<"$out" ||
	fail "after $jobs jobs: $out"
[ "$(store_state)" = unavailable ] || fail "store is $(store_state) on a full disk"
out=$(spctl run start acme/prod/quick 2>&1) && fail "a start was acknowledged on a full disk"
[ "$out" = "spctl: error: store_unavailable: no space left on the data dir '$D'; changes are refused until space is freed (reads still work)" ] ||
	fail "refusal on a full disk: $out"
reply=$(spctl --json tenant add other 2>/dev/null || true)
[ "$(echo "$reply" | json error)" = unavailable ] || fail "JSON code on a full disk: $reply"
[ "$(echo "$reply" | json retry_after_ms)" = 100 ] || fail "retry_after_ms: $reply"
spctl run show "$slow" >/dev/null || fail "run show refused on a full disk"
spctl job show acme/prod/big1 >/dev/null || fail "job show refused on a full disk"
before=$(count_runs)
spctl queue stats | grep -q "state: *unavailable" || fail "queue stats does not show the condition"
grep -q "store unavailable: no space left on the data dir '$D'" "$T/scheduler.log" ||
	fail "no log line for the full disk"
wait_until 10 agent_backed_off || fail "the agent was not told to back off"
kill -0 "$AGENT_PID_a1" || fail "the agent exited on a full disk"

# 3. Space comes back: writes resume by themselves.
rm -f "$MNT/filler1" "$MNT/filler2"
wait_until 20 store_is ok || fail "store is $(store_state) after space was freed"
grep -q "store writable again after" "$T/scheduler.log" || fail "no log line for the recovery"
[ "$(count_runs)" = "$before" ] || fail "runs changed while the store was down"
start_run quick || fail "a start was refused after space was freed"
wait_run_state "${acked[-1]}" succeeded 30
spctl job show "acme/prod/big$jobs" >/dev/null 2>&1 || [ "$jobs" = 0 ] ||
	fail "acknowledged job big$jobs is missing"

# 4. Nothing acknowledged is lost across a kill -9 and restart.
kill -KILL "$SCHED_PID"
wait "$SCHED_PID" 2>/dev/null || true
start_scheduler --config "$T/sched.conf" --data-dir "$D"
for r in "${acked[@]}"; do
	s=$(run_state "$r")
	[ "$s" = succeeded ] || [ "$s" = cancelled ] ||
		fail "acknowledged run $r is $s after the restart"
done
for i in $(seq "$jobs"); do
	spctl job show "acme/prod/big$i" >/dev/null || fail "acknowledged job big$i lost"
done
echo "disk full: ok (${#acked[@]} acknowledged starts and $jobs jobs kept)"

#!/bin/bash
# Scheduling core through the real daemons: quotas and submit rate with
# their refusal messages, idempotent starts across a restart, the dispatch
# kill switch (persisted), queue stats, priority order, agent drain, retries
# with backoff, and a lease that expires when its agent is killed -9 (the
# run is requeued as its next attempt and finished by another agent).
. "$(dirname "$0")/lib.sh"

cat >"$T/sched.conf" <<EOF
agent_timeout_ms = 2000
retry_base_ms = 200
retry_max_ms = 400
EOF
start_scheduler --config "$T/sched.conf"

# ---- quotas and bad limits ----
for bad in "--max-running 0" "--max-queued -1" "--submit-rate 99999999999" \
	"--weight 0"; do
	# shellcheck disable=SC2086
	spctl tenant add bad $bad 2>"$T/err" && fail "tenant add $bad accepted"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "tenant add $bad: not one line"
done
spctl tenant show bad 2>/dev/null && fail "a refused tenant was created"
spctl tenant add q --max-queued 2 >/dev/null
spctl env add q/e >/dev/null
spctl job add q/e/j -- --master yarn app.jar >/dev/null
spctl run start q/e/j >/dev/null
spctl run start q/e/j >/dev/null
spctl run start q/e/j 2>"$T/err" && fail "start past max-queued accepted"
grep -q "has 2 queued runs (max-queued 2); retry after" "$T/err" ||
	fail "quota refusal message: $(cat "$T/err")"
refusal=$(spctl --json run start q/e/j 2>/dev/null || true)
[ "$(echo "$refusal" | json error)" = quota_exceeded ] ||
	fail "quota refusal code: $refusal"
[ "$(echo "$refusal" | json retry_after_ms)" = 1000 ] ||
	fail "quota refusal has no retry_after_ms: $refusal"

spctl tenant add r --submit-rate 1 >/dev/null
spctl env add r/e >/dev/null
spctl job add r/e/j -- --master yarn app.jar >/dev/null
spctl run start r/e/j >/dev/null
spctl run start r/e/j 2>"$T/err" && fail "start past submit-rate accepted"
grep -q "submit-rate of 1 runs/s; retry after [0-9]* ms" "$T/err" ||
	fail "rate refusal message: $(cat "$T/err")"

# ---- idempotency across a restart ----
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl job add acme/prod/ok -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=1 app.jar >/dev/null
spctl job add acme/prod/other -- --master yarn app.jar >/dev/null
k1=$(spctl run start acme/prod/ok --idempotency-key nightly-1)
k2=$(spctl run start acme/prod/ok --idempotency-key nightly-1)
[ "$k1" = "$k2" ] || fail "same key gave runs $k1 and $k2"
spctl run start acme/prod/other --idempotency-key nightly-1 2>"$T/err" &&
	fail "a key reused for another job was accepted"
grep -q "already names run $k1" "$T/err" || fail "conflict message"
spctl run start acme/prod/ok --idempotency-key "" 2>/dev/null &&
	fail "an empty idempotency key was accepted"

# ---- dispatch pause survives a restart; queue stats; priorities ----
spctl dispatch pause >/dev/null
stop_scheduler
start_scheduler --config "$T/sched.conf"
k3=$(spctl run start acme/prod/ok --idempotency-key nightly-1)
[ "$k3" = "$k1" ] || fail "key forgotten across a restart: $k1 then $k3"
spctl --json queue stats | json paused | grep -qx True ||
	fail "pause did not survive the restart"
start_agent a1 acme/prod --slots 4
wait_env_ready acme/prod
low=$(spctl run start acme/prod/ok --priority -5)
high=$(spctl run start acme/prod/ok --priority 7)
spctl --json run show "$k1" | json run.waiting | grep -q paused ||
	fail "a run held by the pause does not say so"
[ "$(spctl --json run show "$high" | json run.position)" = 1 ] ||
	fail "high-priority run is not first"
[ "$(spctl --json run show "$low" | json run.position)" = 3 ] ||
	fail "low-priority run is not last"
queued=$(spctl --json queue stats | json queued)
[ "$queued" -eq 6 ] || fail "queue stats: queued $queued, expected 6"
spctl queue stats | grep -q "acme/prod" || fail "queue stats table"
spctl dispatch resume >/dev/null
for r in "$k1" "$low" "$high"; do
	wait_run_state "$r" succeeded 30
done

# ---- drain: no new work for a draining agent ----
# Once the agent has asked twice more after the run was queued, the
# scheduler has had its chances: nothing may have been dispatched.
agent=$(spctl --json agent list | json items.0.id)
spctl agent drain "$agent" >/dev/null
dispatched=$(spctl --json queue stats | json dispatched)
d=$(spctl run start acme/prod/ok)
wait_agent_waiting "$agent"
[ "$(run_state "$d")" = queued ] || fail "a draining agent got work"
[ "$(spctl --json queue stats | json dispatched)" = "$dispatched" ] ||
	fail "a run was dispatched while the only agent drained"
spctl --json run show "$d" | json run.waiting | grep -q "no active agent" ||
	fail "run held by the drain does not say why"

# ---- retries with backoff; a permanent failure stays failed ----
spctl env add acme/retry >/dev/null
spctl job add acme/retry/flaky --max-attempts 3 -- --master yarn \
	--deploy-mode cluster --conf spark.fake.outcome=fail \
	--conf spark.fake.duration=0 app.jar >/dev/null
start_agent a2 acme/retry
wait_env_ready acme/retry
f=$(spctl run start acme/retry/flaky)
wait_run_state "$f" failed 60
[ "$(spctl --json run show "$f" | json run.attempt)" = 3 ] ||
	fail "failed run did not use its 3 attempts"
grep -q "run $f: attempt 1 failed.*retry in" "$T/scheduler.log" ||
	fail "no retry logged for run $f"

# ---- an agent killed -9 loses its lease; the run is requeued ----
spctl env add acme/lease >/dev/null
tag=lease-$$-$RANDOM
spctl job add acme/lease/long --max-attempts 1 -- --master yarn \
	--deploy-mode cluster --conf spark.fake.duration=4 \
	--conf spark.fake.seed=$tag app.jar >/dev/null
start_agent a3 acme/lease
wait_env_ready acme/lease
l=$(spctl run start acme/lease/long)
wait_run_state "$l" running 30
# The agent runs spark-submit in a process group of its own, which
# outlives the agent: stop that group too (our own PIDs, not a name).
spark=$(ps -o pid= --ppid "$AGENT_PID_a3" | tr -d ' ')
[ -n "$spark" ] || fail "agent a3 runs no spark-submit"
kill -KILL "$AGENT_PID_a3"
kill -KILL -- "-$spark"
wait_run_state "$l" queued 10
show=$(spctl --json run show "$l")
[ "$(echo "$show" | json run.attempt)" = 2 ] || fail "requeued run is not attempt 2"
[ "$(echo "$show" | json run.leases_lost)" = 1 ] || fail "lost lease not counted"
echo "$show" | json run.reason | grep -q "silent for over 2000 ms" ||
	fail "requeue reason: $(echo "$show" | json run.reason)"
start_agent a4 acme/lease
wait_run_state "$l" succeeded 30
echo "scheduling: ok"

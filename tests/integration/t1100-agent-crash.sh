#!/bin/bash
# An agent killed with SIGKILL leaves its spark-submit running (its own
# process group). The agent started after it stops that leftover before it
# takes work, so the run, requeued by the scheduler, never runs twice.
. "$(dirname "$0")/lib.sh"

start_with_agent

tag=crash-$$-$RANDOM
fakes() { pgrep -f "spark.fake.seed=$tag" | wc -l; }
fakes_are() { [ "$(fakes)" = "$1" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
spctl job add acme/prod/long -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=120 --conf spark.fake.seed=$tag app.jar >/dev/null
r=$(spctl run start acme/prod/long)
wait_run_state "$r" running 30
first=$(pgrep -f "spark.fake.seed=$tag" | head -1)
[ -n "$first" ] || fail "fake spark-submit not running"
PIDS+=("$first") # stopped by the cleanup if the test fails
[ -f "$T/agent-a1/running/$r" ] || fail "the run's process group was not recorded"

kill -KILL "$AGENT_PID_a1"
wait "$AGENT_PID_a1" 2>/dev/null || true
# the premise, that spark-submit outlives the agent, is proven below: the
# next agent logs the leftover it found alive and stopped

start_agent a1 acme/prod # same state dir: same identity, no enrollment
wait_until 10 gone "$first" ||
	fail "the leftover spark-submit (pid $first) is still running"
grep -q "run $r: stopped spark-submit left running by a previous agent" \
	"$T/agent-a1.log" || fail "the agent did not log the leftover it stopped"

# The scheduler requeues the run (the agent no longer holds it) and leases
# it again: exactly one spark-submit for it.
wait_until 30 fakes_are 1 || fail "the run was not started again"
wait_agent_waiting "$(spctl --json agent list | json items.0.id)"
fakes_are 1 || fail "$(fakes) spark-submits for run $r"
[ "$(spctl --json run show "$r" | json run.leases_lost)" -ge 1 ] ||
	fail "run $r does not count a lost lease"

spctl run cancel "$r" >/dev/null
wait_run_state "$r" cancelled 20
wait_until 10 fakes_are 0 || fail "spark-submit still running after cancel"
[ -z "$(ls "$T/agent-a1/running")" ] || fail "a finished run is still recorded"
echo "agent crash: ok"

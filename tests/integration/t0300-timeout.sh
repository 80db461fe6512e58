#!/bin/bash
# A run that outlives its job's timeout is stopped and recorded timed_out.
. "$(dirname "$0")/lib.sh"

start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
printf 'kill_grace_ms = 1000\n' >"$T/agent.conf"
start_agent a1 acme/prod --config "$T/agent.conf"
wait_env_ready acme/prod
tag=timeout-$$-$RANDOM
spctl job add acme/prod/slow --timeout 2 -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=60 --conf spark.fake.seed=$tag app.jar >/dev/null
r=$(spctl run start acme/prod/slow)
wait_run_state "$r" timed_out 30
spctl --json run show "$r" | json run.reason | grep -q timeout || fail "no timeout reason"
pgrep -f "spark.fake.seed=$tag" && fail "spark-submit still running after timeout"
echo "timeout: ok"

#!/bin/bash
# The whole slice: tenant -> environment -> agent -> job -> run -> logs ->
# usage, then a scheduler restart that must keep every acknowledged record.
. "$(dirname "$0")/lib.sh"

start_scheduler
spctl tenant add acme --weight 2 >/dev/null
spctl env add acme/prod --price-vcpu-hour 0.05 --price-gb-hour 0.01 >/dev/null
[ "$(env_state acme/prod)" = pending ] || fail "new env is not pending"

start_agent a1 acme/prod --slots 2
wait_env_ready acme/prod
spctl --json env show acme/prod | json environment.spark_version | grep -q '^3\.5\.1$' ||
	fail "spark version not reported"

spctl job add acme/prod/pi --executors 2 --timeout 120 -- \
	--master yarn --deploy-mode cluster --class org.apache.spark.examples.SparkPi \
	--conf spark.fake.duration=1 local:///opt/spark/examples.jar 100 >/dev/null
spctl job add acme/prod/etl -- --master yarn --deploy-mode cluster \
	--conf spark.fake.outcome=fail --conf spark.fake.signature=executor_oom \
	--conf spark.fake.duration=0.5 s3://bucket/etl.py >/dev/null

ok=$(spctl run start acme/prod/pi)
bad=$(spctl run start acme/prod/etl)
[[ "$ok" =~ ^[0-9]+$ ]] || fail "run start printed '$ok', not a run id"
wait_run_state "$ok" succeeded 60
wait_run_state "$bad" failed 60

show=$(spctl --json run show "$ok")
echo "$show" | json run.app_id | grep -Eq '^application_[0-9]+_[0-9]+$' ||
	fail "no YARN application id on run $ok"
echo "$show" | json run.agent | grep -q '^ag-' || fail "no agent on run $ok"
echo "$show" | json run.exit_code | grep -qx 0 || fail "exit code not 0"
for s in queued leased submitted running succeeded; do
	echo "$show" | json "run.timestamps.$s" >/dev/null || fail "no $s timestamp"
done
spctl --json run show "$bad" | json run.reason | grep -q 'OutOfMemoryError' ||
	fail "failed run's reason does not name the OOM"
spctl run logs "$ok" | grep -q 'final status: SUCCEEDED' || fail "log lines missing"
spctl run logs "$bad" | grep -q 'java.lang.OutOfMemoryError' || fail "failure log missing"

usage=$(spctl --json usage acme)
[ "$(echo "$usage" | json items.0.runs)" = 2 ] || fail "usage does not count 2 runs"
[ "$(echo "$usage" | json items.0.succeeded)" = 1 ] || fail "usage succeeded != 1"
[ "$(echo "$usage" | json items.0.failed)" = 1 ] || fail "usage failed != 1"
spctl usage --format csv | grep -q '^acme,acme/prod,ALL,2,1,1,' || fail "csv usage"

# Everything acknowledged survives a restart.
stop_scheduler
start_scheduler
[ "$(run_state "$ok")" = succeeded ] || fail "run state lost across restart"
[ "$(run_state "$bad")" = failed ] || fail "run state lost across restart"
spctl run logs "$ok" | grep -q 'final status: SUCCEEDED' || fail "logs lost across restart"
spctl --json job show acme/prod/pi | json job.spark_submit_args.0 | grep -qx -- --master ||
	fail "job args lost across restart"
# The agent reconnects on its own and takes new work.
again=$(spctl run start acme/prod/pi)
wait_run_state "$again" succeeded 60
echo "full flow: ok"

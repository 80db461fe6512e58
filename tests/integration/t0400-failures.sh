#!/bin/bash
# Failing runs: Kubernetes cluster mode exits 0 while the driver failed (the
# driver's exit code decides), a missing main class exits 101, and a job
# with two attempts is retried once before it is recorded failed.
. "$(dirname "$0")/lib.sh"

start_with_agent

spctl job add acme/prod/k8s -- --master k8s://https://k8s.example:6443 \
	--deploy-mode cluster --conf spark.fake.outcome=fail \
	--conf spark.fake.signature=s3_access_denied --conf spark.fake.duration=0.5 \
	local:///opt/app.jar >/dev/null
spctl job add acme/prod/noclass -- --master 'local[2]' \
	--conf spark.fake.outcome=fail --conf spark.fake.signature=class_not_found \
	--class com.acme.Missing app.jar >/dev/null
spctl job add acme/prod/retry --max-attempts 2 -- --master yarn --deploy-mode cluster \
	--conf spark.fake.outcome=fail --conf spark.fake.signature=node_lost \
	--conf spark.fake.duration=0.3 app.jar >/dev/null

k=$(spctl run start acme/prod/k8s)
n=$(spctl run start acme/prod/noclass)
r=$(spctl run start acme/prod/retry)
wait_run_state "$k" failed 60
wait_run_state "$n" failed 60
wait_run_state "$r" failed 60
spctl --json run show "$k" | json run.app_id | grep -Eq '^spark-[0-9a-f]{32}$' ||
	fail "no Kubernetes application id"
spctl --json run show "$k" | json run.exit_code | grep -qx 1 ||
	fail "k8s run must carry the driver's exit code 1"
spctl --json run show "$n" | json run.exit_code | grep -qx 101 ||
	fail "missing class must exit 101"
[ "$(spctl --json run show "$r" | json run.attempt)" = 2 ] ||
	fail "retry job did not make a second attempt"
# failures are warnings in the log (journalctl -p warning finds them)
for id in "$k" "$n"; do
	grep -q "^sparkpilot-scheduler: warn: run $id: failed on agent " "$T/scheduler.log" ||
		fail "run $id's failure is not a warning: $(grep "run $id:" "$T/scheduler.log")"
done
grep -q "^sparkpilot-scheduler: warn: run $r: attempt 1 failed on agent .*; retry in [0-9]* ms run=$r tenant=acme env=acme/prod job=acme/prod/retry attempt=1 agent=ag-[0-9a-f]*$" "$T/scheduler.log" ||
	fail "run $r's failed attempt is not a warning with its fields: $(grep "run $r:" "$T/scheduler.log")"
grep -q "^sparkpilot-scheduler: warn: run $k: failed on agent .* run=$k tenant=acme env=acme/prod job=acme/prod/k8s attempt=1 agent=ag-[0-9a-f]*$" "$T/scheduler.log" ||
	fail "run $k's line does not end with its fields: $(grep "run $k:" "$T/scheduler.log")"
echo "failures: ok"

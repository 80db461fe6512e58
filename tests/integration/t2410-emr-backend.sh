#!/bin/bash
# The emr-eks backend end to end: an environment with --backend emr-eks
# runs its jobs as EMR on EKS job runs on the fake AWS (tests/fakes/aws,
# which verifies every SigV4 signature): a run that succeeds with the
# driver's log from S3 in the run's logs, one that fails with an executor
# OOM (class executor_oom, from the driver log), a cancel that cancels the
# job run, StartJobRun throttled and its answer lost yet one job per run.
# Needs the backend interface (agent/backend.h, the backends branch);
# skipped without it (tests/integration/t2400 covers the EMR code alone).
. "$(dirname "$0")/lib.sh"

case $AGENT_BIN in *-static)
	echo "t2410: skipped (the static agent has no emr-eks: backend_unavailable)"
	exit 0 ;;
esac
if [ ! -f "$ROOT/agent/backend.h" ]; then
	echo "t2410: skipped (no agent/backend.h)"
	exit 0
fi

AK=AKIDSPARKPILOTTEST02
SK=bPxRfiCYsparkpilotwJalrXUtnFEMIK7MDENG
VC=vc0123456789abcdefghijklm
"$ROOT/tests/fakes/aws" --access-key "$AK" --secret-key "$SK" --vc "$VC" \
	--throttle-start 1 --lose-start 1 >"$T/aws.port" 2>"$T/aws.log" &
PIDS+=($!)
wait_until 10 grep -q listening "$T/aws.port" || fail "fake AWS did not start"
AWS=http://127.0.0.1:$(awk '{print $3}' "$T/aws.port")
stat() { fetch "$AWS/_fake/stats" | json "$1"; }

start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/emr --backend emr-eks >/dev/null
for kv in "virtual_cluster_id=$VC" \
	execution_role_arn=arn:aws:iam::111122223333:role/emr-job \
	release_label=emr-6.15.0-latest region=us-east-1 \
	log_uri=s3://logs/sparkpilot/ "endpoint=$AWS"; do
	spctl env set acme/emr --backend-setting "$kv" >/dev/null
done
cat >"$T/agent.conf" <<EOF
aws_s3_endpoint = $AWS
aws_sts_endpoint = $AWS
aws_imds_endpoint = $AWS
EOF
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK HOME=$T \
	start_agent a1 acme/emr --config "$T/agent.conf"
wait_env_ready acme/emr
# ready only once the agent's preflight called DescribeVirtualCluster
[ "$(stat vc_describes)" -ge 1 ] || fail "no DescribeVirtualCluster before ready"
grep -q "preflight: waiting: it checks the emr-eks backend next" \
	"$T/scheduler.log" || fail "no wait for the emr-eks check"

# 1. success (its StartJobRun throttled once, then its answer lost)
spctl job add acme/emr/ok --executor-memory 2 --executors 3 -- \
	--master yarn --class com.acme.Main s3://acme/app.jar 2026-12-05 >/dev/null
r=$(spctl run start acme/emr/ok)
wait_run_state "$r" succeeded 60
spctl run logs "$r" | grep -q 'Pi is roughly' ||
	fail "driver stdout not in the run's logs: $(spctl run logs "$r")"
[ -n "$(spctl --json run show "$r" | json run.app_id)" ] ||
	fail "no job run id reported"
[ "$(stat jobs_created)" = 1 ] || fail "jobs created: $(stat jobs_created)"
[ "$(stat start_calls)" = 3 ] || fail "start calls: $(stat start_calls)"

# 2. executor OOM in the driver's log in S3
spctl job add acme/emr/oom --max-attempts 1 -- \
	--conf spark.fake.outcome=oom s3://acme/app.jar >/dev/null
f=$(spctl run start acme/emr/oom)
wait_run_state "$f" failed 60
d=$(spctl --json run diagnose "$f")
[ "$(echo "$d" | json class)" = executor_oom ] || fail "diagnose: $d"

# 3. cancel
spctl job add acme/emr/long -- --conf spark.fake.outcome=long \
	s3://acme/app.jar >/dev/null
c=$(spctl run start acme/emr/long)
wait_run_state "$c" running 60
spctl run cancel "$c" >/dev/null
wait_run_state "$c" cancelled 60
[ "$(stat cancels)" = 1 ] || fail "cancels: $(stat cancels)"
[ "$(stat jobs_created)" = 3 ] || fail "one job per run: $(stat jobs_created)"
[ "$(stat sig_failures)" = 0 ] || fail "badly signed requests"

# 4. an agent whose AWS secret is wrong: its environment fails with the
# AWS error, and no run is dispatched there
spctl env add acme/bad --backend emr-eks >/dev/null
for kv in "virtual_cluster_id=$VC" \
	execution_role_arn=arn:aws:iam::111122223333:role/emr-job \
	release_label=emr-6.15.0-latest region=us-east-1 \
	log_uri=s3://logs/sparkpilot/ "endpoint=$AWS"; do
	spctl env set acme/bad --backend-setting "$kv" >/dev/null
done
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=wrong${SK#wrong} HOME=$T \
	start_agent a2 acme/bad --config "$T/agent.conf"
wait_until 20 env_is acme/bad failed ||
	fail "acme/bad is $(env_state acme/bad), expected failed"
why=$(spctl --json env show acme/bad | json environment.state_reason)
case $why in "emr-eks: "*InvalidSignatureException*) ;;
*) fail "reason: $why" ;; esac
spctl env show acme/bad | grep -q InvalidSignatureException ||
	fail "env show: $(spctl env show acme/bad)"
spctl job add acme/bad/j -- s3://acme/app.jar >/dev/null
b=$(spctl run start acme/bad/j)
sleep 2
[ "$(run_state "$b")" = queued ] || fail "run in a failed env: $(run_state "$b")"
[ "$(stat jobs_created)" = 3 ] || fail "a job run for acme/bad"
grep -q "$SK" "$T"/*.log && fail "the secret key in a log"
grep -q "wrong$SK" "$T"/*.log && fail "the wrong secret key in a log"
echo "t2410: ok"

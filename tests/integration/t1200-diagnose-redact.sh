#!/bin/bash
# A failing run is classified by the agent from its output: the class goes
# with the completion, decides the retry (input_missing is not retried even
# with attempts left) and `spctl run diagnose` shows it with the deciding
# line and a hint. Secrets the application prints are redacted on the agent
# host: the scheduler's log, store and answers never hold them. A malformed
# redact_rule stops the agent at start, naming its line.
. "$(dirname "$0")/lib.sh"

# What the application will print: a JDBC password, a password in a URL,
# an AWS key pair, a bearer token and an e-mail address, on one line.
export LEAKY_LINE='connect jdbc:postgresql://db.internal:5432/sales?user=etl&password=Hunter2Secret! s3a://etl:MinioPassw0rd@minio.internal:9000/raw aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.dG9rZW4 owner=jane.doe@example.com app application_1700000000000_0042'
SECRETS=(Hunter2Secret MinioPassw0rd AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI eyJhbGciOiJIUzI1NiJ9 jane.doe@example.com)

start_with_agent
spctl job add acme/prod/leaky --max-attempts 3 -- --master 'local[2]' \
	--conf spark.fake.print_env=LEAKY_LINE --conf spark.fake.outcome=fail \
	--conf spark.fake.signature=input_missing --conf spark.fake.duration=0.2 \
	app.jar >/dev/null
spctl job add acme/prod/flaky --max-attempts 2 -- --master 'local[2]' \
	--conf spark.fake.outcome=fail --conf spark.fake.signature=node_lost \
	--conf spark.fake.duration=0.2 app.jar >/dev/null
r=$(spctl run start acme/prod/leaky)
f=$(spctl run start acme/prod/flaky)
wait_run_state "$r" failed 60
wait_run_state "$f" failed 60

# the class decided: no retry for a missing input, a retry for a lost node
[ "$(spctl --json run show "$r" | json run.attempt)" = 1 ] ||
	fail "input_missing must not be retried"
[ "$(spctl --json run show "$f" | json run.attempt)" = 2 ] ||
	fail "node_lost must be retried"
d=$(spctl --json run diagnose "$r")
[ "$(echo "$d" | json class)" = input_missing ] || fail "diagnose: $d"
[ "$(echo "$d" | json retryable)" = False ] || fail "diagnose: $d"
[ "$(echo "$d" | json classified_from)" = agent ] || fail "diagnose: $d"
echo "$d" | json line | grep -Eq 'FileNotFoundException|Path does not exist' ||
	fail "diagnose line: $d"
echo "$d" | json hint | grep -q 'path' || fail "diagnose hint: $d"
spctl run diagnose "$r" | grep -q 'input_missing' || fail "table output"
[ "$(spctl --json run diagnose "$f" | json class)" = node_lost ] ||
	fail "node_lost diagnose"
out=$(spctl run diagnose 999999 2>&1) && fail "unknown run accepted"
grep -q 'error:' <<<"$out" || fail "unknown run: $out"

# a job whose arguments hold a secret is refused, without echoing it
for args in "--conf spark.hadoop.fs.s3a.secret.key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" \
	"--conf spark.jdbc.password=Hunter2Secret!" "s3a://etl:MinioPassw0rd@minio/raw"; do
	# shellcheck disable=SC2086
	out=$(spctl job add acme/prod/secretive -- --master yarn $args app.jar 2>&1) &&
		fail "a secret in job arguments was accepted: $args"
	grep -Eq "argument [34] holds a secret \((aws_secret_access_key|password|url_password)\)" <<<"$out" ||
		fail "refusal: $out"
	for s in "${SECRETS[@]}"; do
		! grep -qF "$s" <<<"$out" || fail "the refusal echoes the secret"
	done
done
spctl job add acme/prod/plain -- --master yarn --conf spark.authenticate=true \
	--conf spark.executor.memory=4g s3a://acme-data/raw/ app.jar >/dev/null ||
	fail "ordinary arguments refused"

# the secret line arrived, redacted
logs=$(spctl run logs "$r")
grep -q 'application_1700000000000_0042' <<<"$logs" ||
	fail "the application's line is missing: $logs"
for k in password url_password aws_access_key_id aws_secret_access_key \
	authorization email; do
	grep -q "\[REDACTED:$k\]" <<<"$logs" || fail "no [REDACTED:$k] in: $logs"
done
kill -TERM "$AGENT_PID_a1"
wait "$AGENT_PID_a1" || fail "agent exited with $?"
stop_scheduler # flushes the store to its files
for s in "${SECRETS[@]}"; do
	! grep -rqF "$s" "$T/data" "$T/scheduler.log" ||
		fail "secret '$s' reached the scheduler"
	! grep -qF "$s" <<<"$logs" || fail "secret '$s' in run logs"
done

# a bad extra rule: refused at start with its line
printf 'slots = 1\n# extra rules\nredact_rule = emp_id EMP-([0-9]{6}\n' >"$T/bad.conf"
set +e
out=$("$BIN/sparkpilot-agent" --config "$T/bad.conf" --state-dir "$T/agent-bad" 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] || fail "agent with a bad rule exited $rc: $out"
grep -q 'bad.conf:3:' <<<"$out" || fail "no line number: $out"
echo "diagnose-redact: ok"

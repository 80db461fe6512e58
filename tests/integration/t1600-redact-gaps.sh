#!/bin/bash
# Redaction on the paths a held-out review found leaking, end to end: a
# secret across the agent's 8 KiB cut of a long output line, a long failure
# reason (kept, cut and redacted, not dropped), and job arguments carrying
# an Oracle URL, Slack and Stripe keys or a keytab blob (refused, naming
# the kind, not the value); redact rules that would exhaust memory or
# backtrack without end (refused at start with their file:line).
. "$(dirname "$0")/lib.sh"

GH=ghp_R8bQ2xW4nV6kL9mZ3pT7yH1cF5dS0aJ2uE4i
KEYTAB=BQIAAABHAAIAC0VYQU1QTEUuQ09NAANldGwABGhvc3QAAAABZWvQAAEAEgAgq3dP0W9lYkxQqT2u4m8yY5cN0aQn3sVj6KzR1o2pE7c=
SECRETS=(Straddles1 "$GH" Or4clePw uE4i xoxb-2048675309123 sk_live_51HqLy "$KEYTAB")
# a line of 20 KB: a password across byte 8192, a token further on
LONG_LINE=$(printf '%8180s' '')password=Straddles1
LONG_LINE="$LONG_LINE $(printf 'x%.0s' $(seq 1 9000)) $GH end"
export LONG_LINE
# a "Caused by:" line that becomes the failure reason: with "spark-submit
# exited with 1: " before it, longer than the scheduler keeps
export CAUSE_LINE="Caused by: java.sql.SQLException: ORA-01017 logging in as etl/Or4clePw@//ora.internal:1521/DW: invalid username/password; logon denied$(printf ' detail%.0s' $(seq 1 80))"

start_with_agent
spctl job add acme/prod/long -- --master 'local[2]' \
	--conf spark.fake.print_env=LONG_LINE --conf spark.fake.duration=0.2 \
	app.jar >/dev/null
spctl job add acme/prod/cause --max-attempts 1 -- --master 'local[2]' \
	--conf spark.fake.print_env=CAUSE_LINE --conf spark.fake.outcome=fail \
	--conf spark.fake.signature=input_missing --conf spark.fake.duration=0.2 \
	app.jar >/dev/null
l=$(spctl run start acme/prod/long)
c=$(spctl run start acme/prod/cause)
wait_run_state "$l" succeeded 60
wait_run_state "$c" failed 60

# the long line arrived in pieces, the secrets in none of them
logs=$(spctl run logs "$l")
grep -q 'password=\[REDACTED:password\]' <<<"$logs" ||
	fail "no redacted password in the long line"
grep -q '\[REDACTED:github_token\] end' <<<"$logs" ||
	fail "no redacted token in the long line"

# the long reason is kept, cut, redacted
show=$(spctl --json run show "$c")
reason=$(echo "$show" | json run.reason)
[ ${#reason} -gt 100 ] || fail "the reason was dropped: $show"
grep -q '\[REDACTED:password\]' <<<"$reason" || fail "reason: $reason"
grep -q '\.\.\.$' <<<"$reason" || fail "reason not marked as cut: $reason"
d=$(spctl --json run diagnose "$c")
echo "$d" | json reason | grep -q 'REDACTED:password' || fail "diagnose: $d"

# job arguments with secrets are refused, by kind, without the value
for spec in "spark.jdbc.url=jdbc:oracle:thin:etl/Or4clePw@//ora:1521/DW:password" \
	"spark.executorEnv.SLACK=xoxb-2048675309123-4096815243567-Zq8YxWvUtSrQpOnMlKjIhGfE:slack_token" \
	"spark.executorEnv.STRIPE=sk_live_51HqLyjWDarjtT1zdp7dcXyZ0aBcDeFgH:stripe_key" \
	"spark.kerberos.keytab.b64=$KEYTAB:kerberos_keytab"; do
	arg=${spec%:*}
	kind=${spec##*:}
	out=$(spctl job add acme/prod/secretive -- --master yarn --conf "$arg" \
		app.jar 2>&1) && fail "a secret in job arguments was accepted: $arg"
	grep -q "argument 4 holds a secret ($kind)" <<<"$out" ||
		fail "refusal of $kind: $out"
	for s in "${SECRETS[@]}"; do
		! grep -qF -- "$s" <<<"$out" || fail "the refusal echoes '$s'"
	done
done

kill -TERM "$AGENT_PID_a1"
wait "$AGENT_PID_a1" || fail "agent exited with $?"
stop_scheduler # flushes the store to its files
for s in "${SECRETS[@]}"; do
	! grep -rqF -- "$s" "$T/data" "$T/scheduler.log" ||
		fail "secret '$s' reached the scheduler"
	! echo "$logs $show $d" | grep -qF -- "$s" || fail "secret '$s' shown"
done
# rules that would exhaust memory or backtrack without end: refused at
# start with their line, at once
for rule in 'blowup ((((x{255}){255}){255}){255}):too large' \
	'stacked x{255}{255}{255}:quantifier' 'runaway (a+)+$:backtracks' \
	"long $(printf 'x%.0s' $(seq 1 400)):longer than 319 bytes"; do
	printf 'slots = 1\nredact_rule = %s\n' "${rule%:*}" >"$T/rule.conf"
	set +e
	out=$(timeout 10 "$BIN/sparkpilot-agent" --config "$T/rule.conf" \
		--state-dir "$T/agent-rule" 2>&1)
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "agent with rule '${rule%%:*}' exited $rc: $out"
	grep -q "rule.conf:2: .*${rule##*:}" <<<"$out" ||
		fail "refusal of '${rule%%:*}': $out"
done
echo "redact-gaps: ok"

#!/bin/bash
# t2500-poc-report.sh - `report env` through the real daemons and the fake
# spark-submit: an environment brought up and used; its five POC criteria
# in JSON (a customer-code failure left out of the success rate, a
# platform failure counted), the verdict GO then NO-GO, the retention
# note for a window longer than the retention, and the Markdown form as a
# Markdown table.
. "$(dirname "$0")/lib.sh"

start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/poc >/dev/null
start_agent a1 acme/poc --slots 2
wait_env_ready acme/poc

yarn="--master yarn --deploy-mode cluster --conf spark.fake.duration=0.2"
# shellcheck disable=SC2086
spctl job add acme/poc/ok -- $yarn app.jar >/dev/null
# shellcheck disable=SC2086
spctl job add acme/poc/missing --max-attempts 1 -- $yarn \
	--conf spark.fake.outcome=fail --conf spark.fake.signature=input_missing \
	app.jar >/dev/null
# shellcheck disable=SC2086
spctl job add acme/poc/oom --max-attempts 1 -- $yarn \
	--conf spark.fake.outcome=fail --conf spark.fake.signature=executor_oom \
	app.jar >/dev/null

runs=()
for _ in 1 2 3 4 5; do
	runs+=("$(spctl run start acme/poc/ok)")
done
miss=$(spctl run start acme/poc/missing)
for r in "${runs[@]}"; do
	wait_run_state "$r" succeeded 60
done
wait_run_state "$miss" failed 60

# criterion NAME FIELD: a field of a criterion of the report on stdin
crit() {
	python3 -c '
import json, sys
rep = json.load(sys.stdin)
c = [c for c in rep["criteria"] if c["name"] == sys.argv[1]][0]
v = c[sys.argv[2]]
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}

rep=$(spctl --json report env acme/poc --days 1)
[ "$(echo "$rep" | json verdict)" = GO ] || fail "not GO: $rep"
names=$(echo "$rep" | python3 -c 'import json,sys; print(" ".join(c["name"] for c in json.load(sys.stdin)["criteria"]))')
[ "$names" = "time_to_ready runs_and_days first_attempt_success failures_diagnosed security_findings" ] ||
	fail "criteria: $names"
for n in $names; do
	for k in value threshold pass; do
		echo "$rep" | crit "$n" "$k" >/dev/null || fail "$n has no $k"
	done
done
[ "$(echo "$rep" | crit time_to_ready pass)" = true ] || fail "time to ready"
v=$(echo "$rep" | crit time_to_ready value)
python3 -c "import sys; sys.exit(not 0 <= float('$v') < 1)" ||
	fail "time to ready is $v minutes"
[ "$(echo "$rep" | crit runs_and_days value)" = 6 ] || fail "runs: $rep"
[ "$(echo "$rep" | crit first_attempt_success value)" = 100.0 ] ||
	fail "success rate: $rep"
[ "$(echo "$rep" | crit first_attempt_success excluded_customer_code)" = 1 ] ||
	fail "the input_missing run was not left out: $rep"
[ "$(echo "$rep" | crit failures_diagnosed failed)" = 1 ] || fail "failed: $rep"
[ "$(echo "$rep" | crit failures_diagnosed value)" = 0 ] ||
	fail "a failed run lacks a class or logs: $rep"
[ "$(echo "$rep" | crit security_findings value)" = 0 ] || fail "findings: $rep"
[ "$(echo "$rep" | json retention_limited)" = False ] || fail "retention note for 1 day"

# 14 days (the default) on a 7-day retention: too few days, and said so
rep=$(spctl --json report env acme/poc)
[ "$(echo "$rep" | json verdict)" = NO-GO ] || fail "14 days of runs in a minute"
[ "$(echo "$rep" | crit runs_and_days pass)" = false ] || fail "runs and days passed"
[ "$(echo "$rep" | json retention_limited)" = True ] || fail "no retention flag"
echo "$rep" | json note | grep -q 'removed by retention' || fail "no retention note"
spctl report env acme/poc | grep -q '^note: .*retention' || fail "table has no note"
spctl report env acme/poc | grep -q '^verdict: NO-GO$' || fail "table has no verdict"

# a platform failure counts: 5 of 6 is under 90 %
oom=$(spctl run start acme/poc/oom)
wait_run_state "$oom" failed 60
rep=$(spctl --json report env acme/poc --days 1)
[ "$(echo "$rep" | crit first_attempt_success value)" = 83.3 ] ||
	fail "success rate with a platform failure: $rep"
[ "$(echo "$rep" | crit first_attempt_success pass)" = false ] || fail "83 % passed"
[ "$(echo "$rep" | json verdict)" = NO-GO ] || fail "not NO-GO"

# Markdown: a heading, then a table with a header, a separator, 5 rows
md=$(spctl report env acme/poc --days 1 --format md)
grep -q '^### POC readiness: acme/poc' <<<"$md" || fail "no heading: $md"
grep -qx '| Criterion | Measured | Threshold | Result |' <<<"$md" || fail "no header: $md"
grep -qx '|---|---|---|---|' <<<"$md" || fail "no separator: $md"
[ "$(grep -c '^| .* | .* | .* | .* |$' <<<"$md")" = 6 ] || fail "not 5 rows: $md"
grep -q '^\*\*Verdict: NO-GO\*\*$' <<<"$md" || fail "no verdict: $md"

# bad input: one line each
out=$(spctl report env acme/nope 2>&1) && fail "an unknown env was reported"
[ "$out" = "spctl: error: no environment 'acme/nope'" ] || fail "unknown env: $out"
out=$(spctl report env acme/poc --format csv 2>&1) && fail "csv accepted"
grep -q 'must be table or md' <<<"$out" || fail "bad format: $out"
out=$(spctl report env acme/poc --days 0 2>&1) && fail "0 days accepted"
echo "poc report: ok"

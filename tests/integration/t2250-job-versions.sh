#!/bin/bash
# Job versions through the real daemon, an agent and the fake spark-submit
# (behind a wrapper that records each argv and fails the first attempt it
# is asked to): a run queued under version 1 keeps version 1's arguments
# after `job set` wrote version 2, on its first attempt and on its retry;
# a run started after the set gets version 2's; run show, job show
# [--version N] and job history tell which is which, across a restart.
. "$(dirname "$0")/lib.sh"

printf 'retry_base_ms = 200\nretry_max_ms = 400\n' >"$T/scheduler.conf"
cat >"$T/spark-submit-rec" <<EOF
#!/bin/sh
echo "\$*" >>"$T/argv.log"
if [ -e "$T/fail-once" ]; then
	rm -f "$T/fail-once"
	echo "failing this attempt on purpose" >&2
	exit 1
fi
exec "$FAKE_SPARK" "\$@"
EOF
chmod +x "$T/spark-submit-rec"
FAKE_SPARK=$T/spark-submit-rec
start_scheduler --config "$T/scheduler.conf"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
start_agent a1 acme/prod --slots 1
wait_env_ready acme/prod

spctl job add acme/prod/pi --max-attempts 2 --executors 2 -- \
	--conf spark.fake.duration=0.2 --conf spark.fake.print=from-v1 local:///v1.jar >/dev/null
[ "$(spctl --json job show acme/prod/pi | json job.version)" = 1 ] || fail "a new job is not version 1"

# Run 1 waits in the queue under version 1 while version 2 is written.
spctl dispatch pause >/dev/null
touch "$T/fail-once"
r1=$(spctl run start acme/prod/pi)
[ "$(spctl --json run show "$r1" | json run.job_version)" = 1 ] || fail "run $r1 is not of version 1"
out=$(spctl job set acme/prod/pi --executors 4 -- \
	--conf spark.fake.duration=0.2 --conf spark.fake.print=from-v2 local:///v2.jar)
grep -q '^job acme/prod/pi version 2: executors 2 -> 4, spark-submit arguments replaced (5 -> 5)$' <<<"$out" ||
	fail "job set answered: $out"
r2=$(spctl run start acme/prod/pi)
[ "$(spctl --json run show "$r2" | json run.job_version)" = 2 ] || fail "run $r2 is not of version 2"

# flags not given keep their value; without "--" the arguments stay
spctl job set acme/prod/pi --timeout 600 >/dev/null
show=$(spctl --json job show acme/prod/pi)
[ "$(echo "$show" | json job.version)" = 3 ] || fail "version after a second set: $show"
[ "$(echo "$show" | json job.executors)" = 4 ] || fail "executors not kept: $show"
[ "$(echo "$show" | json job.max_attempts)" = 2 ] || fail "max_attempts not kept: $show"
echo "$show" | json job.spark_submit_args | grep -q 'local:///v2.jar' || fail "args not kept: $show"
out=$(spctl job set acme/prod/pi --timeout 600)
[ "$out" = "job acme/prod/pi unchanged (version 3)" ] || fail "a set changing nothing: $out"
# the same checks as job add
out=$(spctl job set acme/prod/pi -- --conf spark.hadoop.fs.s3a.secret.key=AKIAIOSFODNN7EXAMPLEKEY \
	local:///x.jar 2>&1) && fail "job set took a secret in the arguments"
grep -q 'spark-submit argument 2 holds a secret' <<<"$out" || fail "job set with a secret: $out"
if spctl job set acme/prod/pi -- >/dev/null 2>&1; then
	fail "job set took an empty argument list"
fi
[ "$(spctl --json job show acme/prod/pi | json job.version)" = 3 ] || fail "a refused set wrote a version"

spctl dispatch resume >/dev/null
wait_run_state "$r1" succeeded 60
wait_run_state "$r2" succeeded 60
[ "$(spctl --json run show "$r1" | json run.attempt)" = 2 ] || fail "run $r1 was not retried"
v1=$(grep -c 'local:///v1.jar' "$T/argv.log" || true)
v2=$(grep -c 'local:///v2.jar' "$T/argv.log" || true)
[ "$v1" = 2 ] && [ "$v2" = 1 ] ||
	fail "spark-submit got v1 $v1 times, v2 $v2 times: $(cat "$T/argv.log")"
has_log() { # RUN TEXT
	spctl run logs "$1" | grep -q "$2"
}
wait_until 20 has_log "$r1" from-v1 || fail "run $r1's logs lack version 1's output"
wait_until 20 has_log "$r2" from-v2 || fail "run $r2's logs lack version 2's output"
! has_log "$r1" from-v2 || fail "run $r1 ran version 2's arguments"

# history and earlier versions, also after a restart
check_versions() {
	local h
	h=$(spctl --json job history acme/prod/pi)
	[ "$(echo "$h" | json items.0.version)" = 1 ] || fail "history: $h"
	[ "$(echo "$h" | json items.0.changes)" = created ] || fail "history: $h"
	[ "$(echo "$h" | json items.1.changes)" = "executors 2 -> 4, spark-submit arguments replaced (5 -> 5)" ] ||
		fail "history: $h"
	[ "$(echo "$h" | json items.2.changes)" = "timeout 3600 -> 600" ] || fail "history: $h"
	echo "$h" | json items.2.by | grep -q '^uid:[0-9]*$' || fail "history has no actor: $h"
	spctl --json job show acme/prod/pi --version 1 | json job.spark_submit_args |
		grep -q 'local:///v1.jar' || fail "job show --version 1"
	[ "$(spctl --json job show acme/prod/pi --version 1 | json job.executors)" = 2 ] ||
		fail "job show --version 1: executors"
	out=$(spctl job show acme/prod/pi --version 9 2>&1) && fail "job show of a version not written"
	[ "$out" = "spctl: error: job 'acme/prod/pi' has no version 9 (versions 1-3)" ] ||
		fail "job show --version 9: $out"
	[ "$(spctl --json run show "$r1" | json run.job_version)" = 1 ] || fail "run $r1's version"
	[ "$(spctl --json run show "$r2" | json run.job_version)" = 2 ] || fail "run $r2's version"
}
check_versions
spctl job history acme/prod/pi | grep -q 'timeout 3600 -> 600' || fail "job history's table"
stop_scheduler
start_scheduler --config "$T/scheduler.conf"
check_versions
r3=$(spctl run start acme/prod/pi)
wait_run_state "$r3" succeeded 60
[ "$(spctl --json run show "$r3" | json run.job_version)" = 3 ] || fail "run $r3 is not of version 3"
echo "job versions: ok"

#!/bin/bash
# Run parameters, dependencies, holds, priorities and retries through the
# real daemon, an agent and the fake spark-submit (behind a wrapper that
# records each argv): placeholders resolved in what spark-submit gets,
# waiting and skipped runs, hold/release, run set --priority, run retry
# with the original's parameters, who started each run, each refusal
# with nothing written, and all of it across a restart.
. "$(dirname "$0")/lib.sh"

cat >"$T/spark-submit-rec" <<EOF
#!/bin/sh
echo "\$*" >>"$T/argv.log"
exec "$FAKE_SPARK" "\$@"
EOF
chmod +x "$T/spark-submit-rec"
FAKE_SPARK=$T/spark-submit-rec
start_scheduler
spctl tenant add acme >/dev/null
spctl tenant add other >/dev/null
spctl env add acme/prod >/dev/null
spctl env add other/prod >/dev/null
start_agent a1 acme/prod --slots 2
wait_env_ready acme/prod
me="uid:$(id -u)"

spctl job add acme/prod/etl -- --conf spark.fake.duration=0.1 \
	--conf 'spark.fake.print=day-{{day}}' local:///etl.jar '{{day}}' \
	'{{scheduled_date}}' 'run-{{run_id}}' 'try-{{attempt}}' >/dev/null
spctl job add acme/prod/quick -- --conf spark.fake.duration=0.1 local:///q.jar >/dev/null
spctl job add acme/prod/boom --max-attempts 1 -- --conf spark.fake.duration=0.1 \
	--conf spark.fake.exit_code=1 local:///b.jar >/dev/null
spctl job add other/prod/theirs -- local:///t.jar >/dev/null
o1=$(spctl run start other/prod/theirs)
runs_before() { spctl --json run list --limit 1000 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'; }

# ---- bad input: one line naming the problem, nothing written ----
n0=$(runs_before)
refused() { # WANT ARGS...: the command fails with WANT in its message
	local want=$1 out
	shift
	out=$(spctl "$@" 2>&1) && fail "accepted: $*"
	grep -qF -- "$want" <<<"$out" || fail "'$*' answered: $out (want: $want)"
	[ "$(echo "$out" | wc -l)" = 1 ] || fail "'$*': more than one line: $out"
}
refused "uses {{day}}, which is neither a --param given nor a built-in" run start acme/prod/etl
refused "--param foo: no argument of the job uses {{foo}}" run start acme/prod/etl --param day=1 --param foo=2
refused "--param day given twice" run start acme/prod/etl --param day=1 --param day=2
refused "--param '1x=2': a key is a letter" run start acme/prod/etl --param day=1 --param 1x=2
refused "--param 'day' must be KEY=VALUE" run start acme/prod/etl --param day
refused "--param run_id: a built-in placeholder" run start acme/prod/etl --param day=1 --param run_id=7
refused "holds a secret" run start acme/prod/etl --param day=1 -- \
	--conf spark.hadoop.fs.s3a.secret.key=AKIAIOSFODNN7EXAMPLEKEY
refused "uses {{nope}}" run start acme/prod/etl --param day=1 -- '{{nope}}'
refused "--after: no run 999999 of tenant 'acme'" run start acme/prod/quick --after 999999
refused "--after: no run $o1 of tenant 'acme'" run start acme/prod/quick --after "$o1"
refused "--after 'x': " run start acme/prod/quick --after x
refused "--after-any and --after-ok go with --after" run start acme/prod/quick --after-any
[ "$(runs_before)" = "$n0" ] || fail "a refused start wrote a run"

# ---- parameters reach spark-submit, resolved ----
p1=$(spctl run start acme/prod/etl --param day=2026-12-01 -- --extra 'at-{{day}}')
wait_run_state "$p1" succeeded 60
show=$(spctl --json run show "$p1")
[ "$(echo "$show" | json run.created_by)" = "$me" ] || fail "created_by: $show"
[ "$(echo "$show" | json run.params.day)" = 2026-12-01 ] || fail "params: $show"
created_date=$(echo "$show" | json run.timestamps.queued | cut -c1-10)
want="--conf spark.fake.duration=0.1 --conf spark.fake.print=day-2026-12-01 local:///etl.jar 2026-12-01 $created_date run-$p1 try-1 --extra at-2026-12-01"
[ "$(echo "$show" | json run.args | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))')" = "$want" ] ||
	fail "run show args: $show (want $want)"
grep -qxF -- "$want" "$T/argv.log" || fail "spark-submit got: $(cat "$T/argv.log") (want $want)"

# ---- dependencies: waiting, then queued when each succeeded ----
spctl dispatch pause >/dev/null
a=$(spctl run start acme/prod/quick)
b=$(spctl run start acme/prod/quick --after "$a")
c=$(spctl run start acme/prod/quick --after "$b")
[ "$(run_state "$b")" = waiting ] || fail "run $b is $(run_state "$b"), not waiting"
spctl --json run show "$b" | json run.waiting | grep -qF "waiting for run $a (queued) to succeed" ||
	fail "run $b's waiting reason: $(spctl --json run show "$b")"
spctl run list | grep -q "waiting" || fail "run list does not show waiting runs"
# a failing chain: each dependent skipped, with the reason
f=$(spctl run start acme/prod/boom)
g=$(spctl run start acme/prod/quick --after "$f")
h=$(spctl run start acme/prod/quick --after "$g")
k=$(spctl run start acme/prod/quick --after "$f" --after-any)
spctl dispatch resume >/dev/null
wait_run_state "$c" succeeded 60
end_a=$(spctl --json run show "$a" | json run.timestamps.succeeded)
lease_b=$(spctl --json run show "$b" | json run.timestamps.leased)
[[ "$lease_b" > "$end_a" || "$lease_b" == "$end_a" ]] || fail "run $b leased at $lease_b before run $a ended at $end_a"
wait_run_state "$h" skipped 60
[ "$(run_state "$g")" = skipped ] || fail "run $g is $(run_state "$g")"
spctl --json run show "$g" | json run.reason | grep -qF "run $f, which it ran after, failed" ||
	fail "run $g's reason: $(spctl --json run show "$g")"
spctl --json run show "$h" | json run.reason | grep -qF "run $g, which it ran after, was skipped" ||
	fail "run $h's reason"
wait_run_state "$k" succeeded 60

# ---- hold, release, priority ----
spctl dispatch pause >/dev/null
h1=$(spctl run start acme/prod/quick)
h2=$(spctl run start acme/prod/quick --hold)
spctl run hold "$h1" | grep -q "run $h1 held" || fail "run hold"
[ "$(spctl --json run show "$h1" | json run.held_by)" = "$me" ] || fail "held_by"
spctl --json run show "$h1" | json run.waiting | grep -qF "held by $me" || fail "why waiting of a held run"
refused "is held already (by $me)" run hold "$h1"
refused "only a queued or waiting run can be held" run hold "$a"
refused "run $a is not held" run release "$a"
refused "only a queued or waiting run can be given a new priority" run set "$a" --priority 3
refused "nothing to change" run set "$h1"
s1=$(spctl run start acme/prod/quick)
s2=$(spctl run start acme/prod/quick)
spctl run set "$s2" --priority 9 >/dev/null
[ "$(spctl --json run show "$s2" | json run.priority)" = 9 ] || fail "run set --priority"
spctl dispatch resume >/dev/null
wait_run_state "$s1" succeeded 60
wait_run_state "$s2" succeeded 60
[[ "$(spctl --json run show "$s2" | json run.timestamps.leased)" < \
	"$(spctl --json run show "$s1" | json run.timestamps.leased)" ]] ||
	[ "$(spctl --json run show "$s2" | json run.timestamps.leased)" = \
		"$(spctl --json run show "$s1" | json run.timestamps.leased)" ] ||
	fail "the raised run was not dispatched first"
# both ended after the holds were set: the held runs are still queued
[ "$(run_state "$h1")" = queued ] && [ "$(run_state "$h2")" = queued ] ||
	fail "a held run left the queue: $(run_state "$h1") $(run_state "$h2")"

# ---- a restart keeps holds, parameters and the rest ----
stop_scheduler
start_scheduler
[ "$(spctl --json run show "$h1" | json run.held_by)" = "$me" ] || fail "hold lost at restart"
[ "$(run_state "$g")" = skipped ] || fail "skipped lost at restart"
[ "$(spctl --json run show "$p1" | json run.params.day)" = 2026-12-01 ] || fail "params lost at restart"
[ "$(spctl --json run show "$p1" | json run.created_by)" = "$me" ] || fail "created_by lost at restart"
spctl run release "$h1" >/dev/null
spctl run release "$h2" >/dev/null
wait_run_state "$h1" succeeded 60
wait_run_state "$h2" succeeded 60

# ---- retry: a new run with the original's parameters ----
refused "only an ended run can be retried" run retry "$(spctl run start acme/prod/quick --hold)"
spctl dispatch pause >/dev/null
r1=$(spctl run retry "$p1")
[ "$(spctl --json run show "$r1" | json run.retry_of)" = "$p1" ] || fail "retry_of"
refused "run $p1 has a retry not ended yet: run $r1" run retry "$p1"
spctl dispatch resume >/dev/null
wait_run_state "$r1" succeeded 60
grep -qF -- "day-2026-12-01 local:///etl.jar 2026-12-01 $created_date run-$r1 try-1 --extra at-2026-12-01" "$T/argv.log" ||
	fail "the retry's arguments: $(tail -n 2 "$T/argv.log")"
r2=$(spctl run retry "$f")
[ "$(spctl --json run show "$r2" | json run.retry_of)" = "$f" ] || fail "retry of a failed run"
# every change is in the audit log with who did it
for cmd in "run hold" "run release" "run retry" "run set"; do
	spctl audit list | grep -q "command=$cmd " || fail "no audit record of $cmd"
done
echo "run flow: ok"

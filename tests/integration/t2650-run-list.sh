#!/bin/bash
# Accounting queries through spctl and the real daemon: run list's filters
# (state, job, environment, creator, failure class, created time), its
# pages (run_list_scan_max = 2 here, so spctl asks again from the cursor
# until it has --limit rows), --watch, usage --by job and --by user across
# a restart, and bad input refused with one line naming the problem.
. "$(dirname "$0")/lib.sh"

printf 'run_list_scan_max = 2\n' >"$T/scheduler.conf"
start_scheduler --config "$T/scheduler.conf"
ok_bad_jobs

ok=() bad=()
for _ in 1 2 3; do ok+=("$(spctl run start acme/prod/ok)"); done
for _ in 1 2; do bad+=("$(spctl run start acme/prod/bad)"); done
g=$(spctl run start globex/dev/j) # no agent there: it stays queued
for r in "${ok[@]}"; do wait_run_state "$r" succeeded; done
for r in "${bad[@]}"; do wait_run_state "$r" failed; done

# ids JSON: the ids of a run list reply, newest first, blank-separated
ids() { python3 -c 'import json,sys; print(" ".join(str(r["id"]) for r in json.load(sys.stdin)["items"]))'; }
want_bad="${bad[1]} ${bad[0]}"
out=$(spctl --json run list --state failed --limit 100)
[ "$(echo "$out" | ids)" = "$want_bad" ] || fail "--state failed: $out"
# 6 runs, 2 examined per request: spctl asked for every page
[ "$(echo "$out" | json pages)" -ge 3 ] || fail "--state failed in one page: $out"
[ "$(echo "$out" | json complete)" = True ] || fail "--state failed not complete: $out"
class=$(echo "$out" | json items.0.class)
[ -n "$class" ] && [ "$class" != None ] || fail "a failed run without a class: $out"
[ "$(spctl --json run list --class "$class" | ids)" = "$want_bad" ] || fail "--class $class"
[ "$(spctl --json run list --class no-run-has-it | ids)" = "" ] || fail "--class no-run-has-it"
[ "$(spctl --json run list --job acme/prod/ok --oldest-first | ids)" = "${ok[*]}" ] ||
	fail "--job acme/prod/ok --oldest-first"
[ "$(spctl --json run list --env globex/dev | ids)" = "$g" ] || fail "--env globex/dev"
[ "$(spctl --json run list --state queued,failed --tenant acme | ids)" = "$want_bad" ] ||
	fail "--state queued,failed --tenant acme"
me="uid:$(id -u)"
[ "$(spctl --json run list --created-by "$me" | ids | wc -w)" = 6 ] || fail "--created-by $me"
[ "$(spctl --json run list --created-by "$me" | json items.0.created_by)" = "$me" ] ||
	fail "created_by is not $me"
[ "$(spctl --json run list --created-by "user:$(id -un)" | ids | wc -w)" = 6 ] ||
	fail "--created-by user:$(id -un)"
[ "$(spctl --json run list --created-by "uid:$(($(id -u) + 4242))" | ids)" = "" ] ||
	fail "--created-by another uid"
[ "$(spctl --json run list --since 2000-01-01 --until 2999-01-01T00:00:00Z | ids | wc -w)" = 6 ] ||
	fail "--since --until"
[ "$(spctl --json run list --since 2999-01-01 | ids)" = "" ] || fail "--since in the future"

# a page of 2 and the cursor to the next one
out=$(spctl --json run list --limit 2)
[ "$(echo "$out" | ids)" = "$g ${bad[1]}" ] || fail "--limit 2: $out"
next=$(echo "$out" | json next_after_id)
[ "$(spctl --json run list --limit 2 --after-id "$next" | ids)" = "${bad[0]} ${ok[2]}" ] ||
	fail "--after-id $next"
spctl run list --limit 2 | grep -q "^more: --after-id $next\$" || fail "the table names no next page"
spctl run list --state failed | grep -q "executor_oom\|$class" || fail "the table lacks the class"

# --watch: every row on the first poll, then only changes (none here:
# everything has ended but globex's run, which no agent will take)
spctl --json run list --watch --watch-count 2 --interval 1 >"$T/watch" ||
	fail "run list --watch failed"
[ "$(wc -l <"$T/watch")" = 6 ] || fail "--watch printed: $(cat "$T/watch")"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/watch" ||
	fail "--watch --json lines are not JSON objects"
# a change shows up: the queued globex run, cancelled between two polls
spctl --json run list --tenant globex --watch --watch-count 1 >"$T/w1"
spctl run cancel "$g" >/dev/null
spctl --json run list --tenant globex --watch --watch-count 1 >"$T/w2"
[ "$(json state <"$T/w2")" = cancelled ] || fail "--watch after a cancel: $(cat "$T/w2")"

# usage --by job and --by user, the same after a restart
by_job=$(spctl --json usage acme --by job)
[ "$(echo "$by_job" | json items.0.job)" = acme/prod/bad ] || fail "usage --by job: $by_job"
[ "$(echo "$by_job" | json items.0.failed)" = 2 ] || fail "usage --by job, failed: $by_job"
[ "$(echo "$by_job" | json items.1.runs)" = 3 ] || fail "usage --by job, runs: $by_job"
by_user=$(spctl --json usage --by user)
[ "$(echo "$by_user" | json items.0.user)" = "$me" ] || fail "usage --by user: $by_user"
[ "$(echo "$by_user" | json total.runs)" = 6 ] || fail "usage --by user, runs: $by_user"
spctl usage acme --by job --format csv | sed -n 1p | grep -q '^tenant,job,runs,' ||
	fail "usage --by job --format csv"
stop_scheduler
start_scheduler --config "$T/scheduler.conf"
[ "$(spctl --json usage acme --by job)" = "$by_job" ] || fail "usage --by job after a restart"
[ "$(spctl --json usage --by user)" = "$by_user" ] || fail "usage --by user after a restart"

# bad input: exit 1, one line naming the problem
refused() { # WANT ARGS...: spctl ARGS must fail with one line holding WANT
	local want=$1
	shift
	if spctl "$@" >"$T/out" 2>"$T/err"; then fail "accepted: $*"; fi
	[ "$(wc -l <"$T/err")" = 1 ] && grep -q -e "$want" "$T/err" ||
		fail "$*: $(cat "$T/err")"
}
refused "unknown state 'bogus'" run list --state bogus
refused "unknown state 'nope'" run list --state failed,nope
refused "--since: 'last-week' is not a date" run list --since last-week
refused "no user 'no-such-user-sp'" run list --created-by user:no-such-user-sp
refused "no tenant 'initech'" run list --tenant initech
refused "--by: 'week' must be" usage --by week
refused "--watch-count goes with --watch\|go with --watch" run list --watch-count 2
echo "run list: ok"

#!/bin/bash
# Retention of ended runs through the real daemon: runs of acme (retention
# 1 day) and of beta (30 days) end; `tenant show` tells what goes next and
# when; the scheduler is restarted with its wall clock two days on
# (libfaketime, as SP_FAKE_DATE does in lib.sh) and a pass every second:
# acme's runs are gone (record, logs), beta's stays, the usage roll-ups
# still count acme's runs, and a new run never takes a removed run's id.
. "$(dirname "$0")/lib.sh"

# the daemons' clock ahead of ours (SP_FAKE_DATE, tests/integration/dates.sh)
off=0
[ -z "${SP_FAKE_DATE:-}" ] || off=$((fake_s - $(date -u +%s)))
printf 'retention_interval_s = 1\n' >"$T/scheduler.conf"
start_with_agent
spctl tenant set acme --retention-days 1 >/dev/null
spctl tenant add beta --retention-days 30 >/dev/null
spctl env add beta/prod >/dev/null
spctl job add acme/prod/pi -- --conf spark.fake.duration=0.2 local:///pi.jar >/dev/null
spctl job add beta/prod/etl -- local:///etl.jar >/dev/null

a1=$(spctl run start acme/prod/pi)
a2=$(spctl run start acme/prod/pi --idempotency-key nightly-1)
wait_run_state "$a1" succeeded 60
wait_run_state "$a2" succeeded 60
b1=$(spctl run start beta/prod/etl) # beta has no agent: cancelled queued
spctl run cancel "$b1" >/dev/null
wait_run_state "$b1" cancelled 10
has_logs() {
	[ -n "$(spctl run logs "$1")" ]
}
wait_until 20 has_logs "$a1" || fail "no logs of run $a1"
usage_runs() {
	spctl --json usage acme | json items.0.runs
}
[ "$(usage_runs)" = 2 ] || fail "usage does not count acme's 2 runs"

# What goes next: acme's two runs, a day after they ended.
ret=$(spctl --json tenant show acme)
[ "$(echo "$ret" | json tenant.retention.days)" = 1 ] || fail "retention days: $ret"
[ "$(echo "$ret" | json tenant.retention.ended_runs_kept)" = 2 ] ||
	fail "acme's kept runs: $ret"
[ "$(echo "$ret" | json tenant.retention.runs_to_remove)" = 0 ] ||
	fail "acme's runs to remove: $ret"
expiry=$(echo "$ret" | json tenant.retention.next_expiry)
exp_s=$(date -u -d "$expiry" +%s) || fail "next_expiry '$expiry' is not a time"
now_s=$(($(date -u +%s) + off))
[ $((exp_s - now_s)) -gt 86000 ] && [ $((exp_s - now_s)) -le 86400 ] ||
	fail "next expiry $expiry is not a day after the runs ended"
spctl tenant show acme | grep -q 'runs_to_remove' || fail "no retention in tenant show"
[ "$(spctl --json tenant show beta | json tenant.retention.days)" = 30 ] ||
	fail "beta's retention"

# Two days on: the first pass, a second after the start, removes acme's
# runs and keeps beta's.
kill -TERM "${PIDS[@]}" 2>/dev/null || true
stop_scheduler
clock_ahead $((2 * 86400))
M=http://127.0.0.1:$(free_port)
start_scheduler --config "$T/scheduler.conf" --metrics-listen "$M"
gone() {
	! spctl run show "$1" >/dev/null 2>&1
}
wait_until 20 gone "$a2" || fail "run $a2 not removed after its retention"
gone "$a1" || fail "run $a1 not removed after its retention"
out=$(spctl run show "$a1" 2>&1) || true
[ "$out" = "spctl: error: no run $a1" ] || fail "run show of a removed run: $out"
! spctl run logs "$a1" >/dev/null 2>&1 || fail "logs of a removed run still read"
[ "$(run_state "$b1")" = cancelled ] || fail "beta's run within its retention was removed"
grep -q 'retention: removed 2 ended runs' "$T/scheduler.log" || fail "no log line of the removal"
ret=$(spctl --json tenant show acme)
[ "$(echo "$ret" | json tenant.retention.ended_runs_kept)" = 0 ] ||
	fail "acme still keeps runs: $ret"
[ "$(echo "$ret" | json tenant.retention.next_expiry)" = none ] ||
	fail "acme's next expiry: $ret"
[ "$(spctl --json tenant show beta | json tenant.retention.ended_runs_kept)" = 1 ] ||
	fail "beta's kept runs"
fetch "$M/metrics" | grep -qx 'sparkpilot_retention_removed_runs_total 2' ||
	fail "metrics: $(fetch "$M/metrics" | grep retention)"
fetch "$M/metrics" | grep -q '^sparkpilot_retention_last_pass_timestamp_seconds [1-9]' ||
	fail "no last pass in the metrics"
# the roll-ups are aggregates: they stay
[ "$(usage_runs)" = 2 ] || fail "usage lost acme's runs with their records"

# A restart: ids are not given again, the idempotency key is free.
stop_scheduler
start_scheduler --config "$T/scheduler.conf"
gone "$a2" || fail "removed run $a2 back after a restart"
n=$(spctl run start acme/prod/pi --idempotency-key nightly-1)
[ "$n" -gt "$b1" ] || fail "new run took id $n, not after $b1"
echo "retention: ok"

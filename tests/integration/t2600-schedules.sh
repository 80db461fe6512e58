#!/bin/bash
# Recurring schedules through spctl and the real daemon: add, list, show,
# pause, resume and delete; each bad input refused on one line naming the
# problem, with nothing written; and real firing under a fake wall clock
# (libfaketime, a fixed offset; each restart moves the daemon's clock on
# to a few seconds before its next minute, so no test waits a whole
# minute): a firing every minute, a restart that fires no time twice,
# and an outage of an hour (the clock moved on while the scheduler was
# down) caught up by the default policy, catch-up last: one run for the
# latest time missed, the others counted missed.
. "$(dirname "$0")/lib.sh"

faketime_lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
[ -n "$faketime_lib" ] || fail "t2600 needs libfaketime (scripts/install-deps.sh)"
# the daemon's clock: 2026-03-01 01:58:52 UTC now, running
fake_s=$(date -u -d "2026-03-01 01:58:52" +%s)
off=$((fake_s - $(date -u +%s)))
use_offset() {
	DAEMON_ENV=(env LD_PRELOAD="$faketime_lib" FAKETIME_DONT_FAKE_MONOTONIC=1
		FAKETIME_FORCE_MONOTONIC_FIX=0 FAKETIME="$(printf '%+d' "$1")")
}
use_offset "$off"
# restart_before_minute: restarts the scheduler with its clock
# moved forward to 5 s before its next minute (a short outage that skips
# no minute), so the next firing comes within seconds
restart_before_minute() {
	local now fake target
	stop_scheduler
	now=$(date -u +%s)
	fake=$((now + off))
	target=$(((fake / 60 + 1) * 60 - 5))
	[ "$target" -gt "$fake" ] && off=$((target - now))
	use_offset "$off"
	start_scheduler
}
start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl job add acme/prod/ingest -- local:///ingest.jar >/dev/null
spctl job add acme/prod/transform -- local:///transform.jar >/dev/null
spctl job add acme/prod/report -- local:///report.jar >/dev/null

# ---- bad input: one line naming the problem, nothing written ----
refused() { # WANT ARGS...: schedule add ARGS must fail saying WANT
	local want=$1 out
	shift
	if out=$(spctl schedule add "$@" 2>&1); then
		fail "schedule add $* was taken"
	fi
	[ "$(echo "$out" | wc -l)" = 1 ] || fail "schedule add $*: more than one line: $out"
	grep -qF -- "$want" <<<"$out" || fail "schedule add $*: '$out' does not say '$want'"
}
refused "hour field '25'" acme/prod/ingest --cron '0 25 * * *'
refused "--cron '0 2 * *'" acme/prod/ingest --cron '0 2 * *'
refused "timezone 'Mars/Olympus'" acme/prod/ingest --cron '0 2 * * *' --timezone Mars/Olympus
refused "no job 'acme/prod/nope'" acme/prod/nope --cron '0 2 * * *'
refused "concurrency 'sometimes'" acme/prod/ingest --cron '0 2 * * *' --concurrency sometimes
refused "catch-up 'most'" acme/prod/ingest --cron '0 2 * * *' --catch-up most
refused "starting-deadline" acme/prod/ingest --cron '0 2 * * *' --starting-deadline 5x
refused "no job 'nope' in environment 'acme/prod'" acme/prod/ingest --cron '0 2 * * *' --then transform,nope
refused "names job 'report' twice" acme/prod/ingest --cron '0 2 * * *' --then report,report
refused "cron" acme/prod/ingest
refused "secret" acme/prod/ingest --cron '0 2 * * *' -- \
	--conf spark.hadoop.fs.s3a.secret.key=AKIAIOSFODNN7EXAMPLEKEY
refused "{{region}}" acme/prod/ingest --cron '0 2 * * *' -- --conf x={{region}}
[ "$(spctl --json schedule list | json items)" = "[]" ] || fail "a refused schedule add wrote something"

# ---- add, list, show, pause, resume, delete (the cron expression is one
# word with blanks: spctl quotes it, the scheduler splits it back) ----
nightly=$(spctl schedule add acme/prod/ingest --cron '0 2 * * *' --then transform,report \
	--starting-deadline 2h -- --conf 'spark.app.day={{scheduled_date}}')
[ "$nightly" = 1 ] || fail "schedule add printed '$nightly'"
refused "already starts" acme/prod/ingest --cron '0 2 * * *'
show=$(spctl --json schedule show "$nightly")
[ "$(echo "$show" | json schedule.cron)" = "0 2 * * *" ] || fail "cron: $show"
[ "$(echo "$show" | json schedule.timezone)" = UTC ] || fail "timezone: $show"
[ "$(echo "$show" | json schedule.concurrency)" = allow ] || fail "concurrency: $show"
[ "$(echo "$show" | json schedule.catch_up)" = last ] || fail "catch_up: $show"
[ "$(echo "$show" | json schedule.starting_deadline)" = 2h ] || fail "deadline: $show"
[ "$(echo "$show" | json schedule.then)" = transform,report ] || fail "then: $show"
[ "$(echo "$show" | json schedule.next)" = 2026-03-01T02:00:00Z ] ||
	[ "$(echo "$show" | json schedule.next)" = 2026-03-01T02:00:00.000Z ] || fail "next: $show"
[ "$(echo "$show" | json schedule.next_local)" = 2026-03-01T02:00:00+00:00 ] || fail "next_local: $show"
[ "$(echo "$show" | json schedule.created_by)" != "" ] || fail "created_by: $show"
spctl schedule list | grep -q 'ingest' || fail "schedule list: $(spctl schedule list)"
# a real zone: wall-clock times in Berlin, and the night the clocks go
# forward a skipped 02:30 fires once at 03:00 local (01:00 UTC)
berlin=$(spctl schedule add acme/prod/transform --cron '0 2 * * *' --timezone Europe/Berlin)
show=$(spctl --json schedule show "$berlin")
[ "$(echo "$show" | json schedule.next_local)" = 2026-03-02T02:00:00+01:00 ] || fail "Berlin next_local: $show"
dst=$(spctl schedule add acme/prod/transform --cron '30 2 29 3 *' --timezone Europe/Berlin)
show=$(spctl --json schedule show "$dst")
echo "$show" | json schedule.next | grep -q '^2026-03-29T01:00:00' || fail "a skipped time: $show"
[ "$(echo "$show" | json schedule.next_local)" = 2026-03-29T03:00:00+02:00 ] || fail "skipped next_local: $show"
spctl schedule delete "$berlin" >/dev/null
spctl schedule delete "$dst" >/dev/null
spctl schedule pause "$nightly" | grep -q "schedule $nightly paused" || fail "pause"
[ "$(spctl --json schedule show "$nightly" | json schedule.paused)" = True ] || fail "not paused"
spctl schedule resume "$nightly" >/dev/null
[ "$(spctl --json schedule show "$nightly" | json schedule.paused)" = False ] || fail "not resumed"
out=$(spctl schedule show 99 2>&1) && fail "show of no schedule"
[ "$out" = "spctl: error: no schedule '99'" ] || fail "show of no schedule: $out"

# ---- firing: every minute; the daemon's clock is a few seconds before one
restart_before_minute
every=$(spctl schedule add acme/prod/report --cron '* * * * *' --concurrency allow)
# the same minutes with the other policies: no agent serves acme/prod, so
# each firing's run stays queued and the next firing finds it live
forbid=$(spctl schedule add acme/prod/ingest --cron '* * * * *' --concurrency forbid)
replace=$(spctl schedule add acme/prod/transform --cron '* * * * *' --concurrency replace)
fired() { # ID N: the schedule fired at least N times
	[ "$(spctl --json schedule show "$1" | json schedule.fired)" -ge "$2" ]
}
wait_until 70 fired "$every" 1 || fail "schedule $every never fired: $(spctl schedule show "$every")"
show=$(spctl --json schedule show "$every")
r1=$(echo "$show" | json schedule.last_run)
run=$(spctl --json run show "$r1")
[ "$(echo "$run" | json run.job)" = acme/prod/report ] || fail "the fired run: $run"
key=$(echo "$run" | json run.idempotency_key)
case $key in "schedule:$every:"*) ;; *) fail "the fired run's key: $key" ;; esac
# the first minute after the add
echo "$show" | python3 -c '
import json, sys
from datetime import datetime, timedelta
s = json.load(sys.stdin)["schedule"]
t = lambda v: datetime.fromisoformat(v.replace("Z", "+00:00"))
c = t(s["created"])
assert t(s["last_fired"]) == c.replace(second=0, microsecond=0) + timedelta(minutes=1)' ||
	fail "last_fired: $show"

# restart: the time already fired is not fired again; the next one is
restart_before_minute
wait_until 80 fired "$every" 2 || fail "no firing after the restart: $(spctl schedule show "$every")"
skipped_once() { [ "$(spctl --json schedule show "$forbid" | json schedule.skipped)" -ge 1 ]; }
wait_until 20 skipped_once || fail "forbid did not skip: $(spctl schedule show "$forbid")"
[ "$(spctl --json schedule show "$forbid" | json schedule.fired)" = 1 ] ||
	fail "forbid started a second run: $(spctl schedule show "$forbid")"
wait_until 20 fired "$replace" 2 || fail "replace did not fire again: $(spctl schedule show "$replace")"
first=$(spctl --json run list --schedule "$replace" --oldest-first --limit 1 | json items.0.id)
[ "$(run_state "$first")" = cancelled ] || fail "replace left run $first $(run_state "$first")"
spctl schedule delete "$forbid" >/dev/null
spctl schedule delete "$replace" >/dev/null
keys() { # the idempotency keys of schedule $every's runs, one a line
	local ids
	ids=$(spctl --json run list --limit 1000 | python3 -c '
import json, sys
for r in json.load(sys.stdin)["items"]:
    print(r["id"] if "id" in r else r["run"])')
	for id in $ids; do
		spctl --json run show "$id" | json run.idempotency_key
	done | grep "^schedule:$every:" || true
}
[ "$(keys | sort | uniq -d)" = "" ] || fail "a time fired twice: $(keys)"
[ "$(keys | wc -l)" = "$(spctl --json schedule show "$every" | json schedule.fired)" ] ||
	fail "runs and firings differ: $(keys)"
# the nightly schedule fired at 02:00 with its chain: three runs, in order
wait_until 20 fired "$nightly" 1 || fail "the nightly schedule did not fire at 02:00"
runs=$(spctl --json schedule show "$nightly" | json schedule.last_runs)
[ "$(echo "$runs" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
	fail "the chain's runs: $runs"
r2=$(echo "$runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)[1])')
[ "$(spctl --json run show "$r2" | json run.job)" = acme/prod/transform ] || fail "run $r2 is not transform's"
[ "$(run_state "$r2")" = waiting ] || fail "transform's run: $(run_state "$r2")"
spctl --json run show "$r2" | json run.waiting | grep -qF "waiting for run $(echo "$runs" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0])') (queued) to succeed" ||
	fail "transform's run does not say it waits for ingest's"
[ "$(spctl --json run show "$r2" | json run.schedule)" = "$nightly" ] || fail "run show's schedule"
spctl --json run show "$r2" | json run.scheduled_local | grep -q '^2026-03-01T02:00:00Z$' ||
	fail "run show's scheduled time: $(spctl --json run show "$r2")"
[ "$(spctl --json run show "$r2" | json run.created_by)" = "schedule:$nightly" ] || fail "created_by"

# ---- an outage: an hour passes while the scheduler is down ----
spctl schedule delete "$nightly" | grep -q "schedule $nightly deleted" || fail "delete"
spctl run show "$r2" >/dev/null || fail "deleting the schedule removed its runs"
before=$(spctl --json schedule show "$every")
stop_scheduler
use_offset $((off + 3600))
M=http://127.0.0.1:$(free_port)
start_scheduler --metrics-listen "$M"
wait_until 20 fired "$every" $(($(echo "$before" | json schedule.fired) + 1)) ||
	fail "nothing caught up after the outage"
after=$(spctl --json schedule show "$every")
missed=$(($(echo "$after" | json schedule.missed) - $(echo "$before" | json schedule.missed)))
[ "$missed" -ge 55 ] && [ "$missed" -le 61 ] || fail "missed in an hour's outage: $missed ($after)"
[ "$(keys | sort | uniq -d)" = "" ] || fail "a time fired twice after the outage"
metrics_say() { # /metrics has the missed times and one schedule
	local m
	m=$(fetch "$M/metrics") || return 1
	grep -Eq '^sparkpilot_schedule_firings_total\{outcome="missed"\} (5[5-9]|6[01])$' <<<"$m" &&
		grep -q '^sparkpilot_schedules 1$' <<<"$m"
}
wait_until 20 metrics_say || fail "/metrics: $(fetch "$M/metrics" | grep schedule)"

# the changes are in the tenant's audit trail, the delete too
audit=$(spctl audit list --tenant acme --limit 1000)
for what in "schedule add" "schedule pause" "schedule resume" "schedule delete"; do
	grep -q "$what" <<<"$audit" || fail "no audit record of $what: $audit"
done

# ---- tenant delete takes its schedules ----
receipt=$(spctl --json tenant delete acme --confirm --force)
[ "$(echo "$receipt" | json removed.schedules)" = 1 ] || fail "tenant delete's receipt: $receipt"
[ "$(spctl --json schedule list | json items)" = "[]" ] || fail "schedules outlived their tenant"
stop_scheduler
start_scheduler
[ "$(spctl --json schedule list | json items)" = "[]" ] || fail "schedules came back after a restart"
echo "ok"

#!/bin/bash
# Ended runs kept only in the store, through the real daemon: with
# ended_runs_in_memory_s = 0 and a retention pass every second, ended runs
# leave memory (queue stats counts them); run show, run logs, run list
# (filters, pages), --after, run retry, the POC report and tenant delete
# read them back from the store; a keyed run stays while its key answers;
# a start a day later (libfaketime) leaves them in the store at load, and
# tenant show's retention figures count them once a pass has.
. "$(dirname "$0")/lib.sh"

printf 'retention_interval_s = 1\nended_runs_in_memory_s = 0\nrun_list_scan_max = 80\nguard_window_s = 60\n' \
	>"$T/scheduler.conf"
start_scheduler --config "$T/scheduler.conf"
ok_bad_jobs

ok=() bad=()
for _ in 1 2 3; do ok+=("$(spctl run start acme/prod/ok)"); done
for _ in 1 2; do bad+=("$(spctl run start acme/prod/bad)"); done
keyed=$(spctl run start acme/prod/ok --idempotency-key nightly-1)
g=$(spctl run start globex/dev/j) # no agent there: cancelled queued
spctl run cancel "$g" >/dev/null
for r in "${ok[@]}" "$keyed"; do wait_run_state "$r" succeeded; done
for r in "${bad[@]}"; do wait_run_state "$r" failed; done
wait_run_state "$g" cancelled

qs() { spctl --json queue stats | json "ended_runs.$1"; }
stored_is() { [ "$(qs in_store_only)" = "$1" ]; }
# all ended runs but the keyed one (its key answers for a day)
wait_until 30 stored_is 6 || fail "ended runs in the store only: $(qs in_store_only), not 6"
[ "$(spctl run start acme/prod/ok --idempotency-key nightly-1)" = "$keyed" ] ||
	fail "the keyed run no longer answers for its key"

# point lookups read the run back
[ "$(run_state "${ok[0]}")" = succeeded ] || fail "run show of a stored run"
spctl run logs "${ok[0]}" | grep -q . || fail "no logs of a stored run"
[ "$(qs read_back)" -ge 1 ] || fail "no run read back: $(spctl --json queue stats)"
[ "$(run_state "${bad[0]}")" = failed ] || fail "run show of a stored failed run"
wait_until 30 stored_is 6 || fail "read-back runs did not leave memory again"

# run list: every filter sees stored runs; a store read costs 64 of the
# 80 ids a request examines, so spctl asks for many pages
ids() { python3 -c 'import json,sys; print(" ".join(str(r["id"]) for r in json.load(sys.stdin)["items"]))'; }
out=$(spctl --json run list --state failed --limit 100)
[ "$(echo "$out" | ids)" = "${bad[1]} ${bad[0]}" ] || fail "--state failed: $out"
[ "$(echo "$out" | json pages)" -ge 4 ] || fail "stored runs in too few pages: $out"
class=$(echo "$out" | json items.0.class)
[ -n "$class" ] && [ "$class" != None ] || fail "a stored failed run without a class: $out"
[ "$(spctl --json run list --class "$class" | ids)" = "${bad[1]} ${bad[0]}" ] ||
	fail "--class of stored runs"
[ "$(spctl --json run list --job acme/prod/ok --oldest-first | ids)" = "${ok[*]} $keyed" ] ||
	fail "--job acme/prod/ok --oldest-first"
[ "$(spctl --json run list --tenant globex | ids)" = "$g" ] || fail "--tenant globex"
[ "$(spctl --json run list | ids | wc -w)" = 7 ] || fail "run list: not 7 runs"
# the POC report counts them
rep=$(spctl --json report env acme/prod --days 1)
[ "$(echo "$rep" | python3 -c 'import json,sys; print([c for c in json.load(sys.stdin)["criteria"] if c["name"] == "runs_and_days"][0]["value"])')" = 6 ] ||
	fail "the POC report does not count stored runs: $rep"

# --after a stored failed run: it is read back, and the new run skipped
wait_until 30 stored_is 6 || fail "runs did not leave memory again"
dep=$(spctl run start acme/prod/ok --after "${bad[0]}")
wait_run_state "$dep" skipped
# run retry of a stored run
wait_until 30 stored_is 7 || fail "the skipped run did not leave memory"
re=$(spctl run retry "${bad[1]}") || fail "run retry of a stored run"
wait_run_state "$re" failed

# tenant delete removes globex's stored run
[ "$(spctl --json tenant delete globex --confirm | json removed.runs)" = 1 ] ||
	fail "tenant delete did not count globex's stored run"
! spctl run show "$g" >/dev/null 2>&1 || fail "globex's run survived its tenant"

# a day later, the start leaves ended runs in the store
kill -TERM "${PIDS[@]}" 2>/dev/null || true
stop_scheduler
clock_ahead 86400
start_scheduler --config "$T/scheduler.conf"
n=$(grep -o '[0-9]* ended runs left in the store' "$T/scheduler.log" | tail -1 | cut -d' ' -f1)
[ "${n:-0}" = 8 ] || fail "the start left ${n:-no} ended runs in the store, not 8"
[ "$(run_state "${bad[0]}")" = failed ] || fail "a run left in the store at start"
# tenant show's retention figures: pending until a pass has counted the
# runs in the store (it starts at once), then every one of them
counted() {
	spctl --json tenant show acme >"$T/ts.json"
	python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["tenant"]["retention"]; sys.exit("pending" in r)' "$T/ts.json"
}
wait_until 30 counted || fail "retention figures still pending: $(cat "$T/ts.json")"
[ "$(json tenant.retention.ended_runs_kept <"$T/ts.json")" = 8 ] ||
	fail "acme's kept runs: $(cat "$T/ts.json")"
[ "$(spctl --json run list --tenant acme | ids | wc -w)" = 8 ] || fail "acme's 8 runs after the start"
[ "$(spctl run start acme/prod/ok --idempotency-key nightly-1)" != "$keyed" ] ||
	fail "a key past its TTL still answers"
echo "stored runs: ok"

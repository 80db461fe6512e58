#!/bin/bash
# Cost control through the real daemons (issue 5): price cards with a spot
# discount and `env set`, estimates reserved at admission, a hard budget
# refusing the start that does not fit (quoting budget, spent and
# committed), a run cancelled for passing its run budget (reason
# budget_exceeded), metered usage per environment and day whose totals
# reconcile exactly with the runs, tenant show's budget figures and events,
# all of it kept across a restart; and the bad input the cost commands get.
. "$(dirname "$0")/lib.sh"

start_scheduler

# ---- bad input ----
bad() { # ARGS... EXPECTED: a one-line error naming the problem, exit != 0
	local want=${*: -1} out
	if out=$(spctl "${@:1:$#-1}" 2>&1); then fail "accepted: spctl ${*:1:$#-1}"; fi
	[ "$(echo "$out" | wc -l)" = 1 ] || fail "not one line: $out"
	grep -q -- "$want" <<<"$out" || fail "spctl ${*:1:$#-1}: '$out' lacks '$want'"
}
spctl tenant add acme --monthly-budget 5 --budget-mode hard >/dev/null
bad tenant add x --monthly-budget -5 "must not be negative"
bad tenant add x --budget-mode strict "must be soft or hard"
bad tenant add x --cancel-running maybe "must be on or off"
bad tenant set acme budget-mode=lenient "must be soft or hard"
bad tenant set acme --monthly-budget 1.0000001 "more than 6 decimals"
bad env add acme/x --price-gb-hour -0.01 "must not be negative"
bad env add acme/x --spot-discount 101 "over 100"
bad env add acme/x --spot-discount 12.345 "more than 2 decimals"
bad env add acme/x --price-vcpu-hour 10001 "too large"
bad env set acme/none --price-vcpu-hour 1 "no environment"
bad usage --to 2026-02-30 "not a date"
bad usage --from 2026-11-05 --to 2026-11-01 "must not be after"
bad usage acme --from yesterday "not a date"
bad job add acme/x/j --run-budget -1 -- x.jar "must not be negative"

# ---- price cards ----
spctl env add acme/prod --price-vcpu-hour 1 --spot-discount 50 >/dev/null
spctl env set acme/prod --price-vcpu-hour 36 price-gb-hour=0 | grep -q "price-vcpu-hour 1.00 -> 36.00" ||
	fail "env set does not say what changed"
show=$(spctl --json env show acme/prod)
[ "$(echo "$show" | json environment.price_vcpu_hour)" = 36.00 ] || fail "price not set: $show"
[ "$(echo "$show" | json environment.spot_discount)" = 50.00% ] || fail "spot discount: $show"
start_agent a1 acme/prod --slots 4
wait_env_ready acme/prod
# driver 1 core on demand ($36/h) + 2 executors x 1 core at half price
# ($36/h together): $72/h = $0.02/s; timeout 100 s: estimated $2.00
spctl job add acme/prod/etl --executors 2 --executor-cores 1 --timeout 100 -- \
	--master yarn --deploy-mode cluster --conf spark.fake.duration=1 app.jar >/dev/null

# ---- hard budget: $5 takes two $2 estimates, not a third ----
r1=$(spctl run start acme/prod/etl)
r2=$(spctl run start acme/prod/etl)
[ "$(spctl --json run show "$r1" | json run.usage.estimated_max_cost)" = 2.00 ] ||
	fail "estimate: $(spctl --json run show "$r1")"
if spctl run start acme/prod/etl 2>"$T/err"; then fail "start past the hard budget"; fi
grep -q "spctl: error: tenant 'acme' hard budget: the run's estimated cost 2.00 USD does not fit in budget 5.00 - spent .* - committed .* = .* USD left this month" "$T/err" ||
	fail "refusal: $(cat "$T/err")"
wait_run_state "$r1" succeeded 60
wait_run_state "$r2" succeeded 60
# two runs of about 1 s: about $0.02 each, so there is room again
r3=$(spctl run start acme/prod/etl) || fail "no room after the runs ended"
wait_run_state "$r3" succeeded 60

# ---- run budget: cancelled once its cost passes $0.06 (3 s at $72/h) ----
spctl job add acme/prod/long --executors 2 --timeout 100 --run-budget 0.06 -- \
	--master yarn --deploy-mode cluster --conf spark.fake.duration=60 app.jar >/dev/null
long=$(spctl run start acme/prod/long)
wait_run_state "$long" cancelled 40
reason=$(spctl --json run show "$long" | json run.reason)
grep -q "^budget_exceeded: its cost .* passed the run budget of 0.06 USD" <<<"$reason" ||
	fail "run budget reason: $reason"
cost=$(spctl --json run show "$long" | json run.usage.cost_micro_usd)
[ "$cost" -gt 60000 ] && [ "$cost" -lt 400000 ] || fail "cancelled run cost $cost micro-USD"

# ---- tenant show: the month's figures and what was decided ----
spctl --json tenant show acme >"$T/tenant.json"
for id in "$r1" "$r2" "$r3" "$long"; do spctl --json run show "$id"; done >"$T/ended.json"
python3 - "$T/tenant.json" "$T/ended.json" <<'PY' || fail "tenant show: $(cat "$T/tenant.json")"
import json, sys
t = json.load(open(sys.argv[1]))["tenant"]
b, g = t["budget"], t["guard"]
assert b["monthly"] == "5.00" and b["mode"] == "hard", b
# spent this month: what the runs that ended in it cost, on any day (the
# month may have turned during the test)
runs = [json.loads(l)["run"] for l in open(sys.argv[2])]
want = sum(r["usage"]["cost_micro_usd"] for r in runs
           if r["timestamps"][r["state"]] >= b["month_start"])
assert round(float(b["spent"]) * 1e6) == want, (b, want)
assert b["committed"] == "0.00", b
assert b["refused_starts"] == 1 and b["cancelled_runs"] == 1, b
assert g["breaker"] in ("closed", "open", "half_open"), g
kinds = [e["kind"] for e in t["recent_events"]]
assert "budget_set" in kinds and "run_budget_cancel" in kinds, kinds
PY
spctl tenant set acme monthly-budget=7.5 cancel-running=on >/dev/null
spctl --json tenant show acme | grep -q "monthly-budget 5.00 -> 7.50, cancel-running -> on" ||
	fail "budget change not recorded with its figures"

# ---- usage: per environment and day; totals reconcile with the runs ----
spctl tenant add beta >/dev/null
spctl env add beta/dev --price-vcpu-hour 3 >/dev/null
check_usage() { # the report's totals are the sum of the runs' own costs
	spctl --json usage acme --format json >"$T/usage.json"
	spctl --json run list --tenant acme >"$T/runs.json"
	for id in $(python3 -c 'import json,sys; print(" ".join(str(r["id"]) for r in json.load(open(sys.argv[1]))["items"]))' "$T/runs.json"); do
		spctl --json run show "$id"
	done >"$T/shows.json"
	python3 - "$T/usage.json" "$T/shows.json" <<'PY'
import json, sys
u = json.loads(json.load(open(sys.argv[1]))["print"])
runs = [json.loads(l)["run"] for l in open(sys.argv[2])]
want = sum(r["usage"]["cost_micro_usd"] for r in runs)
ended = [r for r in runs if r["state"] in ("succeeded", "failed", "cancelled", "timed_out")]
tot = u["total"]
assert tot["cost_micro_usd"] == want, (tot, want)
assert tot["runs"] == len(ended), (tot, len(ended))
assert tot["succeeded"] == sum(r["state"] == "succeeded" for r in runs), tot
assert sum(d["cost_micro_usd"] for d in u["days"]) == want
assert sum(e["cost_micro_usd"] for e in u["items"]) == want
assert {d["env"] for d in u["days"]} == {"acme/prod"}, u["days"]
assert all(len(d["day"]) == 10 for d in u["days"]), u["days"]
assert tot["cost_per_success"] != "-", tot
print(want)
PY
}
before=$(check_usage) || fail "usage does not reconcile: $(cat "$T/usage.json")"
spctl usage acme --format csv >"$T/usage.csv"
head -1 "$T/usage.csv" | grep -qx "tenant,env,day,runs,succeeded,failed,vcpu_ms,gb_ms,cost_usd,cost_per_success_usd" ||
	fail "csv header: $(head -1 "$T/usage.csv")"
# one row per day the runs ended on (two if a day ended during the test)
python3 - "$T/usage.csv" <<'PY' || fail "csv day rows: $(cat "$T/usage.csv")"
import csv, re, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["day"] != "ALL"]
assert rows and all(r["env"] == "acme/prod" for r in rows), rows
assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["day"]) for r in rows), rows
assert [sum(int(r[k]) for r in rows) for k in ("runs", "succeeded", "failed")] == [4, 3, 0], rows
PY
grep -q "^acme,ALL,ALL,4,3,0," "$T/usage.csv" || fail "csv total row: $(cat "$T/usage.csv")"
spctl usage beta --format csv | grep -q "^acme" && fail "tenant beta's usage shows acme"
spctl usage acme --from 2000-01-01 --to 2000-01-02 --format csv | grep -q "^acme,ALL,ALL,0,0,0,0,0,0.00," ||
	fail "an empty range is not zero"
spctl usage acme | grep -q "^days:" || fail "usage table lacks its days"

# ---- executors billed by what Spark's monitoring REST reports ----
# The job declares 50 executors x 4 cores; the application (the fake
# spark-submit) really had 2 executors of 1 core, one lost halfway, and
# publishes them to a fake history server the agent asks at the end.
mkdir -p "$T/rest"
"$ROOT/tests/fakes/spark-rest" --dir "$T/rest" --port 0 >"$T/rest.out" 2>&1 &
PIDS+=($!)
wait_until 10 grep -q "listening on" "$T/rest.out" || fail "fake spark-rest did not start"
rest_port=$(sed -n 's/listening on //p' "$T/rest.out")
spctl tenant add gamma >/dev/null
spctl env add gamma/dev --price-vcpu-hour 3600 >/dev/null # $1 per core-second
start_agent a2 gamma/dev --spark-rest-url "http://127.0.0.1:$rest_port/"
wait_env_ready gamma/dev
spctl job add gamma/dev/wide --executors 50 --executor-cores 4 --timeout 100 -- \
	--master yarn --deploy-mode cluster --conf spark.fake.duration=2 \
	--conf "spark.fake.rest_dir=$T/rest" --conf spark.fake.executors=2 \
	--conf spark.fake.lost_executors=1 app.jar >/dev/null
wide=$(spctl run start gamma/dev/wide)
wait_run_state "$wide" succeeded 60
ls "$T/rest"/*.json >/dev/null || fail "the fake published no executors"
cost=$(spctl --json run show "$wide" | json run.usage.cost_micro_usd)
# the driver's ~2-3 s plus about 1.5 executor-seconds: a few dollars; the
# declared 200 executor cores would have cost hundreds
[ "$cost" -gt 1000000 ] && [ "$cost" -lt 15000000 ] ||
	fail "measured cost $cost micro-USD: not billed by the executor report"
grep -q "no executor report" "$T/agent-a2.log" && fail "the agent found no executor report"

# ---- everything survives a restart ----
stop_scheduler
start_scheduler
after=$(check_usage) || fail "usage after restart: $(cat "$T/usage.json")"
[ "$after" = "$before" ] || fail "usage changed across a restart: $before -> $after"
spctl --json tenant show acme | grep -q '"kind":"run_budget_cancel"' || fail "cost events lost across a restart"
# the whole record, from the store
spctl --json tenant events acme >"$T/events.json"
python3 - "$T/events.json" <<'PY' || fail "tenant events: $(cat "$T/events.json")"
import json, sys
e = json.load(open(sys.argv[1]))
kinds = [i["kind"] for i in e["items"]]
assert e["total"] == len(kinds) >= 3, e
assert kinds[0] == "budget_set" and "created with a 5.00 USD hard budget" in e["items"][0]["what"], kinds
assert "run_budget_cancel" in kinds, kinds
assert any("monthly-budget 5.00 -> 7.50" in i["what"] for i in e["items"]), e
times = [i["time"] for i in e["items"]]
assert times == sorted(times), times
PY
# --limit 1 shows the last event. The burn-rate guard may have added one
# since the budget change, depending on the day of the month and on how
# long the test took: compare with the record read after it.
spctl --json tenant events acme --limit 1 >"$T/last.json"
spctl --json tenant events acme >"$T/events.json"
python3 - "$T/last.json" "$T/events.json" <<'PY' ||
import json, sys
last, e = (json.load(open(p)) for p in sys.argv[1:3])
assert len(last["items"]) == 1 and last["total"] <= e["total"], last
# events are only ever appended: the one shown is the one at its total's
# place in the full record
assert e["items"][last["total"] - 1] == last["items"][0], (last, e)
i = max(k for k, v in enumerate(e["items"]) if "monthly-budget 5.00 -> 7.50" in v["what"])
after = [v["kind"] for v in e["items"][i + 1:]]
assert set(after) <= {"guard", "breaker", "new_month"}, after
PY
	fail "tenant events --limit 1: not the last event: $(cat "$T/last.json" "$T/events.json")"
spctl tenant events beta | grep -q "run_budget_cancel" && fail "tenant beta sees acme's events"
[ "$(spctl --json run show "$r1" | json run.usage.estimated_max_cost)" = 2.00 ] ||
	fail "estimate lost across a restart"
echo "cost: ok"

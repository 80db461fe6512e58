#!/bin/bash
# Two tenants, one agent each: every run goes to an agent of its own
# environment, and an agent's report about another tenant's run is refused
# and changes nothing.
. "$(dirname "$0")/lib.sh"

start_scheduler
spctl tenant add acme >/dev/null
spctl tenant add globex >/dev/null
spctl env add acme/prod >/dev/null
spctl env add globex/prod >/dev/null
start_agent a acme/prod --slots 3
start_agent g globex/prod --slots 3
wait_env_ready acme/prod
wait_env_ready globex/prod
for t in acme globex; do
	spctl job add $t/prod/job -- --master yarn --deploy-mode cluster \
		--conf spark.fake.duration=0.3 app.jar >/dev/null
done
runs=()
for i in 1 2 3 4; do
	runs+=("$(spctl run start acme/prod/job)" "$(spctl run start globex/prod/job)")
done
for r in "${runs[@]}"; do wait_run_state "$r" succeeded 60; done
acme_agent=$(spctl --json agent list | python3 -c '
import json,sys; print([a["id"] for a in json.load(sys.stdin)["items"] if a["env"]=="acme/prod"][0])')
for r in "${runs[@]}"; do
	show=$(spctl --json run show "$r")
	tenant=$(echo "$show" | json run.tenant)
	agent=$(echo "$show" | json run.agent)
	if [ "$tenant" = acme ]; then
		[ "$agent" = "$acme_agent" ] || fail "acme run $r ran on $agent"
	else
		[ "$agent" != "$acme_agent" ] || fail "globex run $r ran on acme's agent"
	fi
done
# run list --tenant shows only that tenant's runs
spctl --json run list --tenant globex | python3 -c '
import json,sys
items=json.load(sys.stdin)["items"]
assert len(items)==4 and all(i["job"].startswith("globex/") for i in items), items' ||
	fail "run list --tenant leaks other tenants"
# An acme agent reporting on a live globex run is refused.
spctl job add globex/prod/long -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=30 app.jar >/dev/null
victim=$(spctl run start globex/prod/long)
wait_run_state "$victim" running 30
token=$(spctl agent token acme/prod)
wirecraft "$URL" "$token" "$victim" >"$T/wirecraft.out" 2>&1 ||
	{ cat "$T/wirecraft.out"; fail "foreign completion was not refused"; }
[ "$(run_state "$victim")" = running ] || fail "foreign completion changed the run"
spctl run cancel "$victim" >/dev/null
wait_run_state "$victim" cancelled 20
echo "tenant isolation: ok"

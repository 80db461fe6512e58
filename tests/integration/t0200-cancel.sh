#!/bin/bash
# Cancel: a queued run is cancelled at once; a running one is stopped on the
# agent (SIGTERM to its process group, SIGKILL after the grace period for a
# spark-submit that ignores SIGTERM), and no process is left behind.
. "$(dirname "$0")/lib.sh"

start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl env add acme/idle >/dev/null
spctl job add acme/idle/wait -- --master yarn app.jar >/dev/null
q=$(spctl run start acme/idle/wait)
spctl --json run show "$q" | json run.waiting | grep -q 'acme/idle is pending' ||
	fail "queued run does not say why it waits"
spctl run cancel "$q" >/dev/null
[ "$(run_state "$q")" = cancelled ] || fail "queued run not cancelled at once"
spctl run cancel "$q" 2>/dev/null && fail "second cancel of a finished run succeeded"

printf 'kill_grace_ms = 1000\n' >"$T/agent.conf"
start_agent a1 acme/prod --config "$T/agent.conf"
wait_env_ready acme/prod

tag=cancel-$$-$RANDOM
spctl job add acme/prod/long -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=120 --conf spark.fake.seed=$tag app.jar >/dev/null
r=$(spctl run start acme/prod/long)
wait_run_state "$r" running 30
pgrep -f "spark.fake.seed=$tag" >/dev/null || fail "fake spark-submit not running"
spctl run cancel "$r" >/dev/null
wait_run_state "$r" cancelled 20
pgrep -f "spark.fake.seed=$tag" && fail "spark-submit still running after cancel"

tag2=stubborn-$$-$RANDOM
spctl job add acme/prod/stubborn -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=120 --conf spark.fake.ignore_sigterm=true \
	--conf spark.fake.seed=$tag2 app.jar >/dev/null
r2=$(spctl run start acme/prod/stubborn)
wait_run_state "$r2" running 30
spctl run cancel "$r2" >/dev/null
wait_run_state "$r2" cancelled 20
pgrep -f "spark.fake.seed=$tag2" && fail "SIGTERM-ignoring spark-submit survived"
echo "cancel: ok"

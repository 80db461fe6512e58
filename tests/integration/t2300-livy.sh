#!/bin/bash
# The Livy backend: an environment with --backend livy runs its jobs as
# Livy batches (tests/fakes/livy-server): one that succeeds, one that
# fails with an executor OOM in its driver log (class executor_oom, the
# log redacted), a cancel that DELETEs the batch, and a wrong basic-auth
# password that fails the run with a clear reason, https verified with
# livy_ca (and refused without it). Settings are checked
# per backend; an emr-eks environment fails at the agent's preflight
# (no settings, or the static agent without emr-eks).
. "$(dirname "$0")/lib.sh"

LIVY_REC=$T/livy.jsonl
python3 "$ROOT/tests/fakes/livy-server" --port-file "$T/livy.port" \
	--user sparky --password 's3cret-Pw' --record "$LIVY_REC" --csrf \
	>>"$T/livy.log" 2>&1 &
PIDS+=("$!")
wait_until 10 test -s "$T/livy.port" || fail "fake Livy did not start"
LIVY=http://127.0.0.1:$(cat "$T/livy.port")
printf 's3cret-Pw\n' >"$T/livy.pw"
printf 'wrong\n' >"$T/livy.badpw"
chmod 600 "$T/livy.pw" "$T/livy.badpw"

start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/livy --backend livy >/dev/null
spctl env add acme/emr --backend emr-eks >/dev/null

# settings are checked against the backend, before anything changes
out=$(spctl env set acme/livy --backend-setting virtual_cluster_id=x 2>&1) &&
	fail "an emr-eks key taken for livy"
grep -q "unknown setting 'virtual_cluster_id' for backend livy (known: livy_url" <<<"$out" ||
	fail "unknown key error: $out"
out=$(spctl env set acme/livy --backend-setting livy_password_file=s3cret 2>&1) &&
	fail "a password file that is no path taken"
grep -q 'absolute path' <<<"$out" || fail "password file error: $out"
out=$(spctl env add acme/x --backend yarn 2>&1) && fail "unknown backend taken"
grep -q "unknown backend 'yarn'" <<<"$out" || fail "backend error: $out"
spctl env set acme/livy --backend-setting "livy_url=$LIVY" >/dev/null
spctl env set acme/livy --backend-setting livy_user=sparky >/dev/null
spctl env set acme/livy --backend-setting "livy_password_file=$T/livy.pw" >/dev/null
spctl env set acme/livy --backend-setting livy_poll_ms=200 >/dev/null
show=$(spctl --json env show acme/livy)
[ "$(echo "$show" | json environment.backend)" = livy ] || fail "env show: $show"
[ "$(echo "$show" | json environment.backend_settings.livy_user)" = sparky ] ||
	fail "env show settings: $show"
[ "$(spctl --json env show acme/emr | json environment.backend)" = emr-eks ] ||
	fail "emr-eks backend not shown"

start_agent a1 acme/livy
wait_env_ready acme/livy

# 1. success: the batch is built from the job's spark-submit arguments
spctl job add acme/livy/ok --executor-memory 2 --executors 3 -- \
	--master yarn --deploy-mode cluster --class com.acme.Main \
	--conf spark.fake.outcome=succeed --conf spark.fake.duration=0.5 \
	--conf spark.sql.shuffle.partitions=64 s3://acme/app.jar 2026-12-04 >/dev/null
r=$(spctl run start acme/livy/ok)
wait_run_state "$r" succeeded 30
python3 - "$LIVY_REC" <<'PY' || fail "the POST /batches body"
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1]) if '"POST"' in l]
b = posts[0]["body"]
assert b["file"] == "s3://acme/app.jar", b
assert b["className"] == "com.acme.Main", b
assert b["args"] == ["2026-12-04"], b
assert b["conf"]["spark.sql.shuffle.partitions"] == "64", b
assert b["executorMemory"] == "2048m" and b["numExecutors"] == 3, b
assert posts[0]["auth_ok"], posts[0]
PY
[ "$(spctl --json run show "$r" | json run.app_id)" = application_1733300000000_0001 ] ||
	fail "app id not reported: $(spctl --json run show "$r")"
logs=$(spctl run logs "$r")
grep -q 'final status: SUCCEEDED' <<<"$logs" || fail "Livy log not in the run's logs: $logs"
grep -q AKIAFAKESECRETVALUE123 <<<"$logs" && fail "secret in the run's logs"

# 2. failure: the driver log says executor OOM
spctl job add acme/livy/oom --max-attempts 1 -- --class com.acme.Main \
	--conf spark.fake.outcome=fail --conf spark.fake.signature=executor_oom \
	--conf spark.fake.duration=0.3 s3://acme/app.jar >/dev/null
f=$(spctl run start acme/livy/oom)
wait_run_state "$f" failed 30
d=$(spctl --json run diagnose "$f")
[ "$(echo "$d" | json class)" = executor_oom ] || fail "diagnose: $d"
echo "$d" | json reason | grep -q 'ended in state dead' || fail "reason: $d"

# 3. cancel: the batch is DELETEd
spctl job add acme/livy/long -- --conf spark.fake.duration=long s3://acme/app.jar >/dev/null
c=$(spctl run start acme/livy/long)
wait_run_state "$c" running 30
spctl run cancel "$c" >/dev/null
wait_run_state "$c" cancelled 20
id=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    j = json.loads(l)
    if j["method"] == "POST": last = j
print(len([1 for l in open(sys.argv[1]) if json.loads(l)["method"] == "POST"]) - 1)' "$LIVY_REC")
grep -q "\"DELETE\", \"path\": \"/batches/$id\"" "$LIVY_REC" ||
	fail "no DELETE /batches/$id: $(grep DELETE "$LIVY_REC")"

# 4. a wrong password: the run fails and says why
spctl env set acme/livy --backend-setting "livy_password_file=$T/livy.badpw" >/dev/null
b=$(spctl run start acme/livy/oom)
wait_run_state "$b" failed 30
spctl --json run show "$b" | json run.reason | grep -q 'Livy refused the credentials.*HTTP 401' ||
	fail "wrong password: $(spctl --json run show "$b")"
grep -q 'wrong' "$T"/agent-a1.log && fail "the password reached the agent's log"

# 5. https: verified with livy_ca; without it the run fails on TLS
mkcert "$T/tls" livy-ca
python3 "$ROOT/tests/fakes/livy-server" --port-file "$T/livys.port" \
	--tls-cert "$T/tls/server.crt" --tls-key "$T/tls/server.key" \
	--record "$T/livys.jsonl" >>"$T/livys.log" 2>&1 &
PIDS+=("$!")
wait_until 10 test -s "$T/livys.port" || fail "fake https Livy did not start"
spctl env add acme/tls --backend livy >/dev/null
spctl env set acme/tls --backend-setting "livy_url=https://localhost:$(cat "$T/livys.port")" >/dev/null
spctl env set acme/tls --backend-setting livy_poll_ms=200 >/dev/null
start_agent t1 acme/tls
wait_env_ready acme/tls
spctl job add acme/tls/ok --max-attempts 1 -- --conf spark.fake.duration=0.3 s3://acme/app.jar >/dev/null
n=$(spctl run start acme/tls/ok)
wait_run_state "$n" failed 30
spctl --json run show "$n" | json run.reason | grep -qi 'certificate' ||
	fail "unverified TLS: $(spctl --json run show "$n")"
spctl env set acme/tls --backend-setting "livy_ca=$T/tls/ca.crt" >/dev/null
v=$(spctl run start acme/tls/ok)
wait_run_state "$v" succeeded 30

# 6. emr-eks: the static agent has it registered but not built in; the
#    dynamic one refuses an environment without its settings (t2410 runs
#    it for real). Either way the agent's preflight fails the environment
#    with the reason, and no run is dispatched there.
start_agent e1 acme/emr
wait_until 20 env_is acme/emr failed ||
	fail "acme/emr is $(env_state acme/emr), expected failed"
why=$(spctl --json env show acme/emr | json environment.state_reason)
case $AGENT_BIN in
*-static)
	grep -q '^backend emr-eks is not built into this agent' <<<"$why" ||
		fail "emr-eks on the static agent: $why"
	;;
*)
	grep -q '^backend emr-eks: virtual_cluster_id must be' <<<"$why" ||
		fail "emr-eks without settings: $why"
	;;
esac
spctl job add acme/emr/j -- s3://acme/app.jar >/dev/null
e=$(spctl run start acme/emr/j)
sleep 1
[ "$(run_state "$e")" = queued ] || fail "run in a failed env: $(run_state "$e")"
echo "livy: ok"

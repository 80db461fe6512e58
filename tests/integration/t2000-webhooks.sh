#!/bin/bash
# t2000-webhooks.sh - signed webhooks end to end: two tenants, each with a
# hook to its own receiver (tests/fakes/webhook-receiver checks every
# signature); runs that succeed, fail and are cancelled; a receiver down
# while runs end and the scheduler killed with -9 meanwhile, then both
# back: every event arrives, each webhook-id at least once and the same as
# before the kill, none at the other tenant's endpoint, every signature
# valid, no secret in the log or the audit log. Then a receiver answering
# 500 (retried), HTTPS checked against webhook_ca (a certificate of
# another CA refused), a dead letter under a tiny maximum age (/metrics
# too), and
# bad input: ftp://, a host that does not resolve, an unknown tenant, and
# (as root) a scoped viewer who may list only its tenant's hooks.
source "$(dirname "$0")/lib.sh"
RECV=$ROOT/tests/fakes/webhook-receiver
C=$T/sched.conf
root=false
if [ "$(id -u)" -eq 0 ]; then
	root=true
	chmod 0750 "$T" # the viewer reaches the socket through group root
	echo 'role_viewer = uid:65534@acme' >"$C"
fi
mkcert "$T/tls" sp-test-ca
mkcert "$T/other" other-ca # a server certificate of another CA
cat >>"$C" <<CONF
webhook_ca = $T/tls/ca.crt
webhook_retry_base_ms = 100
webhook_retry_max_ms = 400
webhook_timeout_ms = 3000
webhook_connect_timeout_ms = 1000
CONF
MPORT=$(free_port)
start_scheduler --config "$C" --metrics-listen "http://127.0.0.1:$MPORT"
for t in acme globex; do
	spctl tenant add $t >/dev/null
	spctl env add $t/prod >/dev/null
done

# receivers: one per tenant, each its own port
mkdir -p "$T/r1" "$T/r2"
P1=$(free_port)
P2=$(free_port)
start_receiver() { # DIR PORT [--cert PEM --key PEM]: sets RPID_<dir>
	local d=$1 p=$2
	shift 2
	"$RECV" --port "$p" --dir "$T/$d" "$@" >>"$T/$d.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	eval "RPID_$d=$pid"
	wait_until 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $p), 1)" ||
		fail "receiver $d did not start"
}
stop_receiver() { # DIR
	local pid
	eval "pid=\$RPID_$1"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
}
start_receiver r1 "$P1"
start_receiver r2 "$P2"

# hooks: the secret is printed once, in the reply
add_hook() { # TENANT URL [FLAGS...]: prints the reply (JSON)
	spctl --json webhook add "$@"
}
out=$(add_hook acme "http://127.0.0.1:$P1/acme")
H1=$(echo "$out" | json id)
echo "$out" | json secret >"$T/r1/acme.secret"
[[ $(cat "$T/r1/acme.secret") =~ ^whsec_[A-Za-z0-9+/]{43}=$ ]] ||
	fail "secret: $(cat "$T/r1/acme.secret")"
out=$(add_hook globex "http://localhost:$P2/globex" --events 'run.*,webhook.test')
H2=$(echo "$out" | json id)
echo "$out" | json secret >"$T/r2/globex.secret"
# the secret is never shown again
spctl --json webhook list | grep -q whsec_ && fail "webhook list shows a secret"
spctl --json webhook show "$H1" | grep -q whsec_ && fail "webhook show shows a secret"

# jobs and agents
for t in acme globex; do
	spctl job add $t/prod/ok -- --master yarn --deploy-mode cluster \
		--conf spark.fake.duration=0.2 secret-arg-$t.jar >/dev/null
done
spctl job add acme/prod/bad --max-attempts 1 -- --master yarn \
	--deploy-mode cluster --conf spark.fake.outcome=fail app.jar >/dev/null
spctl job add acme/prod/long -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=120 app.jar >/dev/null
start_agent a1 acme/prod
start_agent a2 globex/prod
wait_env_ready acme/prod
wait_env_ready globex/prod

ok1=$(spctl run start acme/prod/ok)
bad1=$(spctl run start acme/prod/bad)
gok=$(spctl run start globex/prod/ok)
long=$(spctl run start acme/prod/long)
wait_run_state "$ok1" succeeded
wait_run_state "$bad1" failed
wait_run_state "$gok" succeeded
wait_run_state "$long" running
spctl run cancel "$long" >/dev/null
wait_run_state "$long" cancelled

# got DIR TYPE RUN: the receiver accepted that event (status 204)
got() {
	python3 - "$T/$1" "$2" "$3" <<'PY'
import glob, json, sys
d, typ, run = sys.argv[1], sys.argv[2], sys.argv[3]
for f in glob.glob(d + "/*.log"):
    for l in open(f):
        r = json.loads(l)
        if r["status"] == 204 and r.get("type") == typ and str(r.get("run_id")) == run:
            sys.exit(0)
sys.exit(1)
PY
}
wait_until 20 got r1 run.succeeded "$ok1" || fail "run.succeeded of $ok1 not delivered"
wait_until 20 got r1 run.failed "$bad1" || fail "run.failed of $bad1 not delivered"
wait_until 20 got r1 run.cancelled "$long" || fail "run.cancelled of $long not delivered"
wait_until 20 got r2 run.succeeded "$gok" || fail "run.succeeded of $gok not delivered"

# the receiver of acme is down while runs end; the scheduler is killed
stop_receiver r1
ok2=$(spctl run start acme/prod/ok)
ok3=$(spctl run start acme/prod/ok)
wait_run_state "$ok2" succeeded
wait_run_state "$ok3" succeeded
# attempted and failed at least once, then kill -9
failed_once() {
	spctl --json webhook show "$H1" | python3 -c '
import json, sys
d = json.load(sys.stdin)["deliveries"]
sys.exit(0 if len(d) >= 2 and all(x["attempts"] >= 1 and x["state"] == "pending" for x in d) else 1)'
}
wait_until 20 failed_once || fail "no failed attempt while down: $(spctl webhook show "$H1")"
spctl --json webhook show "$H1" | python3 -c '
import json, sys
print("\n".join(x["webhook_id"] for x in json.load(sys.stdin)["deliveries"]))' >"$T/ids-before"
spctl --json webhook list acme | json items.0.last_error | grep -qi 'connect' ||
	fail "no last error in webhook list: $(spctl webhook list acme)"
kill -KILL "$SCHED_PID"
wait "$SCHED_PID" 2>/dev/null || true
start_scheduler --config "$C" --metrics-listen "http://127.0.0.1:$MPORT"
[ "$(spctl --json webhook list acme | json items.0.pending)" -ge 2 ] ||
	fail "pending deliveries lost by the restart: $(spctl webhook list acme)"
start_receiver r1 "$P1"
wait_until 30 got r1 run.succeeded "$ok2" || fail "run.succeeded of $ok2 not delivered after the restart"
wait_until 30 got r1 run.succeeded "$ok3" || fail "run.succeeded of $ok3 not delivered after the restart"
# the same webhook-ids as before the kill
while read -r id; do
	grep -q "\"id\": \"$id\", .*\"status\": 204" "$T/r1/acme.log" ||
		fail "webhook-id $id was not delivered (ids changed across the restart?)"
done <"$T/ids-before"
has_delivered() { [ "$(spctl --json webhook list acme | json items.0.pending)" = 0 ]; }
wait_until 10 has_delivered || fail "deliveries still pending: $(spctl webhook list acme)"

# 500: retried until the receiver takes it
touch "$T/r1/acme.fail"
tid=$(spctl --json webhook test "$H1" | json webhook_id)
saw_500() { grep -q "\"id\": \"$tid\", .*\"status\": 500" "$T/r1/acme.log"; }
wait_until 20 saw_500 || fail "webhook.test $tid never attempted"
rm "$T/r1/acme.fail"
got_id() { grep -q "\"id\": \"$1\", .*\"status\": 204" "$T/$2/$3.log"; }
wait_until 20 got_id "$tid" r1 acme || fail "webhook.test $tid not delivered after the 500s"
spctl --json webhook test "$H2" >/dev/null

# HTTPS: verified against webhook_ca; a certificate of another CA fails
mkdir -p "$T/r3" "$T/r4"
P3=$(free_port)
P4=$(free_port)
start_receiver r3 "$P3" --cert "$T/tls/server.crt" --key "$T/tls/server.key"
start_receiver r4 "$P4" --cert "$T/other/server.crt" --key "$T/other/server.key"
out=$(add_hook globex "https://localhost:$P3/globex")
H3=$(echo "$out" | json id)
echo "$out" | json secret >"$T/r3/globex.secret"
out=$(add_hook globex "https://localhost:$P4/globex")
H4=$(echo "$out" | json id)
echo "$out" | json secret >"$T/r4/globex.secret"
t3=$(spctl --json webhook test "$H3" | json webhook_id)
wait_until 20 got_id "$t3" r3 globex || fail "no delivery over HTTPS: $(spctl webhook show "$H3")"
spctl webhook test "$H4" >/dev/null
tls_refused() {
	spctl --json webhook show "$H4" | json webhook.last_error | grep -qi 'certificate'
}
wait_until 20 tls_refused || fail "a certificate of another CA was not refused: $(spctl webhook show "$H4")"
[ -e "$T/r4/globex.log" ] && fail "a request reached the receiver of the wrong CA"
spctl webhook remove "$H4" >/dev/null

# every event accepted, signed right, and at its own tenant's endpoint
python3 - "$T" "$ok1" "$bad1" "$long" "$ok2" "$ok3" "$gok" <<'PY' || fail "deliveries are wrong"
import json, sys
t, ok1, bad1, long, ok2, ok3, gok = sys.argv[1:]
def recs(d, n):
    return [json.loads(l) for l in open(f"{t}/{d}/{n}.log")]
a, g = recs("r1", "acme"), recs("r2", "globex")
for r in a + g:
    assert r["sig_ok"], ("a bad signature", r)
    assert r["content_type"] == "application/json", r
    assert "args" not in r["keys"] and "argv" not in r["keys"], r
for r in a:
    assert r["tenant"] == "acme", ("another tenant's event at acme", r)
for r in g:
    assert r["tenant"] == "globex", ("another tenant's event at globex", r)
ok = lambda rs: {(r["type"], str(r["run_id"])) for r in rs if r["status"] == 204}
want = {("run.succeeded", ok1), ("run.failed", bad1), ("run.cancelled", long),
        ("run.succeeded", ok2), ("run.succeeded", ok3)}
assert want <= ok(a), (want - ok(a))
assert ("run.succeeded", gok) in ok(g), ok(g)
PY
[ "$(spctl --json webhook list globex | json items | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
	fail "globex's hooks: $(spctl webhook list globex)"
wait_until 20 grep -q '"type": "webhook.test", "tenant": "globex"' "$T/r2/globex.log" ||
	fail "webhook.test to globex not delivered"

# no secret in the log or the audit log, no job argument in a delivery
for s in "$T/r1/acme.secret" "$T/r2/globex.secret"; do
	sec=$(cat "$s")
	grep -qF "${sec#whsec_}" "$T/scheduler.log" && fail "a secret in the log"
	spctl audit export | grep -qF "${sec#whsec_}" && fail "a secret in the audit log"
done
grep -q secret-arg "$T"/r*/*.log && fail "a job argument was delivered"
spctl audit list | grep -q "command=webhook add args=id=$H1 result=ok" ||
	fail "webhook add's outcome not audited: $(spctl audit list)"

# bad input
expect_err() { # WANT ARGS...: spctl fails, its message holds WANT
	local want=$1 out
	shift
	out=$(spctl "$@" 2>&1) && fail "'$*' succeeded"
	[[ $out == *"$want"* ]] || fail "'$*' said '$out', not '$want'"
}
expect_err "error: invalid: webhook URL 'ftp://x': only http and https are allowed" \
	webhook add acme ftp://x
expect_err "invalid: webhook URL 'http://nohost.invalid/h': host 'nohost.invalid' does not resolve" \
	webhook add acme http://nohost.invalid/h
spctl audit list | grep -q "command=webhook add args=id=- result=invalid" ||
	fail "the refused webhook add is not audited: $(spctl audit list)"
expect_err "no tenant 'nosuch'" webhook add nosuch "http://127.0.0.1:$P1/x"
expect_err "--events" webhook add acme "http://127.0.0.1:$P1/x" --events 'run.*,RUN'
expect_err "no webhook 'wh_0000000000000000'" webhook remove wh_0000000000000000
[ "$(spctl --json webhook list | json items | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
	fail "a refused add left a hook behind: $(spctl webhook list)"
if $root; then
	as_viewer() {
		setpriv --reuid=65534 --regid=0 --clear-groups "$BIN/spctl" --socket "$SOCK" "$@"
	}
	as_viewer --json webhook list | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
assert [i["tenant"] for i in items] == ["acme"], items
' || fail "the viewer of acme sees other tenants' hooks"
	set +e
	as_viewer webhook add acme "http://127.0.0.1:$P1/v" >/dev/null 2>&1
	rc=$?
	as_viewer webhook show "$H2" >"$T/v.out" 2>&1
	rc2=$?
	set -e
	[ "$rc" = 77 ] || fail "the viewer's webhook add exited $rc, not 77"
	[ "$rc2" = 1 ] && grep -q "no webhook" "$T/v.out" ||
		fail "the viewer of acme sees globex's hook: $(cat "$T/v.out")"
else
	echo "t2000: the scoped viewer part skipped: needs root (setpriv)"
fi

# dead letter: a tiny maximum age, a receiver that always fails
stop_scheduler
echo 'webhook_max_age_s = 1' >>"$C"
start_scheduler --config "$C" --metrics-listen "http://127.0.0.1:$MPORT"
touch "$T/r1/acme.fail"
did=$(spctl --json webhook test "$H1" | json webhook_id)
is_dead() {
	spctl --json webhook show "$H1" | python3 -c '
import json, sys
d = json.load(sys.stdin)["deliveries"]
sys.exit(0 if any(x["webhook_id"] == sys.argv[1] and x["state"] == "dead" for x in d) else 1)' "$did"
}
wait_until 20 is_dead || fail "no dead letter: $(spctl webhook show "$H1")"
[ "$(spctl --json webhook list acme | json items.0.dead)" -ge 1 ] || fail "dead count"
n=$(grep -c "\"id\": \"$did\"" "$T/r1/acme.log")
metric_dead() {
	fetch "http://127.0.0.1:$MPORT/metrics" | grep -q '^sparkpilot_webhook_deliveries_total{result="dead"} [1-9]'
}
wait_until 10 metric_dead || fail "no dead delivery in /metrics"
fetch "http://127.0.0.1:$MPORT/metrics" | grep -q '^sparkpilot_webhook_pending 0' ||
	fail "pending gauge: $(fetch "http://127.0.0.1:$MPORT/metrics" | grep webhook)"
# dead: no more attempts (the core has had turns since: a webhook test
# to globex is delivered after it)
gid=$(spctl --json webhook test "$H2" | json webhook_id)
wait_until 20 got_id "$gid" r2 globex || fail "webhook.test $gid not delivered"
[ "$(grep -c "\"id\": \"$did\"" "$T/r1/acme.log")" = "$n" ] || fail "a dead delivery was attempted again"
spctl webhook remove "$H1" >/dev/null
[ "$(spctl --json webhook list acme | json items)" = "[]" ] || fail "hook not removed"
echo "t2000: ok"

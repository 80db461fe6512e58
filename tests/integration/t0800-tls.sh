#!/bin/bash
# tls+tcp://: the scheduler presents a certificate from its config file, the
# agent pins the CA; an agent pinned to another CA never gets through. A
# reload (SIGHUP) serves a renewed certificate from the next handshake on,
# keeps the agents connected, and refuses a key that does not match or a
# certificate that has expired; /metrics shows when the certificate
# expires.
. "$(dirname "$0")/lib.sh"

# fingerprint CERT: its SHA-256, as the scheduler logs it (lower-case hex)
fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f
}
# served: the fingerprint of the certificate a new handshake gets
served() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f
}
# expiry_metric: sparkpilot_tls_cert_expiry_timestamp_seconds as scraped
expiry_metric() {
	fetch "$M/metrics" | awk '$1 == "sparkpilot_tls_cert_expiry_timestamp_seconds" { print $2 }'
}
not_after() {
	date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s
}
logged() {
	grep -q -- "$1" "$T/scheduler.log"
}
mkcert "$T/pki" sparkpilot-test-ca
mkcert "$T/other" some-other-ca

cat >"$T/scheduler.conf" <<CONF
# scheduler TLS settings
tls_cert = $T/pki/server.crt
tls_key = $T/pki/server.key
CONF
PORT=$(free_port)
URL=tls+tcp://127.0.0.1:$PORT
M=http://127.0.0.1:$(free_port)
start_scheduler --config "$T/scheduler.conf" --metrics-listen "$M"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null

printf 'tls_ca = %s\ntls_server_name = localhost\n' "$T/pki/ca.crt" >"$T/agent.conf"
start_agent a1 acme/prod --config "$T/agent.conf"
wait_env_ready acme/prod
spctl job add acme/prod/pi -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0.3 app.jar >/dev/null
r=$(spctl run start acme/prod/pi)
wait_run_state "$r" succeeded 60

# ---- reload ----
fp=$(fingerprint "$T/pki/server.crt")
[ "$(served)" = "$fp" ] || fail "the configured certificate is not served"
logged "agent port TLS certificate: subject /CN=localhost, sha256 ${fp:0:16}" ||
	fail "the certificate served was not logged: $(grep -i tls "$T/scheduler.log")"
wait_until 10 test "$(expiry_metric)" = "$(not_after "$T/pki/server.crt")" ||
	fail "metric $(expiry_metric), not the certificate's expiry $(not_after "$T/pki/server.crt")"
fetch "$M/metrics" | promtool check metrics >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(cat "$T/promtool.out")"
# Renewed in place (same paths, a new key, a later expiry): served from
# the next handshake on; the agent's connection stays and runs go on.
mkcert_server "$T/pki" renewed 30
cp "$T/pki/renewed.key" "$T/pki/server.key"
cp "$T/pki/renewed.crt" "$T/pki/server.crt"
fp2=$(fingerprint "$T/pki/renewed.crt")
kill -HUP "$SCHED_PID"
wait_until 10 logged "reload: TLS certificate replaced for new connections: subject /CN=localhost, sha256 ${fp2:0:16}" ||
	fail "the renewed certificate was not taken: $(tail -3 "$T/scheduler.log")"
[ "$(served)" = "$fp2" ] || fail "the old certificate is still served after the reload"
wait_until 10 test "$(expiry_metric)" = "$(not_after "$T/pki/renewed.crt")" ||
	fail "metric $(expiry_metric) after the reload, not $(not_after "$T/pki/renewed.crt")"
r=$(spctl run start acme/prod/pi)
wait_run_state "$r" succeeded 60
# reading the same files again changes nothing, and says so
kill -HUP "$SCHED_PID"
wait_until 10 logged "reload: TLS files read again, the same certificate: subject /CN=localhost, sha256 ${fp2:0:16}" ||
	fail "an unchanged certificate was not recognised"
# refused REASON: a SIGHUP is refused for REASON, the certificate in
# force still served
refused() {
	kill -HUP "$SCHED_PID"
	wait_until 10 logged "reload refused: $1" ||
		fail "not refused ($1): $(tail -3 "$T/scheduler.log")"
	[ "$(served)" = "$fp2" ] || fail "a refused reload changed the certificate served"
}
# a key that is not the certificate's (a copy half done)
cp "$T/other/server.key" "$T/pki/server.key"
refused "tls_key '$T/pki/server.key' is not the key of the certificate in tls_cert '$T/pki/server.crt'; the running settings are kept"
# a certificate file cut short
cp "$T/pki/renewed.key" "$T/pki/server.key"
head -c 200 "$T/pki/renewed.crt" >"$T/pki/server.crt"
refused "tls_cert '$T/pki/server.crt' holds no PEM certificate that parses"
# an expired certificate (made 3 days ago, valid 1 day)
if [ -z "${SP_FAKE_DATE:-}" ]; then
	mkcert_server "$T/pki" expired 1 faketime "$(date -u -d '-3 days' '+%Y-%m-%d %H:%M:%S')"
	cp "$T/pki/expired.key" "$T/pki/server.key"
	cp "$T/pki/expired.crt" "$T/pki/server.crt"
	refused "the certificate in tls_cert '$T/pki/server.crt' expired on"
fi
cp "$T/pki/renewed.key" "$T/pki/server.key"
cp "$T/pki/renewed.crt" "$T/pki/server.crt"
r=$(spctl run start acme/prod/pi)
wait_run_state "$r" succeeded 60

# Pinned to a different CA: the handshake fails, nothing enrolls.
spctl env add acme/dev >/dev/null
printf 'tls_ca = %s\ntls_server_name = localhost\nrequest_timeout_ms = 1000\n' \
	"$T/other/ca.crt" >"$T/bad.conf"
start_agent bad acme/dev --config "$T/bad.conf"
# Not a sleep: wait until the agent has failed twice, then check.
enroll_failed() { [ "$(grep -c "enroll: .*retrying" "$T/agent-bad.log")" -ge 2 ]; }
wait_until 60 enroll_failed || fail "the wrong-CA agent did not fail to enroll"
# the warning says it never got a connection, not just "Timed out"
grep -q "warn: enroll: not connected to $URL (nothing listening there, a wrong address or port, a firewall, or a TLS handshake that failed); retrying" \
	"$T/agent-bad.log" || fail "the failed handshake is not named: $(tail -2 "$T/agent-bad.log")"
[ "$(env_state acme/dev)" = pending ] || fail "an agent with the wrong CA got through"
[ "$(spctl --json agent list | json items | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	fail "the wrong-CA agent enrolled"
# The certificate and key through flags, as a unit passes systemd
# credentials (LoadCredential=, files in $CREDENTIALS_DIRECTORY): the
# scheduler restarted so takes the agent back, and a run goes through.
mkdir -m 0700 "$T/creds"
cp "$T/pki/server.crt" "$T/creds/tls-cert"
cp "$T/pki/server.key" "$T/creds/tls-key"
stop_scheduler
start_scheduler --tls-cert "$T/creds/tls-cert" --tls-key "$T/creds/tls-key"
r=$(spctl run start acme/prod/pi)
wait_run_state "$r" succeeded 60
# tls+tcp4://: a name dialed at its IPv4 address (nng dials only the first
# address a name resolves to, which may be ::1 for localhost), the server
# name taken from the URL
spctl env add acme/v4 >/dev/null
printf 'tls_ca = %s\n' "$T/pki/ca.crt" >"$T/v4.conf"
URL=tls+tcp4://localhost:$PORT start_agent v4 acme/v4 --config "$T/v4.conf"
wait_env_ready acme/v4
# a scheme that is not the agent port's: one line, exit 2
if out=$("$AGENT_BIN" --scheduler "http://127.0.0.1:$PORT" --state-dir "$T/x" \
	--enroll-token t --spark-submit "$FAKE_SPARK" 2>&1); then
	fail "an http:// scheduler URL was taken"
fi
grep -q "scheduler 'http://127.0.0.1:$PORT' must be a tcp:// or tls+tcp:// URL (or tcp4, tcp6, tls+tcp4, tls+tcp6)" <<<"$out" ||
	fail "a bad scheme was not named: $out"
# a key that is not there: one line, exit 2 or 1, no start
if out=$("$BIN/sparkpilot-scheduler" --data-dir "$T/data2" --admin-socket "$T/s2" \
	--listen "tls+tcp://127.0.0.1:$(free_port)" --tls-cert "$T/creds/tls-cert" \
	--tls-key "$T/creds/missing" 2>&1); then
	fail "the scheduler started without its key"
fi
grep -q "missing" <<<"$out" || fail "no word of the missing key: $out"
echo "tls: ok"

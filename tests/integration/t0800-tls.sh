#!/bin/bash
# tls+tcp://: the scheduler presents a certificate from its config file, the
# agent pins the CA; an agent pinned to another CA never gets through.
. "$(dirname "$0")/lib.sh"

mkcert() { # DIR NAME: a CA and a server certificate for localhost
	local d=$1
	mkdir -p "$d"
	# valid from now on the daemons' clock (dates.sh may move it)
	"${DAEMON_ENV[@]}" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.crt" -subj "/CN=$2" -days 2 2>/dev/null
	"${DAEMON_ENV[@]}" openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" -subj /CN=localhost 2>/dev/null
	printf 'subjectAltName=DNS:localhost\n' >"$d/ext"
	"${DAEMON_ENV[@]}" openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/server.crt" -days 2 -extfile "$d/ext" 2>/dev/null
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
start_scheduler --config "$T/scheduler.conf"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null

printf 'tls_ca = %s\ntls_server_name = localhost\n' "$T/pki/ca.crt" >"$T/agent.conf"
start_agent a1 acme/prod --config "$T/agent.conf"
wait_env_ready acme/prod
spctl job add acme/prod/pi -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0.3 app.jar >/dev/null
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
# a key that is not there: one line, exit 2 or 1, no start
if out=$("$BIN/sparkpilot-scheduler" --data-dir "$T/data2" --admin-socket "$T/s2" \
	--listen "tls+tcp://127.0.0.1:$(free_port)" --tls-cert "$T/creds/tls-cert" \
	--tls-key "$T/creds/missing" 2>&1); then
	fail "the scheduler started without its key"
fi
echo "$out" | grep -q "missing" || fail "no word of the missing key: $out"
echo "tls: ok"

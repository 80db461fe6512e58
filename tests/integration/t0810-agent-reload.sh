#!/bin/bash
# SIGHUP on the agent applies at once what an operator changes in a hurry.
# A redaction rule added while a long run leaks a token redacts that
# run's next line (the same run, still in progress, which then succeeds;
# its redaction count is reported under the new kind); a bad rule is
# refused with its line and the rules in force keep working. The TLS
# files are read again on every reload for the next connection: a CA
# replaced in place by one that does not match leaves the connection up
# but fails the reconnect after a scheduler restart; the right CA put back
# and a SIGHUP, the agent reconnects and runs work; a tls_cert that is
# not there is refused, naming the file, and the TLS in force is kept.
. "$(dirname "$0")/lib.sh"

mkcert "$T/pki" sparkpilot-test-ca
mkcert "$T/other" some-other-ca

printf 'tls_cert = %s\ntls_key = %s\n' "$T/pki/server.crt" "$T/pki/server.key" \
	>"$T/scheduler.conf"
PORT=$(free_port)
URL=tls+tcp://127.0.0.1:$PORT
start_scheduler --config "$T/scheduler.conf"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null

# The agent pins a CA file that is replaced in place below, as a rotation
# does. Debug: a failed send is logged only at that level.
CA=$T/agent-ca.crt
cp "$T/pki/ca.crt" "$CA"
AC=$T/agent.conf
conf() { # extra lines after the base settings
	{
		printf 'tls_ca = %s\ntls_server_name = localhost\n' "$CA"
		printf 'request_timeout_ms = 1000\nlog_level = debug\n'
		printf '%s\n' "$@"
	} >"$AC"
}
conf
start_agent a1 acme/prod --config "$AC"
wait_env_ready acme/prod
AGENT=$(spctl --json agent list | json items.0.id)
ALOG=$T/agent-a1.log

# alog_count PATTERN: agent log lines matching PATTERN (grep BRE)
alog_count() {
	grep -c -- "$1" "$ALOG" || true
}
alog_at_least() { # PATTERN N: for wait_until
	[ "$(alog_count "$1")" -ge "$2" ]
}
# hup PATTERN: SIGHUP the agent, wait for one more log line matching
# PATTERN (a reload logs nothing else after it finished: the patterns
# waited for are its last lines)
hup() {
	local want=$(($(alog_count "$1") + 1))
	kill -HUP "$AGENT_PID_a1"
	wait_until 15 alog_at_least "$1" "$want" ||
		fail "after SIGHUP, no '$1' in the agent's log: $(tail -5 "$ALOG")"
}
TLS_OK='reload: TLS files read again from tls_ca '

## Redaction rules, live

# The run prints the token, waits for $T/again, prints it again.
spctl job add acme/prod/long -- --master 'local[1]' \
	--conf 'spark.fake.print=badge EMP-123456 seen' \
	--conf "spark.fake.repeat_when=$T/again" --conf spark.fake.duration=0.2 \
	app.jar >/dev/null
r=$(spctl run start acme/prod/long)
logs_have() { # RUN FIXED-STRING [N]: at least N lines of its logs hold it
	[ "$(spctl run logs "$1" | grep -cF -- "$2")" -ge "${3:-1}" ]
}
wait_until 30 logs_have "$r" 'badge EMP-123456 seen' ||
	fail "the first line did not arrive: $(spctl run logs "$r")"

conf 'redact_rule = employee_id EMP-[0-9]{6}'
hup 'reload: redact_rule: 1 extra rules (was 0), applied to 1 runs in progress'
alog_at_least "$TLS_OK" 1 || fail "the TLS files were not read again on reload"
state=$(run_state "$r")
case $state in submitted | running) ;; *) fail "run $r is $state before its second line" ;; esac
[ "$(spctl --json run show "$r" | json run.attempt)" = 1 ] || fail "run $r was retried"
touch "$T/again"
wait_until 30 logs_have "$r" 'badge [REDACTED:employee_id] seen' ||
	fail "the new rule did not redact the running run's next line: $(spctl run logs "$r")"
wait_run_state "$r" succeeded 60
[ "$(spctl --json run show "$r" | json run.attempt)" = 1 ] || fail "run $r was retried"
[ "$(spctl run logs "$r" | grep -c 'EMP-123456')" = 1 ] ||
	fail "the token went out unredacted after the reload: $(spctl run logs "$r")"
# the one redaction made after the swap, counted under the new kind
m=$(spctl --json run metrics "$r")
echo "$m" | python3 -c '
import json, sys
m = json.load(sys.stdin)
def find(v):
    if isinstance(v, dict):
        if v.get("name") == "redactions.employee_id":
            return v
        for x in v.values():
            r = find(x)
            if r is not None:
                return r
    elif isinstance(v, list):
        for x in v:
            r = find(x)
            if r is not None:
                return r
found = find(m)
sys.exit(0 if found is not None and found.get("value", found.get("sum")) == 1 else 1)' ||
	fail "redactions.employee_id is not 1: $m"

# A bad rule: the whole file is refused with its line, the rule in force
# keeps redacting (a new run's lines).
conf 'redact_rule = employee_id EMP-[0-9]{6}' 'redact_rule = x ('
hup "reload refused: $AC:6: redact rule 'x'"
spctl job add acme/prod/short -- --master 'local[1]' \
	--conf 'spark.fake.print=badge EMP-654321 seen' --conf spark.fake.duration=0.2 \
	app.jar >/dev/null
r2=$(spctl run start acme/prod/short)
wait_run_state "$r2" succeeded 60
logs_have "$r2" 'badge [REDACTED:employee_id] seen' ||
	fail "the rule in force stopped working: $(spctl run logs "$r2")"
! spctl run logs "$r2" | grep -q 'EMP-654321' || fail "a token leaked after a refused reload"

## TLS files, read again on every reload

# A CA that does not match, written over the file in place: the reload
# succeeds (the file reads), the connection up now stays.
conf 'redact_rule = employee_id EMP-[0-9]{6}'
cp "$T/other/ca.crt" "$CA"
hup "$TLS_OK"
wait_agent_asked "$AGENT"
# The next connection uses it: after a scheduler restart the agent cannot
# get through. Not a sleep: wait for three failed sends and the warning
# (after 3 request timeouts), then check the scheduler took nothing from
# it.
stop_scheduler
start_scheduler --config "$T/scheduler.conf"
heard=$(agent_accepted "$AGENT")
mark=$(wc -l <"$ALOG")
resends_since() { # LINE N: N failed sends logged after line LINE
	[ "$(tail -n +"$(($1 + 1))" "$ALOG" | grep -c 'will resend')" -ge "$2" ]
}
wait_until 60 resends_since "$mark" 3 || fail "the agent did not fail to reconnect"
wait_until 30 grep -q "warn: cannot reach the scheduler at $URL for [0-9]* s" "$ALOG" ||
	fail "no warning that the scheduler cannot be reached"
[ "$(agent_accepted "$AGENT")" = "$heard" ] ||
	fail "the agent got through with a CA that does not match"
# The right CA back, a SIGHUP: it reconnects and runs work.
cp "$T/pki/ca.crt" "$CA"
hup "$TLS_OK"
wait_agent_asked "$AGENT"
wait_until 30 grep -q "info: the scheduler answers again, after [0-9]* s" "$ALOG" ||
	fail "no word that the scheduler answers again"
r3=$(spctl run start acme/prod/short)
wait_run_state "$r3" succeeded 60

# A client certificate that is not there: the reload is refused as a
# whole, the file named; neither the log level nor the TLS in force
# changes, for the connection up now and for the next one.
conf 'redact_rule = employee_id EMP-[0-9]{6}' "tls_cert = $T/missing.crt" \
	"tls_key = $T/pki/server.key"
sed -i 's/^log_level = debug$/log_level = info/' "$AC"
hup "reload refused: cannot read tls_cert '$T/missing.crt': No such file or directory; the running settings are kept"
! alog_at_least 'reload: log_level debug -> info' 1 || fail "a refused reload changed the log level"
wait_agent_asked "$AGENT"
stop_scheduler
start_scheduler --config "$T/scheduler.conf"
wait_agent_asked "$AGENT"
r4=$(spctl run start acme/prod/short)
wait_run_state "$r4" succeeded 60
kill -0 "$AGENT_PID_a1" || fail "a reload stopped the agent"
kill -TERM "$AGENT_PID_a1"
wait "$AGENT_PID_a1" || fail "the agent exited with $?"
echo "agent reload: ok"

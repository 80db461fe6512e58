#!/bin/bash
# Bad input is normal: every malformed spctl command gets one line
# "spctl: error: ..." and a non-zero exit, and nothing is written; garbage
# and huge lines on the admin socket and the agent port never crash the
# scheduler.
. "$(dirname "$0")/lib.sh"

start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null

snapshot() {
	for n in tenant env job agent run; do spctl --json $n list; done
}
before=$(snapshot)

# bad CMD... [-- expected substring]: must fail with exactly one error line.
bad() {
	local want=${!#}
	local args=("${@:1:$#-1}")
	local out rc=0
	out=$(spctl "${args[@]}" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -ne 0 ] || fail "'spctl ${args[*]}' succeeded"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "'spctl ${args[*]}': not one line: $out"
	[[ "$out" == "spctl: error: "* ]] || fail "'spctl ${args[*]}': bad prefix: $out"
	[[ "$out" == *"$want"* ]] || fail "'spctl ${args[*]}': '$out' does not say '$want'"
}

bad tenant show nosuch "no tenant 'nosuch'"
bad tenant add "a b" "space"
bad tenant add a/b "'/'"
bad tenant add Acme "lowercase"
bad tenant add "" "empty"
bad tenant add acme "already exists"
bad tenant add x --weight -3 "negative"
bad tenant add x --weight abc "not a number"
bad tenant add x --weight 0 "out of range"
bad tenant add x --weight "needs a value"
bad tenant add x --bogus 1 "unknown option '--bogus'"
bad tenant add x --weight 2 --weight 3 "given twice"
bad tenant add x --monthly-budget -5 "negative"
bad tenant add x --budget-mode maybe "soft or hard"
bad tenant add "missing argument"
bad tenant add x y "unexpected argument 'y'"
bad env add nosuch/prod "no tenant 'nosuch'"
bad env add acme "TENANT/ENV"
bad env add "acme/pr od" "space"
bad env add acme/prod "already exists"
bad env add acme/x --mode cloudy "full or byoc_lite"
bad env add acme/x --price-vcpu-hour -1 "negative"
bad job add acme/prod/j "missing '-- SPARK_SUBMIT_ARGS"
bad job add acme/prod/j -- "missing '-- SPARK_SUBMIT_ARGS"
bad job add acme/prod/j --executors -1 -- x.jar "negative"
bad job add acme/prod/j --driver-memory 0 -- x.jar "driver-memory"
bad job add acme/nosuch/j -- x.jar "no environment 'acme/nosuch'"
bad job add acme/prod -- x.jar "TENANT/ENV/JOB"
bad run start acme/prod/nosuch "no job"
bad run show -5 "run id"
bad run show abc "run id"
bad run show 999999 "no run 999999"
bad run list --state bogus "unknown state"
bad run cancel 424242 "no run"
bad usage --from 2026-13-01 "not a date"
bad usage --format xml "table, json or csv"
bad agent show ag-nope "no agent"
bad agent token acme/none "no environment"
bad frobnicate "unknown command"
bad tenant frob "unknown command"
bad tenant "needs a verb"
bad tenant list extra "unexpected argument"
bad 'tenant "add' "unknown command"

[ "$before" = "$(snapshot)" ] || fail "a refused command changed the state"

# Garbage on the admin socket: random bytes, then a 2 MB line.
python3 - "$SOCK" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
random = os.urandom(200000).replace(b"\n", b"")
s.sendall(random[:50000] + b"\n" + random[50000:] + b"\n\x00\x01\n")
s.settimeout(10)
data = b""
while data.count(b"\n") < 3:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
assert data.count(b"\n") >= 3 and b'"ok":false' in data, data[:200]
s.close()
# refused and closed at once: a sender still sending is not left
# blocked until the idle timeout (a minute) closes the connection
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.settimeout(10)
try:
    s.sendall(b"x" * (2 * 1024 * 1024))
except (BrokenPipeError, ConnectionResetError):
    pass
reply = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk: break
        reply += chunk
except (ConnectionResetError, socket.timeout):
    pass
assert b"line_too_long" in reply, reply[:200]
PY
kill -0 "$SCHED_PID" || fail "scheduler died on admin garbage"

# Garbage on the agent port: not even the SP handshake. Each connection
# is held until the scheduler closes it: then the garbage was read and
# refused, and only then is the scheduler's survival worth checking.
python3 - "$PORT" <<'PY' || fail "the agent port did not refuse garbage"
import os, socket, sys
def refused(step):
    try:
        step()
    except TimeoutError:  # a scheduler that never closes fails the test
        raise
    except OSError:  # closed or reset by the scheduler already
        pass
def drain(s):
    while s.recv(65536):
        pass
for size in (16, 4096, 2 * 1024 * 1024):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.settimeout(20)
    refused(lambda: s.sendall(os.urandom(size)))
    refused(lambda: s.shutdown(socket.SHUT_WR))
    refused(lambda: drain(s))
    s.close()
PY
kill -0 "$SCHED_PID" || fail "scheduler died on agent-port garbage"
spctl tenant list >/dev/null || fail "scheduler stopped answering"
[ "$before" = "$(snapshot)" ] || fail "garbage changed the state"

# An option before the positional means what it means after it (these
# lines once freed a word twice and killed the scheduler after the commit).
spctl tenant add --monthly-budget 5 beta >/dev/null ||
	fail "tenant add with an option before its name"
kill -0 "$SCHED_PID" || fail "scheduler died on an option before a positional"
[ "$(spctl --json tenant show beta | json tenant.budget.monthly)" = 5.00 ] ||
	fail "tenant add --monthly-budget 5 beta: $(spctl --json tenant show beta)"
spctl job add --executors 1 acme/prod/j -- app.jar >/dev/null ||
	fail "job add with an option before its name"
run=$(spctl run start --priority 5 acme/prod/j) || fail "run start --priority 5 JOB"
[ "$(spctl --json run show "$run" | json run.priority)" = 5 ] ||
	fail "run start --priority 5: $(spctl --json run show "$run")"
bad tenant add --weight 2 --weight 3 gamma "given twice"
bad run start --bogus 1 acme/prod/j "unknown option '--bogus'"
kill -0 "$SCHED_PID" || fail "scheduler died"
# Daemons refuse bad flags and config files with one clear line, exit 2.
daemon_bad() { # WANT CMD...
	local want=$1 out rc=0
	shift
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -eq 2 ] || fail "'$*' exited $rc, not 2"
	[[ "$(printf '%s\n' "$out" | head -n 1)" == *"$want"* ]] ||
		fail "'$*' said '$out', not '$want'"
}
printf 'data_dir = %s/x\nlisten_port = 7\n' "$T" >"$T/bad.conf"
daemon_bad "bad.conf:2: unknown setting 'listen_port'" \
	"$BIN/sparkpilot-scheduler" --config "$T/bad.conf"
daemon_bad "unknown option '--frob'" "$BIN/sparkpilot-scheduler" --frob 1
printf 'agent_ack_delay_us = 500000\n' >"$T/delay.conf"
daemon_bad "delay.conf:1: '500000' is out of range (0..100000)" \
	"$BIN/sparkpilot-scheduler" --config "$T/delay.conf" --data-dir "$T/y"
daemon_bad "must be a tcp:// or tls+tcp:// URL" \
	"$BIN/sparkpilot-scheduler" --listen http://x --data-dir "$T/y"
daemon_bad "needs tls_cert and tls_key" \
	"$BIN/sparkpilot-scheduler" --listen tls+tcp://127.0.0.1:1 --data-dir "$T/y"
daemon_bad "--slots: '-1' must not be negative" "$BIN/sparkpilot-agent" --slots -1
daemon_bad "needs tls_ca" "$BIN/sparkpilot-agent" --scheduler tls+tcp://h:1
printf 'slots = 2\nkill_grace_ms = soon\n' >"$T/agent.conf"
daemon_bad "agent.conf:2: 'soon' is not a number" "$BIN/sparkpilot-agent" --config "$T/agent.conf"
[ ! -e "$T/y" ] || fail "a refused scheduler left a data dir behind"

echo "bad input: ok"

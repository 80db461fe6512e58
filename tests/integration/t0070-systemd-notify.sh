#!/bin/bash
# The scheduler under systemd's notify protocol, with a datagram socket of
# the test's own as NOTIFY_SOCKET: STATUS lines while it starts, READY=1
# only once the admin socket answers, WATCHDOG=1 pings from the core
# thread at half of WATCHDOG_USEC, SIGHUP reading the config again
# (RELOADING=1 then READY=1; the log level at once, other changes named,
# a bad file refused and the process kept), and STOPPING=1 on SIGTERM.
. "$(dirname "$0")/lib.sh"

# listen SOCKET OUT: every datagram to SOCKET becomes a line of OUT
# (its newlines as '|').
listen() {
	python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg.replace("\n", "|") + "\n")
        out.flush()
PY
	PIDS+=($!)
	wait_until 10 test -S "$1" || fail "the notify socket $1 did not appear"
}
N=$T/notify.sock
listen "$N" "$T/notify.out"

# count MSG [FILE]: how many notifications contain MSG
count() {
	grep -c -- "$1" "${2:-$T/notify.out}" 2>/dev/null || true
}
# at_least MSG N [FILE]
at_least() {
	[ "$(count "$1" "${3:-}")" -ge "$2" ]
}
logged() {
	grep -q -- "$1" "$T/scheduler.log"
}

C=$T/sched.conf
echo 'log_level = info' >"$C"
PORT=$(free_port)
(
	export NOTIFY_SOCKET=$N WATCHDOG_USEC=400000 WATCHDOG_PID=$BASHPID
	exec "$BIN/sparkpilot-scheduler" --config "$C" --data-dir "$T/data" \
		--admin-socket "$SOCK" --listen "tcp://127.0.0.1:$PORT"
) >>"$T/scheduler.log" 2>&1 &
SCHED_PID=$!
SCHED_PIDS+=("$SCHED_PID")

wait_until 20 at_least 'READY=1' 1 || fail "no READY=1: $(cat "$T/notify.out")"
# ready means ready: the admin socket answers at once, no retry
spctl queue stats >/dev/null || fail "READY=1 before the admin socket answered"
head -n 3 "$T/notify.out" | grep -q '^STATUS=opening the store' ||
	fail "no STATUS while opening the store: $(cat "$T/notify.out")"
grep -q '^STATUS=0 runs loaded; opening the listeners' "$T/notify.out" ||
	fail "no STATUS after loading: $(cat "$T/notify.out")"
grep -q 'READY=1|STATUS=ready: 0 runs, 0 agents' "$T/notify.out" ||
	fail "READY=1 without its STATUS: $(cat "$T/notify.out")"
logged 'watchdog: the core thread pings every 200 ms' ||
	fail "the watchdog interval was not taken from WATCHDOG_USEC"
wait_until 20 at_least 'WATCHDOG=1' 5 || fail "fewer than 5 WATCHDOG=1 pings"

# SIGHUP: the log level at once
echo 'log_level = debug' >"$C"
kill -HUP "$SCHED_PID"
wait_until 10 logged 'reload: log_level info -> debug' ||
	fail "SIGHUP did not apply the log level"
wait_until 10 at_least 'READY=1|STATUS=ready; configuration read again' 1 ||
	fail "no READY=1 after the reload"
at_least 'RELOADING=1' 1 || fail "no RELOADING=1"
# a setting that needs a restart is named, the level stays
printf 'log_level = debug\nagent_timeout_ms = 9000\nmax_queued_total = 2\n' >"$C"
kill -HUP "$SCHED_PID"
wait_until 10 logged 'reload: agent_timeout_ms changed; it takes effect at the next restart' ||
	fail "a restart-only change was not named"
# a bad file is refused in one line, the scheduler keeps running
# a limit the core reads applies at once: the global queue limit
wait_until 10 logged 'reload: max_queued_total 5000000 -> 2' || fail "max_queued_total not applied"
logged 'reload: agent_timeout_ms changed' && ! logged 'reload: agent_timeout_ms 30000 -> 9000' ||
	fail "agent_timeout_ms was applied live"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl job add acme/prod/q -- --master 'local[2]' --conf spark.fake.duration=0.1 app.jar >/dev/null
spctl dispatch pause >/dev/null
spctl run start acme/prod/q >/dev/null
spctl run start acme/prod/q >/dev/null
if out=$(spctl run start acme/prod/q 2>&1); then
	fail "a third queued run was taken over max_queued_total = 2"
fi
grep -q 'busy\|global limit 2' <<<"$out" || fail "not refused by the new limit: $out"
spctl dispatch resume >/dev/null
echo 'bogus_key = 1' >>"$C"
kill -HUP "$SCHED_PID"
wait_until 10 logged "reload refused: $C:4: unknown setting 'bogus_key'; the running settings are kept" ||
	fail "a bad file was not refused: $(tail -3 "$T/scheduler.log")"
wait_until 10 at_least 'RELOADING=1' 3 || fail "three reloads, not three RELOADING=1"
spctl tenant list >/dev/null || fail "the scheduler stopped answering after a reload"
kill -0 "$SCHED_PID" || fail "SIGHUP stopped the scheduler"

# The agent (its own notify socket): READY=1 while it enrolls, its id in
# STATUS once enrolled, watchdog pings from its event loop, STOPPING=1;
# spark-submit does not inherit the variables.
AN=$T/agent-notify.sock
listen "$AN" "$T/agent-notify.out"
printf '#!/bin/sh\nenv | grep -c "^NOTIFY_SOCKET=\\|^WATCHDOG_" >"%s"\nexec "%s" "$@"\n' \
	"$T/child-env" "$FAKE_SPARK" >"$T/spark-submit-env"
chmod +x "$T/spark-submit-env"
tok=$(spctl agent token acme/prod)
AC=$T/agent.conf
echo 'log_level = info' >"$AC"
(
	export NOTIFY_SOCKET=$AN WATCHDOG_USEC=400000 WATCHDOG_PID=$BASHPID
	exec "$AGENT_BIN" --config "$AC" --scheduler "tcp://127.0.0.1:$PORT" \
		--state-dir "$T/agent" --enroll-token "$tok" \
		--spark-submit "$T/spark-submit-env"
) >>"$T/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
A=$T/agent-notify.out
wait_until 20 at_least 'STATUS=agent ag-' 1 "$A" || fail "agent: no STATUS with its id: $(cat "$A")"
head -n 1 "$A" | grep -q "^READY=1|STATUS=enrolling with tcp://127.0.0.1:$PORT" ||
	fail "agent: READY=1 did not come first: $(cat "$A")"
wait_until 20 at_least 'WATCHDOG=1' 5 "$A" || fail "agent: fewer than 5 WATCHDOG=1 pings"
# the agent told its build at enrollment: agent list shows it
v=$("$AGENT_BIN" --version | cut -d' ' -f2)
[ "$(spctl --json agent list | json items.0.version)" = "$v" ] ||
	fail "agent list: version $(spctl --json agent list | json items.0.version), not $v"
wait_until 20 test -s "$T/child-env" || fail "spark-submit never ran"
[ "$(cat "$T/child-env")" = 0 ] || fail "spark-submit inherited the notify variables"
# SIGHUP reads the agent's config again too, and does not stop it
agent_logged() {
	grep -q -- "$1" "$T/agent.log"
}
printf 'log_level = debug\nslots = 3\n' >"$AC"
kill -HUP "$AGENT_PID"
wait_until 10 agent_logged 'reload: log_level info -> debug' || fail "agent: SIGHUP did not apply the log level"
wait_until 10 agent_logged 'reload: slots changed; it takes effect at the next restart' ||
	fail "agent: a restart-only change was not named"
echo 'bogus = 1' >>"$AC"
kill -HUP "$AGENT_PID"
wait_until 10 agent_logged "reload refused: $AC:3: unknown setting 'bogus'" || fail "agent: a bad file was not refused"
wait_until 10 at_least 'RELOADING=1' 2 "$A" || fail "agent: no RELOADING=1"
# after a reload the status is the agent's again, not "reading ..."
wait_until 10 at_least 'READY=1|STATUS=agent ag-' 2 "$A" ||
	fail "agent: the reload did not end with READY=1 and its status: $(tail -3 "$A")"
kill -0 "$AGENT_PID" || fail "SIGHUP stopped the agent"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || fail "the agent exited with $?"
at_least 'STOPPING=1' 1 "$A" || fail "agent: no STOPPING=1"

# SIGTERM: STOPPING=1, exit 0
kill -TERM "$SCHED_PID"
wait "$SCHED_PID" || fail "the scheduler exited with $?"
at_least 'STOPPING=1' 1 || fail "no STOPPING=1"
echo "systemd notify: ok ($(count 'WATCHDOG=1') watchdog pings)"

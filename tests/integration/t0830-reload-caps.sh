#!/bin/bash
# t0830-reload-caps.sh - a reload (SIGHUP) applies new connection caps and
# timeouts at once: to connections from then on, and the deadlines to the
# connections already open; the caps in force show in `queue stats` and in
# the busy line a refused admin client reads. A cap lowered under what is
# open closes nothing.
source "$(dirname "$0")/lib.sh"

FLOOD=$BIN/sp-flood
C=$T/sched.conf
echo 'agent_auth_timeout_ms = 600000' >"$C"
start_scheduler --config "$C"

stats() { # stats FIELD.PATH: one field of queue stats
	spctl --json queue stats | json "$1"
}
is() { # is FIELD.PATH VALUE
	[ "$(stats "$1")" = "$2" ]
}
logged() {
	grep -q -- "$1" "$T/scheduler.log"
}
# flood N: N silent agent-port connections from 127.0.0.1, held until
# killed; waits until every one was tried
flood() {
	"$FLOOD" agent "127.0.0.1:$PORT" "$1" --seconds 120 >"$T/flood.log" 2>&1 &
	FLOOD_PID=$!
	PIDS+=("$FLOOD_PID")
	wait_until 30 grep -q "ready" "$T/flood.log" || fail "sp-flood did not get ready: $(cat "$T/flood.log")"
}
unflood() {
	kill -TERM "$FLOOD_PID"
	wait "$FLOOD_PID" || true
	wait_until 10 is agent_connections.open 0 || fail "flood connections still open"
}

# The defaults: 4 silent connections from one address are all held.
flood 4
wait_until 10 is agent_connections.open 4 || fail "open: $(stats agent_connections.open), not 4"
is agent_connections.shed 0 || fail "shed under the default caps"
unflood

# 2 per address: the third and fourth each shed the oldest silent one.
printf 'agent_auth_timeout_ms = 600000\nagent_conns_per_source = 2\n' >"$C"
kill -HUP "$SCHED_PID"
wait_until 10 logged 'reload: agent_conns_per_source 1000 -> 2' ||
	fail "the per-address cap was not applied: $(tail -3 "$T/scheduler.log")"
is agent_connections.per_address 2 || fail "queue stats: per_address $(stats agent_connections.per_address)"
flood 4
wait_until 10 is agent_connections.shed 2 || fail "shed: $(stats agent_connections.shed), not 2"
is agent_connections.open 2 || fail "open: $(stats agent_connections.open), not 2"
# A lower cap closes nothing already open; a shorter authentication
# deadline closes the silent ones admitted before it.
printf 'agent_auth_timeout_ms = 200\nagent_conns_per_source = 1\n' >"$C"
kill -HUP "$SCHED_PID"
wait_until 10 logged 'reload: agent_auth_timeout_ms 600000 -> 200' || fail "the deadline was not applied"
wait_until 10 is agent_connections.auth_timeouts 2 ||
	fail "auth_timeouts: $(stats agent_connections.auth_timeouts), not 2"
unflood

# An agent still enrolls and runs under the new caps.
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
start_agent a1 acme/prod
wait_env_ready acme/prod
spctl job add acme/prod/pi -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0.1 app.jar >/dev/null
r=$(spctl run start acme/prod/pi)
wait_run_state "$r" succeeded 60

# Caps past what the open files limit holds: clamped to it, and said so.
printf 'agent_auth_timeout_ms = 200\nagent_conns_per_source = 1\nagent_conns_max = 1000000\n' >"$C"
kill -HUP "$SCHED_PID"
wait_until 10 logged 'reload: agent_conns_max 10000 -> 1000000' || fail "agent_conns_max was not applied"
logged "the open files limit ($(ulimit -Hn)) holds" || fail "the clamp was not logged"
[ "$(stats agent_connections.limit)" -lt 1000000 ] || fail "the cap passed the open files limit"

# The admin socket's per-uid cap, for a user other than root.
if [ "$(id -u)" -ne 0 ]; then
	echo "t0830: admin per-uid cap skipped: needs root"
	echo "reload caps: ok"
	exit 0
fi
printf 'agent_auth_timeout_ms = 200\nagent_conns_per_source = 1\nadmin_conns_per_uid = 2\n' >"$C"
kill -HUP "$SCHED_PID"
wait_until 10 logged 'reload: admin_conns_per_uid 128 -> 2' || fail "the per-uid cap was not applied"
wait_until 10 is admin_connections.per_uid 2 || fail "queue stats: per_uid $(stats admin_connections.per_uid)"
# uid 65534 reaches the socket through group root
chmod 0750 "$T"
"$FLOOD" admin "$SOCK" 3 --uid 65534 --seconds 120 >"$T/flood-admin.log" 2>&1 &
FA=$!
PIDS+=("$FA")
wait_until 30 grep -q "ready" "$T/flood-admin.log" || fail "admin flood: $(cat "$T/flood-admin.log")"
wait_until 10 is admin_connections.refused 1 || fail "refused: $(stats admin_connections.refused), not 1"
if setpriv --reuid=65534 --regid=0 --clear-groups "$BIN/spctl" --socket "$SOCK" \
	queue stats >"$T/u.out" 2>&1; then
	fail "uid 65534 got a third admin connection"
fi
grep -q "too many admin connections (at most 2 per uid" "$T/u.out" ||
	fail "the busy line does not give the new cap: $(cat "$T/u.out")"
kill -TERM "$FA"
wait "$FA" || true
echo "reload caps: ok"

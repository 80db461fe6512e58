#!/bin/bash
# An idle agent's request for work waits at the scheduler for up to its
# idle_poll_ms (25 s by default). It gets a run the moment one is started;
# a stop (SIGTERM) does not wait for the poll, and its goodbye lets the
# request go, so nothing is leased to an agent that left; an agent killed
# (SIGKILL) has its request let go when its connection closes.
. "$(dirname "$0")/lib.sh"

start_with_agent
spctl job add acme/prod/quick -- --master 'local[1]' \
	--conf spark.fake.duration=0.1 app.jar >/dev/null
id=$(spctl --json agent list | json items.0.id)
waiting_is() { # true|false: for wait_until
	[ "$(spctl --json agent show "$id" | json agent.waiting_for_work)" = "$1" ]
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# Idle: the request waits at the scheduler, and a run started goes to it.
wait_until 30 waiting_is True || fail "the idle agent's request does not wait"
r=$(spctl run start acme/prod/quick)
wait_run_state "$r" succeeded 30

# SIGTERM while idle: the agent stops without waiting for its poll, and
# its request no longer waits (its goodbye heartbeat let it go).
wait_until 30 waiting_is True || fail "the agent did not wait for work again"
kill -TERM "$AGENT_PID_a1"
wait_until 15 gone "$AGENT_PID_a1" ||
	fail "the agent did not stop within 15 s of SIGTERM (its poll lasts 25 s)"
wait "$AGENT_PID_a1" 2>/dev/null || true
waiting_is False || fail "the stopped agent's request still waits for work"
r2=$(spctl run start acme/prod/quick)
[ "$(run_state "$r2")" = queued ] || fail "run $r2 went to the agent that left"

# Back (same state dir: same identity): it takes the queued run, then
# waits again; killed with SIGKILL, its connection closes and the
# scheduler lets its request go.
start_agent a1 acme/prod
wait_run_state "$r2" succeeded 30
wait_until 30 waiting_is True || fail "the restarted agent does not wait for work"
kill -KILL "$AGENT_PID_a1"
wait "$AGENT_PID_a1" 2>/dev/null || true
wait_until 10 waiting_is False ||
	fail "the killed agent's request still waits for work"
r3=$(spctl run start acme/prod/quick)
[ "$(run_state "$r3")" = queued ] || fail "run $r3 went to the killed agent"
start_agent a1 acme/prod
wait_run_state "$r3" succeeded 30
[ "$(spctl --json run show "$r3" | json run.leases_lost)" = 0 ] ||
	fail "run $r3 lost a lease: it was leased to the killed agent"
echo "idle poll: ok"
